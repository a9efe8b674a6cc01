/**
 * tfjs layers-model folders from strangers: model.json is parsed with bounded nesting, shards
 * must lie in the model's folder, and a model.json that is not an object is refused by name.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LimitError } from "../../src/models/io/limits.ts";
import { loadTfjsLayersModelFromDir } from "../../src/models/io/tfjs/node.ts";
import { tensor } from "../../src/ops/creation.ts";
import { tinyLayersModel } from "./tfjs-tiny.ts";

const root = mkdtempSync(join(tmpdir(), "salient-tfjs-"));

function modelDir(name: string, json: string, shards: Record<string, Uint8Array> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.json"), json);
  for (const [p, b] of Object.entries(shards)) writeFileSync(join(dir, p), b);
  return dir;
}

describe("tfjs model folders", () => {
  it("a well-formed folder loads and computes relu(W x + b) = (6, 3, 0)", () => {
    const { json, shard } = tinyLayersModel("w.bin");
    const model = loadTfjsLayersModelFromDir(modelDir("good", json, { "w.bin": shard }));
    expect(Array.from(model.call(tensor([2, 5], [1, 2, 1, 1])).dataSync())).toEqual([6, 3, 0]);
  });

  it("model.json nested 200000 deep is refused by the depth limit, naming the file", () => {
    const dir = modelDir("deep", `${"[".repeat(200000)}${"]".repeat(200000)}`);
    let error: unknown;
    try {
      loadTfjsLayersModelFromDir(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LimitError);
    expect((error as Error).message).toContain(join(dir, "model.json"));
    expect((error as Error).message).toMatch(/JSON nesting depth is 1001, over the limit of 1000/);
  });

  it("a shard path that climbs out of the folder or is absolute is refused, not read", () => {
    const secret = join(root, "secret.bin");
    writeFileSync(secret, new Uint8Array(36));
    for (const p of ["../secret.bin", secret]) {
      const { json } = tinyLayersModel(p);
      const dir = modelDir(`escape-${p.length}`, json);
      expect(() => loadTfjsLayersModelFromDir(dir)).toThrow(
        /leaves the model's folder; expected a file name next to model\.json/,
      );
    }
  });

  it("a model.json that is not an object, or not JSON, gets a message naming the file", () => {
    const nul = modelDir("null", "null");
    expect(() => loadTfjsLayersModelFromDir(nul)).toThrow(
      new RegExp(
        `${join(nul, "model.json").replace(/[.]/g, "\\.")}: model\\.json must be a JSON object`,
      ),
    );
    const text = modelDir("text", "{ not json");
    expect(() => loadTfjsLayersModelFromDir(text)).toThrow(/model\.json: not valid JSON/);
  });
});

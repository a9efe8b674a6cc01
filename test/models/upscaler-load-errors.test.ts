/** Loading an UpscalerJS model folder: damaged copies of esrgan-slim x4 are refused naming the file. */
import { cpSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { upscalerPackageDir } from "../../src/models/io/tfjs/node.ts";
import { RDN_MEDIUM, RDN_SLIM, Rdn } from "../../src/models/zoo/rdn.ts";
import { loadUpscalerModuleFrom } from "../../src/models/zoo/upscaler-node.ts";

const source = join(upscalerPackageDir("esrgan-slim"), "models", "x4");
const copy = () => {
  const dir = mkdtempSync(join(tmpdir(), "salient-upscaler-"));
  cpSync(source, dir, { recursive: true });
  return dir;
};
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));

describe("loadUpscalerModuleFrom", () => {
  test("loads the intact copy", () => {
    const m = loadUpscalerModuleFrom(copy(), () => new Rdn(4, RDN_SLIM));
    expect(m.parameters().length).toBeGreaterThan(0);
  });

  test("refuses a model.json that is not JSON, naming it", () => {
    const dir = copy();
    writeFileSync(join(dir, "model.json"), "{ not json");
    expect(() => loadUpscalerModuleFrom(dir, () => new Rdn(4, RDN_SLIM))).toThrow(
      `tfjs model ${join(dir, "model.json")}: not valid JSON`,
    );
  });

  test("refuses a truncated shard, naming the model", () => {
    const dir = copy();
    const shard = manifestOf(dir).weightsManifest[0].paths[0] as string;
    truncateSync(join(dir, shard), 1000);
    expect(() => loadUpscalerModuleFrom(dir, () => new Rdn(4, RDN_SLIM))).toThrow(
      join(dir, "model.json"),
    );
  });

  test("refuses weights whose shapes do not fit the architecture, naming the file and the key", () => {
    // Slim's dense blocks grow by G = 4 channels per conv; medium's by 64 (RDN_MEDIUM.G).
    const dir = copy();
    expect(() => loadUpscalerModuleFrom(dir, () => new Rdn(4, RDN_MEDIUM))).toThrow(
      `tfjs model ${join(dir, "model.json")}: loadStateDict`,
    );
    expect(() => loadUpscalerModuleFrom(dir, () => new Rdn(4, RDN_MEDIUM))).toThrow(
      `"F_1_1.weight": file has shape [4,64,3,3], model expects [${RDN_MEDIUM.G},64,3,3]`,
    );
  });
});

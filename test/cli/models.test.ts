/**
 * `salient models`: the listed counts and sizes must match the weight files and the modules built
 * from them, measured here independently of the listing.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { listModels, type ModelEntry, runModels } from "../../src/cli/models-list.ts";
import { loadFashionCnn } from "../../src/models/classifiers/fashion-cnn.ts";
import { upscalerPackageDir } from "../../src/models/io/tfjs/node.ts";
import { ARCHITECTURES } from "../../src/models/registry.ts";
import { loadFsrcnnX2 } from "../../src/models/zoo/fsrcnn-pretrained.ts";
import { loadUpscalerModule } from "../../src/models/zoo/upscaler-node.ts";

const WEIGHTS = join(import.meta.dirname, "..", "..", "src", "models", "weights");
const entries = listModels();

/**
 * FSRCNN(d 56, s 12, m 4), one channel: conv 5x5, shrink 1x1, four 3x3 maps, expand 1x1, deconv
 * 9x9 (weights + biases), plus one PReLU slope per channel of each activation.
 */
const FSRCNN_X2_COUNT =
  25 * 56 +
  56 +
  (56 * 12 + 12) +
  4 * (9 * 144 + 12) +
  (12 * 56 + 56) +
  (81 * 56 + 1) +
  (56 + 12 + 4 * 12 + 56);
const entry = (name: string, kind?: ModelEntry["kind"]) =>
  entries.find((e) => e.name === name && (!kind || e.kind === kind))!;

describe("salient models", () => {
  test("our trained weights: counts equal the loaded modules, sizes the files on disk", () => {
    const cnn = entry("fashion-cnn");
    // SmallCnn(16, 32) on 28x28: conv 1->16 3x3, conv 16->32 3x3, linear 32*7*7 -> 10 (+ biases).
    const cnnCount = 16 * 9 + 16 + (32 * 16 * 9 + 32) + (32 * 7 * 7 * 10 + 10);
    expect(cnn.parameters).toBe(cnnCount);
    expect(loadFashionCnn().parameterCount()).toBe(cnnCount);
    expect(cnn.bytes).toBe(statSync(join(WEIGHTS, "fashion-cnn.safetensors")).size);
    const sr = entry("fsrcnn-x2");
    expect(sr.parameters).toBe(FSRCNN_X2_COUNT);
    expect(loadFsrcnnX2().parameterCount()).toBe(FSRCNN_X2_COUNT);
    expect(sr.bytes).toBe(statSync(join(WEIGHTS, "fsrcnn-x2.safetensors")).size);
    expect(sr.scales).toEqual([2]);
    for (const e of [cnn, sr, entry("multi-fashion")]) expect(e.license).toBe("MIT");
  });

  test("UpscalerJS packages: the x4 module's count, the shard's size, the package's licence", () => {
    const e = entry("esrgan-slim");
    const root = upscalerPackageDir("esrgan-slim");
    // The values the x4 model.json's weights manifest declares, summed over its shapes.
    const manifest = JSON.parse(readFileSync(join(root, "models", "x4", "model.json"), "utf8"));
    let declared = 0;
    for (const group of manifest.weightsManifest)
      for (const w of group.weights) declared += w.shape.reduce((a: number, b: number) => a * b, 1);
    expect(e.parameters).toBe(declared);
    expect(loadUpscalerModule("esrgan-slim", 4).parameterCount()).toBe(declared);
    expect(e.bytes).toBe(statSync(join(root, "models", "x4", "group1-shard1of1.bin")).size);
    expect(e.license).toBe(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).license);
    expect(e.scales).toEqual([2, 3, 4, 8]);
    expect(entry("default-model").scales).toEqual([2]);
  });

  test("zoo architectures: every one listed, no file, bring a checkpoint", () => {
    const zoo = entries.filter((e) => e.kind === "zoo");
    expect(zoo.map((e) => e.name)).toEqual(Object.keys(ARCHITECTURES));
    for (const e of zoo) {
      expect(e.bytes).toBeNull();
      expect(e.license).toBe("architecture only, bring a checkpoint");
    }
    expect(entry("fsrcnn", "zoo").parameters).toBe(FSRCNN_X2_COUNT);
    expect(entry("edsr", "zoo").input).toBe("[N, 3, H, W] in [0, 255]");
  });

  test("--json prints the entries; the table has a header and one line per model", () => {
    let json = "";
    runModels(["--json"], (t) => {
      json += t;
    });
    expect(JSON.parse(json)).toEqual(entries);
    let table = "";
    runModels([], (t) => {
      table += t;
    });
    const lines = table.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+KIND\s+PARAMS\s+BYTES\s+SCALES\s+INPUT\s+LICENCE\s+SOURCE$/);
    expect(lines.length).toBe(entries.length + 1);
    expect(lines.find((l) => l.startsWith("fashion-cnn "))).toMatch(
      /^fashion-cnn\s+\S+\s+20,490\s/,
    );
  });
});

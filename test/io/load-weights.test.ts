/** The format-sniffing entry point and loading into modules with architecture checks. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  loadWeights,
  loadWeightsIntoModule,
  sniffWeightFormat,
} from "../../src/models/io/load-weights.ts";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import { Conv2d } from "../../src/models/nn/conv.ts";
import { BatchNorm2d } from "../../src/models/nn/norm.ts";
import { Sequential } from "../../src/models/nn/sequential.ts";

const DIR = join(import.meta.dirname, "..", "fixtures", "io");
const bytes = (n: string) => new Uint8Array(readFileSync(join(DIR, n)));
const torchValues = JSON.parse(readFileSync(join(DIR, "dataparallel.json"), "utf8")).tensors;

describe("loadWeights", () => {
  it("recognises each format from its bytes", () => {
    const st = writeSafetensors(new Map([["w", { shape: [1], values: Float32Array.from([2]) }]]));
    expect(sniffWeightFormat(st)).toBe("safetensors");
    expect(sniffWeightFormat(bytes("basic.pth"))).toBe("pytorch");
    expect(sniffWeightFormat(bytes("basic_legacy.pth"))).toBe("pytorch");
    expect(sniffWeightFormat(bytes("small_cnn.onnx"))).toBe("onnx");
    expect(() => sniffWeightFormat(new TextEncoder().encode("hello world"), "h.txt")).toThrow(
      /^h\.txt: unrecognised weight format \(expected safetensors, a PyTorch \.pth\/\.pt checkpoint or an ONNX model; first bytes 68 65 6c/,
    );
    expect(Array.from(loadWeights(st).get("w")!.values)).toEqual([2]);
  });

  it("passes the checkpoint options through (key, prefix)", () => {
    const w = loadWeights(bytes("basicsr.pth"), "basicsr.pth", { key: "params" });
    expect([...w.keys()]).toEqual(["body.0.weight", "body.0.bias"]);
    const kept = loadWeights(bytes("dataparallel.pth"), "dp.pth", { stripPrefix: false });
    expect([...kept.keys()][0]).toBe("module.0.weight");
  });
});

describe("loadWeightsIntoModule", () => {
  const net = () => new Sequential(new Conv2d(2, 3, 3), new BatchNorm2d(3));

  it("loads a DataParallel training checkpoint into the matching architecture", () => {
    const m = net();
    const report = loadWeightsIntoModule(m, bytes("dataparallel.pth"), "dp.pth");
    expect(report.ignored).toEqual(["1.num_batches_tracked"]);
    expect(report.missing).toEqual([]);
    for (const [k, v] of m.stateDict()) {
      const want = torchValues[`module.${k}`];
      expect(v.shape, k).toEqual(want.shape);
      expect(Array.from(v.dataSync()), k).toEqual(want.values.map(Math.fround));
    }
  });

  it("round-trips a module through safetensors", () => {
    const a = net();
    loadWeightsIntoModule(a, bytes("dataparallel.pth"), "dp.pth");
    const file = writeSafetensors(
      new Map(
        [...a.stateDict()].map(([k, v]) => [
          k,
          { shape: [...v.shape], values: Float32Array.from(v.dataSync()) },
        ]),
      ),
    );
    const b = net();
    expect(loadWeightsIntoModule(b, file, "net.safetensors").format).toBe("safetensors");
    for (const [k, v] of b.stateDict())
      expect(Array.from(v.dataSync()), k).toEqual(Array.from(a.stateDict().get(k)!.dataSync()));
  });

  it("refuses shape mismatches and assigns nothing", () => {
    const m = new Sequential(new Conv2d(2, 4, 3), new BatchNorm2d(4));
    const before = Array.from(m.stateDict().get("0.weight")!.dataSync());
    expect(() => loadWeightsIntoModule(m, bytes("dataparallel.pth"), "dp.pth")).toThrow(
      /^dp\.pth: loadStateDict: \d+ problem\(s\): "0\.weight": file has shape \[3,2,3,3\], model expects \[4,2,3,3\]/,
    );
    expect(Array.from(m.stateDict().get("0.weight")!.dataSync())).toEqual(before);
  });

  it("reports unexpected and missing keys (strict), or lists them (non-strict)", () => {
    const small = new Sequential(new Conv2d(2, 3, 3));
    expect(() => loadWeightsIntoModule(small, bytes("dataparallel.pth"), "dp.pth")).toThrow(
      /^dp\.pth: .*unexpected key "1\.weight"/,
    );
    const report = loadWeightsIntoModule(small, bytes("dataparallel.pth"), "dp.pth", {
      strict: false,
    });
    expect(report.loaded.sort()).toEqual(["0.bias", "0.weight"]);
    expect(report.unexpected.sort()).toEqual([
      "1.bias",
      "1.running_mean",
      "1.running_var",
      "1.weight",
    ]);
    const big = new Sequential(new Conv2d(2, 3, 3), new BatchNorm2d(3), new Conv2d(3, 1, 1));
    expect(() => loadWeightsIntoModule(big, bytes("dataparallel.pth"), "dp.pth")).toThrow(
      /missing key "2\.weight"/,
    );
    expect(
      loadWeightsIntoModule(big, bytes("dataparallel.pth"), "dp.pth", {
        strict: false,
      }).missing.sort(),
    ).toEqual(["2.bias", "2.weight"]);
  });
});

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
  test("loads the intact copy: every Keras kernel HWIO -> OIHW and bias, bit for bit", () => {
    const dir = copy();
    const m = loadUpscalerModuleFrom(dir, () => new Rdn(4, RDN_SLIM));
    // Decode the shard by hand: the manifest lists float32 tensors stored back to back.
    const group = manifestOf(dir).weightsManifest[0];
    expect(group.paths).toHaveLength(1);
    const bytes = readFileSync(join(dir, group.paths[0]));
    const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const state = m.stateDict();
    let offset = 0;
    const seen: string[] = [];
    for (const { name, shape, dtype } of group.weights as {
      name: string;
      shape: number[];
      dtype: string;
    }[]) {
      expect(dtype).toBe("float32");
      const size = shape.reduce((a, b) => a * b, 1);
      const stored = floats.subarray(offset, offset + size);
      offset += size;
      const [layer, kind] = name.split("/");
      const key = `${layer}.${kind === "kernel" ? "weight" : "bias"}`;
      seen.push(key);
      const got = state.get(key)!.dataSync();
      let want: Float32Array = stored;
      if (kind === "kernel") {
        // Keras [kh, kw, in, out] -> PyTorch [out, in, kh, kw]
        const [kh, kw, cin, cout] = shape;
        expect(state.get(key)!.shape).toEqual([cout, cin, kh, kw]);
        want = new Float32Array(size);
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++)
            for (let i = 0; i < cin; i++)
              for (let o = 0; o < cout; o++)
                want[((o * cin + i) * kh + y) * kw + x] =
                  stored[((y * kw + x) * cin + i) * cout + o];
      }
      expect(Array.from(got), key).toEqual(Array.from(want));
    }
    expect(offset * 4).toBe(bytes.byteLength);
    expect(seen.sort()).toEqual([...state.keys()].sort());
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

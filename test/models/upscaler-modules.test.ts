/**
 * Rdn and Rrdn (the UpscalerJS architectures as zoo modules) against the tfjs graph import of the
 * same package, which tfjs-layers.test.ts checks against TensorFlow.js itself.
 */
import { describe, expect, test } from "vitest";
import { tidy } from "../../src/autodiff/tidy.ts";
import { loadUpscalerModel } from "../../src/models/io/tfjs/node.ts";
import { withTaps } from "../../src/models/nn/taps.ts";
import { loadUpscalerModule } from "../../src/models/zoo/upscaler-node.ts";
import { randomUniform } from "../../src/ops/creation.ts";

const CASES = [
  ["default-model", 2, 10],
  ["esrgan-slim", 3, 9],
  ["esrgan-medium", 4, 8],
  ["esrgan-thick", 4, 4],
] as const;

describe("UpscalerJS packages as Rdn/Rrdn modules", () => {
  for (const [pkg, scale, size] of CASES) {
    test(`${pkg} x${scale} equals the graph import`, () => {
      const graph = loadUpscalerModel(pkg, scale);
      const module = loadUpscalerModule(pkg, scale);
      // Same parameters, under the Keras layer names.
      expect(module.parameterCount()).toBe(graph.model.parameterCount());
      expect([...module.stateDict().keys()].sort()).toEqual(
        [...graph.model.stateDict().keys()].sort(),
      );
      tidy(() => {
        const x = randomUniform([1, 3, size, size], { seed: 7, low: 0, high: graph.range[1] });
        const a = module.call(x).dataSync();
        const b = graph.model.call(x).dataSync();
        expect(a.length).toBe(3 * size * size * scale * scale);
        let err = 0;
        let ref = 0;
        for (let i = 0; i < a.length; i++) {
          err = Math.max(err, Math.abs(a[i] - b[i]));
          ref = Math.max(ref, Math.abs(b[i]));
        }
        expect(err / ref).toBeLessThan(1e-5);
      });
    });
  }

  test("Keras layer outputs are tappable by name in both forms", () => {
    const module = loadUpscalerModule("esrgan-slim", 2);
    const graph = loadUpscalerModel("esrgan-slim", 2).model;
    tidy(() => {
      const x = randomUniform([1, 3, 5, 5], { seed: 1, low: 0, high: 255 });
      const seen: Record<string, Float32Array> = {};
      const record = (tag: string) => (t: import("../../src/autodiff/tensor.ts").Tensor) => {
        seen[tag] = t.dataSync() as Float32Array;
        return t;
      };
      withTaps({ FDF: record("module") }, () => module.call(x));
      withTaps({ FDF: record("graph") }, () => graph.call(x));
      expect(seen.module.length).toBe(64 * 25);
      expect(Array.from(seen.module)).toEqual(Array.from(seen.graph));
    });
  });
});

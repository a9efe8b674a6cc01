/**
 * HAT against PyTorch: the official module structure re-written in
 * scripts/fixtures/make_hat_fixtures.py, its state dict loaded by key name (strict), forward
 * output and input gradient compared on an image that needs reflection padding.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { vjp } from "../../src/autodiff/grad.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { readSafetensors } from "../../src/models/io/safetensors.ts";
import { Hat, overlapRelativePositionIndex } from "../../src/models/zoo/hat.ts";
import { tensor } from "../../src/ops/creation.ts";

const dir = join(import.meta.dirname, "../fixtures/sr-transformers");

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  return e;
};

describe("HAT", () => {
  test("x2 with CAB and OCAB matches PyTorch (forward and input gradient)", () => {
    const f = readSafetensors(new Uint8Array(readFileSync(join(dir, "hat-x2.safetensors"))));
    const state = new Map(
      [...f].filter(([k]) => k.startsWith("model.")).map(([k, v]) => [k.slice(6), v]),
    );
    const net = new Hat(2, {
      embedDim: 12,
      depths: [2, 1],
      numHeads: [2, 3],
      windowSize: 4,
      compressRatio: 3,
      squeezeFactor: 4,
      convScale: 0.5,
      overlapRatio: 0.5,
      mlpRatio: 2,
      numFeat: 8,
    }).eval();
    net.loadStateDict(state); // strict: every official key, and only those
    const t = (k: string) => tensor(f.get(k)!.values, f.get(k)!.shape);
    tidy(() => {
      const { value, grads } = vjp((z) => net.call(z), [t("input")], t("cotangent"));
      expect(value.shape).toEqual(f.get("output")!.shape);
      expect(maxAbsDiff(value.dataSync(), f.get("output")!.values)).toBeLessThan(2e-5);
      const gWant = f.get("input_grad")!.values;
      const scale = Math.max(...Array.from(gWant, Math.abs));
      expect(maxAbsDiff(grads[0].dataSync(), gWant) / scale).toBeLessThan(1e-4);
    });
  });

  test("overlap index by hand: window 2, overlap window 4 (table 5x5)", () => {
    const idx = overlapRelativePositionIndex(2, 4);
    // query (0,0), key (0,0): dy = dx = 0 + 2 - 4 + 1 = -1 -> -1 * 5 - 1 = -6
    expect(idx[0]).toBe(-6);
    // query (1,1) (row 3), key (3,3) (column 15): dy = dx = 3 - 1 - 1 = 1 -> 1 * 5 + 1 = 6
    expect(idx[3 * 16 + 15]).toBe(6);
    // query (0,1) (row 1), key (2,0) (column 8): dy = 2 - 0 - 1 = 1, dx = 0 - 1 - 1 = -2 -> 3
    expect(idx[1 * 16 + 8]).toBe(3);
  });

  test("bad configurations name what was wrong", () => {
    expect(() => new Hat(2, { embedDim: 12, depths: [1], numHeads: [5] })).toThrow(
      /divisible by every numHeads/,
    );
    expect(
      () =>
        new Hat(2, { embedDim: 12, depths: [1], numHeads: [2], windowSize: 4, overlapRatio: 0.25 }),
    ).toThrow(/even integer/);
    expect(
      () =>
        new Hat(2, {
          embedDim: 12,
          depths: [1],
          numHeads: [2],
          compressRatio: 3,
          squeezeFactor: 30,
        }),
    ).toThrow(/squeezeFactor 30 leaves no channel/);
  });
});

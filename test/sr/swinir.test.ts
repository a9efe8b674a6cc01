/**
 * SwinIR against PyTorch: the official module structure re-written in
 * scripts/fixtures/make_sr_transformer_fixtures.py, its state dict loaded by key name, forward
 * output and input gradient compared (classical x2 with reflection padding and masks computed
 * for a size other than the training patch; lightweight x3 with the one-step upsampler).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { vjp } from "../../src/autodiff/grad.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { readSafetensors } from "../../src/models/io/safetensors.ts";
import {
  relativePositionIndex,
  SwinIr,
  type SwinIrConfig,
  shiftedWindowMask,
} from "../../src/models/zoo/swinir.ts";
import { tensor } from "../../src/ops/creation.ts";

const dir = join(import.meta.dirname, "../fixtures/sr-transformers");

function check(file: string, scale: number, config: Partial<SwinIrConfig>) {
  const f = readSafetensors(new Uint8Array(readFileSync(join(dir, file))));
  const state = new Map(
    [...f].filter(([k]) => k.startsWith("model.")).map(([k, v]) => [k.slice(6), v]),
  );
  const net = new SwinIr(scale, config).eval();
  net.loadStateDict(state); // strict: every official key, and only those
  const t = (k: string) => tensor(f.get(k)!.values, f.get(k)!.shape);
  tidy(() => {
    const x = t("input");
    const { value, grads } = vjp((z) => net.call(z), [x], t("cotangent"));
    expect(value.shape).toEqual(f.get("output")!.shape);
    const want = f.get("output")!.values;
    const got = value.dataSync();
    let err = 0;
    want.forEach((v, i) => {
      err = Math.max(err, Math.abs(v - got[i]));
    });
    expect(err).toBeLessThan(2e-5);
    const gWant = f.get("input_grad")!.values;
    const gGot = grads[0].dataSync();
    const scaleG = Math.max(...Array.from(gWant, Math.abs));
    let gErr = 0;
    gWant.forEach((v, i) => {
      gErr = Math.max(gErr, Math.abs(v - gGot[i]));
    });
    expect(gErr / scaleG).toBeLessThan(1e-4);
  });
}

describe("SwinIR", () => {
  test("classical x2 matches PyTorch (forward and input gradient)", () => {
    check("swinir-classical-x2.safetensors", 2, {
      embedDim: 12,
      depths: [2, 2],
      numHeads: [2, 3],
      windowSize: 4,
      mlpRatio: 2,
      imgSize: 8,
      upsampler: "pixelshuffle",
      numFeat: 8,
    });
  });

  test("lightweight x3 (one-step upsampler) matches PyTorch", () => {
    check("swinir-lightweight-x3.safetensors", 3, {
      embedDim: 8,
      depths: [2],
      numHeads: [2],
      windowSize: 4,
      mlpRatio: 2,
      imgSize: 8,
      upsampler: "pixelshuffledirect",
    });
  });

  test("relative positions and shifted-window masks by hand", () => {
    // window 2: positions (0,0) (0,1) (1,0) (1,1); table rows (dy + 1) * 3 + (dx + 1)
    expect([...relativePositionIndex(2)]).toEqual([4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4]);
    // 4x4 image, window 2, shift 1: the last window mixes the four regions of the rolled image
    const m = shiftedWindowMask(4, 4, 2, 1);
    expect([...m.subarray(0, 16)].every((v) => v === 0)).toBe(true); // window (0,0): one region
    const last = [...m.subarray(3 * 16, 4 * 16)];
    // positions (2,2) (2,3) (3,2) (3,3) fall in regions 0, 1, 3, 4: only the diagonal is 0
    last.forEach((v, k) => expect(v).toBe(Math.floor(k / 4) === k % 4 ? 0 : -100));
  });

  test("bad configurations name what was wrong", () => {
    expect(() => new SwinIr(2, { embedDim: 10, numHeads: [3], depths: [1] })).toThrow(
      /divisible by every numHeads/,
    );
    expect(() => new SwinIr(2, { depths: [1, 1], numHeads: [2] })).toThrow(/same length/);
    expect(
      () => new SwinIr(5, { embedDim: 8, depths: [1], numHeads: [2], upsampler: "pixelshuffle" }),
    ).toThrow(/scale 5 is not supported/);
  });
});

/**
 * Tensors derived from a weight alone are kept with the weight's storage (derived-from-weight.ts):
 * an upsample + conv merges its kernel's taps once per weight instead of once per call. The
 * expectations: outputs and gradients equal a float64 conv of the nearest-upsampled image (written
 * here from the definitions), the merge ops run once, a changed weight (Variable.assign) is never
 * served a stale merge, a watched weight gets its gradient, and freeing the weight frees what was
 * derived from it.
 */
import { describe, expect, test } from "vitest";
import { derivedFromWeight } from "../src/autodiff/derived-from-weight.ts";
import { profileOps } from "../src/autodiff/profile.ts";
import type { Tensor } from "../src/autodiff/tensor.ts";
import {
  grad,
  memory,
  mul,
  nearestUpsampleConv2d,
  reshape,
  sum,
  tensor,
  tidy,
  Variable,
  variableGrads,
} from "../src/index.ts";
import { type Nd, nd } from "./reference/nd.ts";
import { conv2dRef } from "./reference/nn.ts";
import { Rng } from "./reference/rng.ts";

const r = new Rng(21);
const values = (n: number) => Array.from({ length: n }, () => r.uniform(-1, 1));

/** x [N, C, H, W] repeated `s` times along both spatial axes, in float64. */
function upsampleRef(x: Nd, s: number): Nd {
  const [n, c, h, w] = x.shape;
  const out = nd([n, c, h * s, w * s]);
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < h * s; y++)
      for (let i = 0; i < w * s; i++)
        out.data[(p * h * s + y) * w * s + i] =
          x.data[(p * h + Math.floor(y / s)) * w + Math.floor(i / s)];
  return out;
}

/** conv 3x3 'same' of upsample(x, 2) with weight w, in float64. */
function upsampleConvRef(x: Nd, w: Nd): Nd {
  const p = { stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1 } as const;
  return conv2dRef(upsampleRef(x, 2), w, p, null);
}

/**
 * Every product of the 'same' 3x3 conv of an upsampled [2, 4, 10, 12] image: `visit(dy index,
 * w index, upsampled-image index)` for each output, kernel tap and input channel whose tap lands
 * inside the image. Both gradients are sums over these: dw of dy x up, d(up) of dy x w.
 */
function eachProduct(outC: number, visit: (dyAt: number, wAt: number, upAt: number) => void) {
  for (let n = 0; n < 2; n++)
    for (let o = 0; o < outC; o++)
      for (let c = 0; c < 4; c++)
        for (let ky = 0; ky < 3; ky++)
          for (let kx = 0; kx < 3; kx++)
            for (let y = 0; y < 10; y++)
              for (let i = 0; i < 12; i++) {
                const yy = y + ky - 1;
                const xx = i + kx - 1;
                if (yy < 0 || yy >= 10 || xx < 0 || xx >= 12) continue;
                visit(
                  ((n * outC + o) * 10 + y) * 12 + i,
                  ((o * 4 + c) * 3 + ky) * 3 + kx,
                  ((n * 4 + c) * 10 + yy) * 12 + xx,
                );
              }
}

const toNd = (shape: number[], v: ArrayLike<number>) => nd(shape, v);
const f32 = (t: Tensor) => Array.from(t.dataSync());
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 2e-5): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst).toBeLessThan(tol);
}

// 16 output channels: the per-phase path (one conv per phase, each with its own window of taps).
for (const outC of [16, 3]) {
  describe(`upsample x2 + conv 3x3, ${outC} output channels (${outC >= 16 ? "per-phase convs" : "one merged conv"})`, () => {
    const xShape = [2, 4, 5, 6];
    const wShape = [outC, 4, 3, 3];
    const xv = values(2 * 4 * 5 * 6);
    const wv = values(outC * 4 * 9);
    const run = (x: Tensor, w: Tensor) => nearestUpsampleConv2d(x, w, 2, { padding: 1 });

    test("the merge runs on the first call only, and every call equals the float64 reference", async () => {
      const x = tensor(xv, xShape);
      const w = new Variable(tensor(wv, wShape), "w");
      const want = upsampleConvRef(toNd(xShape, xv), toNd(wShape, wv)).data;
      const first = await profileOps(() => tidy(() => f32(run(x, w))));
      const second = await profileOps(() => tidy(() => f32(run(x, w))));
      expectClose(first.value, want);
      expectClose(second.value, want);
      expect(second.value).toEqual(first.value);
      const count = (rows: { op: string; phase: string; count: number }[], op: string) =>
        rows.find((row) => row.phase === "forward" && row.op === op)?.count ?? 0;
      // mergeTaps: three transposes and two pads; then only the conv(s) and, below 16 output
      // channels, the pixel shuffle's transpose.
      const shuffles = outC >= 16 ? 0 : 1;
      expect(count(first.profile.rows, "transpose")).toBe(3 + shuffles);
      expect(count(first.profile.rows, "pad")).toBe(2);
      expect(count(second.profile.rows, "transpose")).toBe(shuffles);
      expect(count(second.profile.rows, "pad")).toBe(0);
      w.dispose();
      x.dispose();
    });

    test("a weight given new values (Variable.assign) is merged again, never served the old merge", () => {
      const x = tensor(xv, xShape);
      const w = new Variable(tensor(wv, wShape), "w");
      tidy(() => f32(run(x, w)));
      const wv2 = wv.map((v, i) => (i % 3 === 0 ? -2 * v : v + 0.25));
      w.assign(tensor(wv2, wShape));
      const want = upsampleConvRef(toNd(xShape, xv), toNd(wShape, wv2)).data;
      expectClose(
        tidy(() => f32(run(x, w))),
        want,
      );
      w.dispose();
      x.dispose();
    });

    test("a watched weight gets its gradient (the merge is on the tape), before and after a cached call", () => {
      const x = tensor(xv, xShape);
      const w = new Variable(tensor(wv, wShape), "w");
      const dyv = values(2 * outC * 10 * 12);
      const dy = tensor(dyv, [2, outC, 10, 12]);
      // d/dw sum(dy * conv(up(x), w)) = correlation of up(x) with dy, in float64.
      const up = upsampleRef(toNd(xShape, xv), 2);
      const want = new Float64Array(outC * 4 * 9);
      eachProduct(outC, (dyAt, wAt, upAt) => {
        want[wAt] += dyv[dyAt] * up.data[upAt];
      });
      const gradOf = () =>
        tidy(() => {
          const { grads } = variableGrads(() => sum(mul(run(x, w), dy)), [w]);
          return f32(grads.get(w) as Tensor);
        });
      expectClose(gradOf(), want, 1e-4);
      tidy(() => f32(run(x, w))); // a forward with the weight unwatched: the merge is kept
      expectClose(gradOf(), want, 1e-4);
      // And the input gradient under a tape that watches x only takes the kept merge: equal to
      // the adjoint, sum over the 2x2 block each input pixel was copied to of the conv's adjoint.
      const gx = tidy(() => f32(grad((xt: Tensor) => sum(mul(run(xt, w), dy)))(x)));
      const gw = toNd(wShape, wv);
      const gUp = new Float64Array(2 * 4 * 10 * 12);
      eachProduct(outC, (dyAt, wAt, upAt) => {
        gUp[upAt] += dyv[dyAt] * gw.data[wAt];
      });
      const gxWant = new Float64Array(2 * 4 * 5 * 6);
      for (let p = 0; p < 8; p++)
        for (let y = 0; y < 10; y++)
          for (let i = 0; i < 12; i++)
            gxWant[(p * 5 + (y >> 1)) * 6 + (i >> 1)] += gUp[(p * 10 + y) * 12 + i];
      expectClose(gx, gxWant, 1e-4);
      for (const t of [w, x, dy]) t.dispose();
    });

    test("disposing the weight frees the merge kept with it", () => {
      const x = tensor(xv, xShape);
      const before = memory();
      const w = tensor(wv, wShape);
      tidy(() => f32(run(x, w)));
      expect(memory().tensors).toBeGreaterThan(before.tensors + 1); // w and its merge
      w.dispose();
      expect(memory()).toEqual(before);
      x.dispose();
    });
  });
}

describe("derivedFromWeight", () => {
  test("keys by storage, shape and key; a reshape view of the same weight is derived apart", () => {
    const w = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    let made = 0;
    const double = (t: Tensor) => () => {
      made++;
      return [mul(t, tensor([2], [1]))];
    };
    const a = derivedFromWeight(w, "double", double(w));
    const b = derivedFromWeight(w, "double", double(w));
    expect(b[0]).toBe(a[0]);
    expect(made).toBe(1);
    expect(f32(a[0])).toEqual([2, 4, 6, 8, 10, 12]);
    const v = reshape(w, [3, 2]);
    const c = derivedFromWeight(v, "double", double(v));
    expect(made).toBe(2);
    expect(c[0].shape).toEqual([3, 2]);
    derivedFromWeight(w, "other", double(w));
    expect(made).toBe(3);
    v.dispose();
    const before = memory().tensors;
    w.dispose(); // the last holder of the storage: the three derived tensors go with it
    expect(memory().tensors).toBe(before - 4);
  });

  test("a result that views the weight's own storage is not kept (it would keep the weight alive)", () => {
    const before = memory();
    const w = tensor([1, 2, 3, 4], [4]);
    let made = 0;
    const view = () => {
      made++;
      return [reshape(w, [2, 2])];
    };
    tidy(() => {
      derivedFromWeight(w, "view", view);
    });
    tidy(() => {
      derivedFromWeight(w, "view", view);
    });
    expect(made).toBe(2);
    w.dispose();
    expect(memory()).toEqual(before);
  });
});

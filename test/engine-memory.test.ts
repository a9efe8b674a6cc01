/**
 * Peak memory of the path methods: LAM and integrated gradients evaluate path steps in batches,
 * so the most live tensor bytes at any moment depend on the batch size and not on the number of
 * steps, and everything made is freed at the end. The expected bounds come from the models' layer
 * shapes (bytes of every activation one image produces), not from measured numbers.
 */
import { describe, expect, test } from "vitest";
import { lam } from "../src/attribution/lam/lam.ts";
import { integratedGradients } from "../src/attribution/methods/integrated-gradients.ts";
import { customGrad } from "../src/autodiff/custom-grad.ts";
import { grad } from "../src/autodiff/grad.ts";
import type { Tensor } from "../src/autodiff/tensor.ts";
import { keep, memory, tidy, trackPeakBytes } from "../src/autodiff/tidy.ts";
import {
  add,
  conv2d,
  globalAvgPool2d,
  matmul,
  maxPool2d,
  randomNormal,
  randomUniform,
  relu,
  reshape,
  sin,
  sum,
  tensor,
  upsample,
} from "../src/index.ts";
import {
  allocF32,
  pooledBufferBytes,
  recycle,
  setBufferPoolLimit,
} from "../src/kernels/cpu/buffers.ts";

const F32 = 4;
const bytesOf = (shapes: number[][]) =>
  shapes.reduce((s, shape) => s + F32 * shape.reduce((a, b) => a * b, 1), 0);

describe("memory accounting", () => {
  test("memory().bytes counts live storage; trackPeakBytes sees the high-water mark", () => {
    const before = memory();
    const x = tensor(new Float32Array(1000), [1000]);
    expect(memory().bytes - before.bytes).toBe(4000);
    const r = trackPeakBytes(() =>
      tidy(() => {
        // Three 4000-byte tensors alive at once at the peak (x, a, b), then a is freed.
        const a = add(x, x);
        const b = add(a, a);
        return keep(add(b, b));
      }),
    );
    expect(r.startBytes - before.bytes).toBe(4000);
    // x + a + b + the result: 16000 at the moment the last add's output is made.
    expect(r.peakBytes - before.bytes).toBe(16000);
    expect(memory().bytes - before.bytes).toBe(8000);
    x.dispose();
    r.value.dispose();
    expect(memory()).toEqual(before);
  });

  test("the reverse sweep frees each forward activation once no earlier op needs it", () => {
    // x -> a1 = sin(x) -> ... -> a8 -> probe -> sum. sin's rule needs its input, so during the
    // sweep a_k lives until sin_k's rule (which reads a_{k-1}) has run. The probe sits at the
    // end, so its rule runs first: all 8 activations are live then. An identity with a probe at
    // the start instead runs last: by then every a_k and every rule's temporaries (cos a_k) have
    // been freed, leaving (besides x) the probe's output a0 and its cotangent dy, whatever the
    // depth.
    const n = 4096;
    const S = 4 * n;
    const x = tensor(new Float32Array(n).fill(0.5), [n]);
    const liveAtProbe = (probeFirst: boolean) => {
      let seen = Number.NaN;
      const probe = customGrad(
        (t: Tensor) => ({ value: add(t, 0) }),
        (dy) => {
          seen = memory().bytes;
          return [add(dy, 0)];
        },
      );
      const base = memory().bytes;
      const f = (t: Tensor) => {
        let a = probeFirst ? probe(t) : t;
        for (let k = 0; k < 8; k++) a = sin(a);
        return sum(probeFirst ? a : probe(a));
      };
      tidy(() => grad(f)(x)).dispose();
      expect(memory().bytes).toBe(base);
      return (seen - base) / S;
    };
    // Probe last: 8 activations + the probe's output + dy (its input is a8, counted already).
    expect(liveAtProbe(false)).toBeGreaterThanOrEqual(9);
    // Probe first: a0 and dy (and sum's 4-byte output).
    expect(liveAtProbe(true)).toBeLessThan(2.01);
    x.dispose();
  });

  test("trackPeakBytes nests and works with async functions", async () => {
    const before = memory().bytes;
    const outer = await trackPeakBytes(async () => {
      const inner = trackPeakBytes(() =>
        tidy(() => {
          const t = tensor(new Float32Array(500), [500]);
          return add(t, t);
        }),
      );
      expect(inner.peakBytes - inner.startBytes).toBe(4000);
      inner.value.dispose();
      await Promise.resolve();
      return 0;
    });
    // The inner scope's peak is also the outer one's.
    expect(outer.peakBytes - before).toBe(4000);
    expect(memory().bytes).toBe(before);
  });
});

describe("CPU buffer pool", () => {
  test("a recycled array comes back zeroed for the same length, and the limit holds", () => {
    const a = allocF32(8192);
    a.fill(7);
    const held = pooledBufferBytes();
    recycle(a);
    expect(pooledBufferBytes()).toBe(held + a.byteLength);
    const b = allocF32(8192);
    expect(b).toBe(a);
    expect(b.every((v) => v === 0)).toBe(true);
    // Small arrays and views into larger buffers are never pooled.
    recycle(new Float32Array(16));
    recycle(new Float32Array(new ArrayBuffer(65536 * 4), 4, 8192));
    expect(pooledBufferBytes()).toBe(held);
    recycle(b);
    expect(setBufferPoolLimit(0)).toBe(0);
    recycle(allocF32(8192));
    expect(pooledBufferBytes()).toBe(0);
    setBufferPoolLimit(null);
  });

  test("tensors freed by the backend feed the pool without changing results", () => {
    const x = randomUniform([1, 8, 32, 32], { seed: 9 });
    const w = randomNormal([8, 8, 3, 3], { seed: 10 });
    const run = () =>
      tidy(() => Array.from(relu(conv2d(upsample(x, 2), w, { padding: 1 })).dataSync()));
    const first = run();
    // The second run's kernels get the first run's (dirty) freed arrays back, zeroed.
    expect(run()).toEqual(first);
    x.dispose();
    w.dispose();
  });

  test("dataSync's copy may be a recycled array, and stays the caller's alone", () => {
    const n = 8192;
    const freed = tensor(
      Array.from({ length: n }, () => 5),
      [n],
    );
    const freedArray = freed.dataSync();
    freed.dispose(); // its storage goes to the pool
    const t = tensor(
      Array.from({ length: n }, (_, i) => i),
      [n],
    );
    const read = t.dataSync() as Float32Array;
    expect(Array.from(read.subarray(0, 4))).toEqual([0, 1, 2, 3]);
    expect(read[n - 1]).toBe(n - 1);
    expect(read).not.toBe(freedArray);
    read.fill(-1); // the caller's copy: the tensor keeps its values
    expect(t.dataSync()[n - 1]).toBe(n - 1);
    // A later kernel does not get the array handed out, so the caller's values stay put.
    const u = tidy(() => add(t, t));
    read[0] = 42;
    expect(u.dataSync()[1]).toBe(2);
    expect(read[0]).toBe(42);
    t.dispose();
    u.dispose();
  });
});

// --- A small conv SR network (x2) for LAM. ---
const LR = 12;
const FEAT = 16;
const wSr1 = keep(randomNormal([FEAT, 3, 3, 3], { seed: 1, std: 0.3 }));
const wSr2 = keep(randomNormal([FEAT, FEAT, 3, 3], { seed: 2, std: 0.1 }));
const wSr3 = keep(randomNormal([3, FEAT, 3, 3], { seed: 3, std: 0.1 }));
const srNet = (x: Tensor) => {
  const h1 = relu(conv2d(x, wSr1, { padding: 1 }));
  const h2 = relu(conv2d(h1, wSr2, { padding: 1 }));
  return conv2d(upsample(h2, 2), wSr3, { padding: 1 });
};
/** Every activation one LR image makes in srNet (upsampling is two axis maps: H, then W). */
const srActivationBytes = bytesOf([
  [FEAT, LR, LR], // conv 1
  [FEAT, LR, LR], // relu 1
  [FEAT, LR, LR], // conv 2
  [FEAT, LR, LR], // relu 2
  [FEAT, 2 * LR, LR], // upsample along H
  [FEAT, 2 * LR, 2 * LR], // upsample along W
  [3, 2 * LR, 2 * LR], // output conv
]);
/** The largest single activation: the tape holds one per path image of a batch. */
const srLargestBytes = bytesOf([[FEAT, 2 * LR, 2 * LR]]);
const lrImageBytes = bytesOf([[3, LR, LR]]);

// --- A small classifier (1 x 16 x 16 input, 10 classes) for integrated gradients. ---
const IMG = 16;
const wC1 = keep(randomNormal([8, 1, 3, 3], { seed: 4, std: 0.5 }));
const wC2 = keep(randomNormal([16, 8, 3, 3], { seed: 5, std: 0.2 }));
const wFc = keep(randomNormal([16, 10], { seed: 6, std: 0.3 }));
const classifier = (x: Tensor) => {
  const h1 = maxPool2d(relu(conv2d(x, wC1, { padding: 1 })), { kernel: 2, stride: 2 });
  const h2 = relu(conv2d(h1, wC2, { padding: 1 }));
  return matmul(reshape(globalAvgPool2d(h2), [x.shape[0], 16]), wFc);
};
const clsActivationBytes = bytesOf([
  [8, IMG, IMG], // conv 1
  [8, IMG, IMG], // relu 1
  [8, IMG / 2, IMG / 2], // max pool
  [8, IMG / 2, IMG / 2], // its argmax (int32, same size)
  [16, IMG / 2, IMG / 2], // conv 2
  [16, IMG / 2, IMG / 2], // relu 2
  [16], // global average pool
  [10], // logits
]);
const clsLargestBytes = bytesOf([[8, IMG, IMG]]);
const clsImageBytes = bytesOf([[1, IMG, IMG]]);

/**
 * Upper bound on the peak above the starting bytes for batch b: the forward pass of b images
 * keeps every activation on the tape (b * A); during the backward sweep the live cotangents are
 * each the size of one activation and are freed once consumed (at most another b * A), and so
 * are the temporaries of the rule being run (another b * A); plus the batch's path images,
 * increments and running sums (a few image-sized tensors per row) and a fixed allowance for
 * scalars, weights' flipped copies and other small tensors. Nothing in it depends on the number
 * of path steps.
 */
function upper(b: number, activation: number, image: number): number {
  return 3 * b * activation + 8 * b * image + 64 * 1024;
}

async function lamPeak(fold: number, batch: number) {
  const lr = randomUniform([1, 3, LR, LR], { seed: 7 });
  const before = memory();
  const r = await trackPeakBytes(() =>
    lam(srNet, lr, { window: { x: 8, y: 8, size: 8 }, fold, batch }),
  );
  r.value.map.dispose();
  const after = memory();
  lr.dispose();
  return { inc: r.peakBytes - before.bytes, before, after };
}

async function igPeak(steps: number, batchSize: number) {
  const x = randomUniform([1, 1, IMG, IMG], { seed: 8 });
  const before = memory();
  const r = await trackPeakBytes(() => integratedGradients(classifier, x, 3, { steps, batchSize }));
  r.value.map.dispose();
  const after = memory();
  x.dispose();
  return { inc: r.peakBytes - before.bytes, before, after };
}

describe("peak memory of path methods is set by the batch size, not the step count", () => {
  test("LAM: fold 10 and fold 40 peak alike; the peak grows with the batch; nothing leaks", async () => {
    await lamPeak(4, 4); // warm-up (lazy module state)
    const f10 = await lamPeak(10, 4);
    const f40 = await lamPeak(40, 4);
    expect(f10.after).toEqual(f10.before);
    expect(f40.after).toEqual(f40.before);
    expect(Math.abs(f40.inc - f10.inc)).toBeLessThanOrEqual(0.02 * f10.inc);
    expect(f40.inc).toBeLessThanOrEqual(upper(4, srActivationBytes, lrImageBytes));
    expect(f40.inc).toBeGreaterThanOrEqual(4 * srLargestBytes);

    const b2 = await lamPeak(40, 2);
    const b8 = await lamPeak(40, 8);
    expect(b8.after).toEqual(b8.before);
    expect(b2.inc).toBeLessThanOrEqual(upper(2, srActivationBytes, lrImageBytes));
    expect(b8.inc).toBeLessThanOrEqual(upper(8, srActivationBytes, lrImageBytes));
    // Six more rows in the batch keep at least six more copies of the largest activation.
    expect(b8.inc - b2.inc).toBeGreaterThanOrEqual(6 * srLargestBytes);
    expect(b2.inc).toBeLessThan(f40.inc);
    if (process.env.SHOW_PEAKS)
      console.log("LAM", {
        A: srActivationBytes,
        f10: f10.inc,
        f40: f40.inc,
        b2: b2.inc,
        b8: b8.inc,
      });
  });

  test("IG: 10 and 40 steps peak alike; the peak grows with the batch; nothing leaks", async () => {
    await igPeak(4, 4);
    const s10 = await igPeak(10, 4);
    const s40 = await igPeak(40, 4);
    expect(s10.after).toEqual(s10.before);
    expect(s40.after).toEqual(s40.before);
    expect(Math.abs(s40.inc - s10.inc)).toBeLessThanOrEqual(0.02 * s10.inc);
    expect(s40.inc).toBeLessThanOrEqual(upper(4, clsActivationBytes, clsImageBytes));
    expect(s40.inc).toBeGreaterThanOrEqual(4 * clsLargestBytes);

    const b2 = await igPeak(40, 2);
    const b8 = await igPeak(40, 8);
    expect(b8.after).toEqual(b8.before);
    expect(b2.inc).toBeLessThanOrEqual(upper(2, clsActivationBytes, clsImageBytes));
    expect(b8.inc).toBeLessThanOrEqual(upper(8, clsActivationBytes, clsImageBytes));
    expect(b8.inc - b2.inc).toBeGreaterThanOrEqual(6 * clsLargestBytes);
    expect(b2.inc).toBeLessThan(s40.inc);
    if (process.env.SHOW_PEAKS)
      console.log("IG", {
        A: clsActivationBytes,
        s10: s10.inc,
        s40: s40.inc,
        b2: b2.inc,
        b8: b8.inc,
      });
  });
});

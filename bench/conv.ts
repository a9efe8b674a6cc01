/**
 * Conv 3x3, 64 -> 64 channels, 64x64 image, batch 1, pad 1: forward, input gradient and filter
 * gradient, ours (src/kernels/cpu) against tfjs-backend-cpu for the same work in the same
 * process. tfjs runs NHWC / HWIO; layouts are converted outside the timed region, and each
 * result is checked against the other before any timing.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { type Conv2dGeometry, conv2dGeometry } from "../src/kernels/conv-geometry.ts";
import { conv2dBackpropFilter, conv2dForward } from "../src/kernels/cpu/conv2d.ts";

export interface ConvBenchRow {
  case: string;
  gflop: number;
  oursMs: number;
  tfjsMs: number;
  oursGflops: number;
  tfjsGflops: number;
  /** ours / tfjs throughput. */
  ratio: number;
  /** Largest |ours - tfjs| relative to the largest |tfjs| value. */
  maxRelDiff: number;
}

export interface ConvBenchOptions {
  /** Timed runs per measurement (median taken); warm-up runs come on top. */
  runs?: number;
  warmup?: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32 - 0.5;
  };
}

/** Median wall time of fn in ms. */
function time(fn: () => void, runs: number, warmup: number): number {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(runs / 2)];
}

/** [N, C, H, W] -> [N, H, W, C]. */
function nchwToNhwc(a: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h * w; i++) out[(b * h * w + i) * c + ch] = a[(b * c + ch) * h * w + i];
  return out;
}

/** [O, I, kh, kw] -> [kh, kw, I, O]. */
function oihwToHwio(a: Float32Array, o: number, i: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let k = 0; k < kh * kw; k++) out[(k * i + ii) * o + oo] = a[(oo * i + ii) * kh * kw + k];
  return out;
}

function maxRelDiff(ours: Float32Array, ref: Float32Array): number {
  let diff = 0;
  let mag = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return diff / mag;
}

/**
 * Input gradient the way the engine computes it: a forward conv of dy with the kernel flipped
 * spatially and its in/out channels swapped, padding (k - 1) * d - pad (plus the rows the
 * forward stride dropped at the end), and input dilation = the forward stride.
 */
export function conv2dInputGrad(dy: Float32Array, w: Float32Array, g: Conv2dGeometry): Float32Array {
  const { inChannels: C, outChannels: O, kernelH: kh, kernelW: kw, groups } = g;
  if (g.inputDilation[0] !== 1 || g.inputDilation[1] !== 1) {
    throw new Error("conv2dInputGrad (bench helper): forward input dilation must be 1");
  }
  const cg = C / groups;
  const og = O / groups;
  // w' [C, O/groups, kh, kw] = w[o, c, kh - 1 - ky, kw - 1 - kx] within each group.
  const wf = new Float32Array(w.length);
  for (let grp = 0; grp < groups; grp++)
    for (let o = 0; o < og; o++)
      for (let c = 0; c < cg; c++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const src = (((grp * og + o) * cg + c) * kh + ky) * kw + kx;
            const dst = (((grp * cg + c) * og + o) * kh + kh - 1 - ky) * kw + kw - 1 - kx;
            wf[dst] = w[src];
          }
  const spanH = (kh - 1) * g.dilation[0];
  const spanW = (kw - 1) * g.dilation[1];
  const restH =
    ((g.inHeight - 1) * g.inputDilation[0] + 1 + g.pad[0] + g.pad[1] - spanH - 1) % g.stride[0];
  const restW =
    ((g.inWidth - 1) * g.inputDilation[1] + 1 + g.pad[2] + g.pad[3] - spanW - 1) % g.stride[1];
  const gt = conv2dGeometry([g.batch, O, g.outHeight, g.outWidth], [C, og, kh, kw], {
    stride: [1, 1],
    dilation: g.dilation,
    inputDilation: g.stride,
    pad: [spanH - g.pad[0], spanH - g.pad[1] + restH, spanW - g.pad[2], spanW - g.pad[3] + restW],
    groups,
  });
  if (gt.outHeight !== g.inHeight || gt.outWidth !== g.inWidth) {
    throw new Error(`input gradient geometry gives ${gt.outHeight}x${gt.outWidth}`);
  }
  return conv2dForward(dy, wf, gt, null, false);
}

export async function runConvBench(opts: ConvBenchOptions = {}): Promise<ConvBenchRow[]> {
  const runs = opts.runs ?? 7;
  const warmup = opts.warmup ?? 2;
  await tf.setBackend("cpu");
  const [N, C, O, H, W, K] = [1, 64, 64, 64, 64, 3];
  const g = conv2dGeometry([N, C, H, W], [O, C, K, K], {
    stride: [1, 1],
    dilation: [1, 1],
    inputDilation: [1, 1],
    pad: [1, 1, 1, 1],
    groups: 1,
  });
  const rand = rng(1234);
  const x = Float32Array.from({ length: N * C * H * W }, rand);
  const w = Float32Array.from({ length: O * C * K * K }, rand);
  const dy = Float32Array.from({ length: N * O * g.outHeight * g.outWidth }, rand);
  const gflop = (2 * N * O * g.outHeight * g.outWidth * C * K * K) / 1e9;

  const tx = tf.tensor4d(nchwToNhwc(x, N, C, H, W), [N, H, W, C]);
  const tw = tf.tensor4d(oihwToHwio(w, O, C, K, K), [K, K, C, O]);
  const tdy = tf.tensor4d(nchwToNhwc(dy, N, O, g.outHeight, g.outWidth), [
    N,
    g.outHeight,
    g.outWidth,
    O,
  ]);
  const convAttrs = { strides: 1, pad: 1, dataFormat: "NHWC", dilations: 1 } as const;
  const tfFwd = () => tf.conv2d(tx, tw, 1, 1);
  const tfDx = () =>
    tf.engine().runKernel(
      tf.Conv2DBackpropInput,
      { dy: tdy, filter: tw },
      { ...convAttrs, inputShape: [N, H, W, C] },
    ) as tf.Tensor;
  const tfDw = () =>
    tf.engine().runKernel(
      tf.Conv2DBackpropFilter,
      { x: tx, dy: tdy },
      { ...convAttrs, filterShape: [K, K, C, O] },
    ) as tf.Tensor;

  const cases: {
    name: string;
    ours: () => Float32Array;
    tfjs: () => tf.Tensor;
    toOurLayout: (t: Float32Array) => Float32Array;
  }[] = [
    {
      name: "forward",
      ours: () => conv2dForward(x, w, g, null, false),
      tfjs: tfFwd,
      toOurLayout: (t) => nhwcToNchw(t, N, O, g.outHeight, g.outWidth),
    },
    {
      name: "input grad",
      ours: () => conv2dInputGrad(dy, w, g),
      tfjs: tfDx,
      toOurLayout: (t) => nhwcToNchw(t, N, C, H, W),
    },
    {
      name: "filter grad",
      ours: () => conv2dBackpropFilter(x, dy, g),
      tfjs: tfDw,
      toOurLayout: (t) => hwioToOihw(t, O, C, K, K),
    },
  ];

  const rows: ConvBenchRow[] = [];
  for (const c of cases) {
    const ref = tf.tidy(() => c.tfjs().dataSync() as Float32Array);
    const diff = maxRelDiff(c.ours(), c.toOurLayout(ref));
    if (!(diff < 1e-4)) throw new Error(`${c.name}: ours and tfjs differ (max rel diff ${diff})`);
    const oursMs = time(c.ours, runs, warmup);
    const tfjsMs = time(() => tf.tidy(() => void c.tfjs().dataSync()), runs, warmup);
    rows.push({
      case: c.name,
      gflop,
      oursMs,
      tfjsMs,
      oursGflops: gflop / (oursMs / 1e3),
      tfjsGflops: gflop / (tfjsMs / 1e3),
      ratio: tfjsMs / oursMs,
      maxRelDiff: diff,
    });
  }
  tf.dispose([tx, tw, tdy]);
  return rows;
}

function nhwcToNchw(a: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h * w; i++) out[(b * c + ch) * h * w + i] = a[(b * h * w + i) * c + ch];
  return out;
}

function hwioToOihw(a: Float32Array, o: number, i: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let k = 0; k < kh * kw; k++) out[(oo * i + ii) * kh * kw + k] = a[(k * i + ii) * o + oo];
  return out;
}

export function formatConvTable(rows: ConvBenchRow[]): string {
  const head = ["case", "ours GFLOP/s", "tfjs-cpu GFLOP/s", "ratio", "ours ms", "tfjs ms"];
  const body = rows.map((r) => [
    r.case,
    r.oursGflops.toFixed(2),
    r.tfjsGflops.toFixed(2),
    `${r.ratio.toFixed(1)}x`,
    r.oursMs.toFixed(1),
    r.tfjsMs.toFixed(1),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((s, i) => (i === 0 ? s.padEnd(width[i]) : s.padStart(width[i]))).join("  ");
  return [line(head), ...body.map(line)].join("\n");
}

/**
 * Conv 3x3, 64 -> 64 channels, 64x64 image, batch 1, pad 1: forward, input gradient and filter
 * gradient, plus the input gradient of the same conv at stride 2, ours (src/kernels/cpu) against
 * tfjs-backend-cpu for the same work in the same process. GFLOP counts the forward conv's
 * multiply-adds (x2) for every row. tfjs runs NHWC / HWIO; layouts are converted outside the timed region, and each
 * result is checked against the other before any timing.
 */

// A named import: a bare side-effect import is dropped by bundlers that honour the package's
// "sideEffects" list, and the backend would then never register.
import { version_cpu } from "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { type Conv2dGeometry, conv2dGeometry } from "../src/kernels/conv-geometry.ts";
import {
  conv2dBackpropFilter,
  conv2dFlippedKernel,
  conv2dForward,
  flippedKernelPays,
} from "../src/kernels/cpu/conv2d.ts";
import { rng as unitRng } from "./common.ts";

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
  /**
   * GFLOP/s from process CPU time instead of wall time: less skewed when other processes
   * compete for the cores (time-slicing), still affected by shared caches and SMT siblings.
   */
  oursCpuGflops: number;
  tfjsCpuGflops: number;
  /** Timed runs behind each median (1 where a single call took over 5 s). */
  oursSamples: number;
  tfjsSamples: number;
}

export interface ConvBenchOptions {
  /** Timed runs per measurement (median taken); warm-up runs come on top. */
  runs?: number;
  warmup?: number;
}

/** The bench's seeded generator (./common.ts), centred on 0: values in [-0.5, 0.5). */
function rng(seed: number): () => number {
  const unit = unitRng(seed);
  return () => unit() - 0.5;
}

/**
 * Median wall and CPU time of fn in ms over `runs` runs after `warmup` runs, the first of which
 * has already happened and taken `first` ms. A call slower than SLOW_MS is reported from that
 * single (first) call: tfjs-cpu's filter gradient takes over 30 s here, and more samples would
 * not change the picture.
 */
function time(
  fn: () => void,
  runs: number,
  warmup: number,
  first: { wall: number; cpu: number },
): { ms: number; cpuMs: number; samples: number } {
  if (first.wall > SLOW_MS) return { ms: first.wall, cpuMs: first.cpu, samples: 1 };
  for (let i = 1; i < warmup; i++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = clock(fn);
    wall.push(t.wall);
    cpu.push(t.cpu);
  }
  const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { ms: median(wall), cpuMs: median(cpu), samples: runs };
}

/** Wall and process CPU time of one call, in ms. */
function clock<T>(fn: () => T): { wall: number; cpu: number; value: T } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e3, value };
}

const SLOW_MS = 5000;

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
 * Input gradient the way the engine computes it: a conv of dy with the kernel flipped spatially
 * and its in/out channels swapped, padding (k - 1) * d - pad (plus the rows the forward stride
 * dropped at the end), and input dilation = the forward stride, on the kernel the engine's
 * conv2dBackpropInput op takes (the flipped copy is made inside the timed region only where the
 * engine makes it too).
 */
export function conv2dInputGrad(
  dy: Float32Array,
  w: Float32Array,
  g: Conv2dGeometry,
): Float32Array {
  const { inChannels: C, outChannels: O, kernelH: kh, kernelW: kw, groups } = g;
  if (g.inputDilation[0] !== 1 || g.inputDilation[1] !== 1) {
    throw new Error("conv2dInputGrad (bench helper): forward input dilation must be 1");
  }
  const cg = C / groups;
  const og = O / groups;
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
  // The conv2dBackpropInput op's kernel where it takes one (Winograd reading the kernel flipped,
  // col2im for strided convs), else the flipped copy through conv2dForward.
  if (groups === 1 && flippedKernelPays(gt)) return conv2dFlippedKernel(dy, w, gt);
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
  return conv2dForward(dy, wf, gt, null, false);
}

/** Version of the tfjs-backend-cpu package the figures were measured against. */
export const tfjsCpuVersion: string = version_cpu;

interface BenchCase {
  name: string;
  gflop: number;
  ours: () => Float32Array;
  tfjs: () => tf.Tensor;
  /** tfjs result (NHWC / HWIO) in our layout, for the cross-check. */
  toOurLayout: (t: Float32Array) => Float32Array;
}

/** Conv 3x3, 64 -> 64, 64x64 input, batch 1, pad 1, at the given stride; tensors for both sides. */
function problem(stride: number, seed: number) {
  const [N, C, O, H, W, K] = [1, 64, 64, 64, 64, 3];
  const g = conv2dGeometry([N, C, H, W], [O, C, K, K], {
    stride: [stride, stride],
    dilation: [1, 1],
    inputDilation: [1, 1],
    pad: [1, 1, 1, 1],
    groups: 1,
  });
  const [oh, ow] = [g.outHeight, g.outWidth];
  const rand = rng(seed);
  const x = Float32Array.from({ length: N * C * H * W }, rand);
  const w = Float32Array.from({ length: O * C * K * K }, rand);
  const dy = Float32Array.from({ length: N * O * oh * ow }, rand);
  const tx = tf.tensor4d(nchwToNhwc(x, N, C, H, W), [N, H, W, C]);
  const tw = tf.tensor4d(oihwToHwio(w, O, C, K, K), [K, K, C, O]);
  const tdy = tf.tensor4d(nchwToNhwc(dy, N, O, oh, ow), [N, oh, ow, O]);
  const attrs = { strides: stride, pad: 1, dataFormat: "NHWC", dilations: 1 } as const;
  const gflop = (2 * N * O * oh * ow * C * K * K) / 1e9;
  const suffix = stride === 1 ? "" : ` (stride ${stride})`;
  const cases = {
    forward: {
      name: `forward${suffix}`,
      gflop,
      ours: () => conv2dForward(x, w, g, null, false),
      tfjs: () => tf.conv2d(tx, tw, stride, 1),
      toOurLayout: (t) => nhwcToNchw(t, N, O, oh, ow),
    },
    inputGrad: {
      name: `input grad${suffix}`,
      gflop,
      ours: () => conv2dInputGrad(dy, w, g),
      tfjs: () =>
        tf
          .engine()
          .runKernel(
            tf.Conv2DBackpropInput,
            { dy: tdy, filter: tw },
            { ...attrs, inputShape: [N, H, W, C] },
          ) as tf.Tensor,
      toOurLayout: (t) => nhwcToNchw(t, N, C, H, W),
    },
    filterGrad: {
      name: `filter grad${suffix}`,
      gflop,
      ours: () => conv2dBackpropFilter(x, dy, g),
      tfjs: () =>
        tf
          .engine()
          .runKernel(
            tf.Conv2DBackpropFilter,
            { x: tx, dy: tdy },
            { ...attrs, filterShape: [K, K, C, O] },
          ) as tf.Tensor,
      toOurLayout: (t) => hwioToOihw(t, O, C, K, K),
    },
  } satisfies Record<string, BenchCase>;
  return { cases, dispose: () => tf.dispose([tx, tw, tdy]) };
}

export async function runConvBench(opts: ConvBenchOptions = {}): Promise<ConvBenchRow[]> {
  const runs = opts.runs ?? 7;
  // V8 needs a few calls to settle (OSR, then a deopt/reopt of the micro-kernel once the
  // epilogue has run): about 4 before timings stop dropping.
  const warmup = opts.warmup ?? 5;
  await tf.setBackend("cpu");
  const s1 = problem(1, 1234);
  const s2 = problem(2, 5678);
  const cases: BenchCase[] = [
    s1.cases.forward,
    s1.cases.inputGrad,
    s1.cases.filterGrad,
    s2.cases.inputGrad,
  ];
  const rows: ConvBenchRow[] = [];
  for (const c of cases) {
    const o1 = clock(c.ours);
    const t1 = clock(() => tf.tidy(() => c.tfjs().dataSync() as Float32Array));
    const diff = maxRelDiff(o1.value, c.toOurLayout(t1.value));
    if (!(diff < 1e-4)) throw new Error(`${c.name}: ours and tfjs differ (max rel diff ${diff})`);
    const ours = time(c.ours, runs, warmup, o1);
    const tfjs = time(() => tf.tidy(() => void c.tfjs().dataSync()), runs, warmup, t1);
    rows.push({
      case: c.name,
      gflop: c.gflop,
      oursMs: ours.ms,
      tfjsMs: tfjs.ms,
      oursGflops: c.gflop / (ours.ms / 1e3),
      tfjsGflops: c.gflop / (tfjs.ms / 1e3),
      ratio: tfjs.ms / ours.ms,
      maxRelDiff: diff,
      oursCpuGflops: c.gflop / (ours.cpuMs / 1e3),
      tfjsCpuGflops: c.gflop / (tfjs.cpuMs / 1e3),
      oursSamples: ours.samples,
      tfjsSamples: tfjs.samples,
    });
  }
  s1.dispose();
  s2.dispose();
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
  const head = [
    "case",
    "ours GFLOP/s",
    "tfjs-cpu GFLOP/s",
    "ratio",
    "ours ms",
    "tfjs ms",
    "ours (cpu time)",
    "tfjs (cpu time)",
  ];
  const body = rows.map((r) => [
    r.case,
    r.oursGflops.toFixed(2),
    r.tfjsGflops.toFixed(2),
    `${r.ratio.toFixed(1)}x`,
    r.oursMs.toFixed(1),
    r.tfjsMs.toFixed(1),
    r.oursCpuGflops.toFixed(2),
    r.tfjsCpuGflops.toFixed(2),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((s, i) => (i === 0 ? s.padEnd(width[i]) : s.padStart(width[i]))).join("  ");
  return [line(head), ...body.map(line)].join("\n");
}

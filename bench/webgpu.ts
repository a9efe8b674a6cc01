/**
 * WebGPU benchmark: salient's WebGPU backend (both matmul/conv variants) against
 * tfjs-backend-webgpu on the same GPUDevice, in the same process and run:
 *
 *   - one 3x3 64 -> 64 conv on a 64x64 image: forward, input gradient, forward + input gradient;
 *   - RDN slim x4 (@upscalerjs/esrgan-slim, 0.23M params; ours: the Rdn module from the package's
 *     shards; tfjs: the same Keras graph as tfjs ops, fused conv + bias for the forward row and
 *     plain ops (as bench/rdn.ts for tfjs-cpu) for the gradient row): forward, and forward + input
 *     gradient for a given output cotangent;
 *   - a small SR-like net (ours only): forward, forward + input gradient;
 *   - LAM on RDN slim x4 (fold 50, batch 10, blur path, gradient-magnitude detector on a 16x16 SR
 *     window): ours is `lam(...)` on WebGPU; tfjs does the same work from path images computed on
 *     the host once: fold forward + input-gradient passes (tf.grad, plain ops) in batches of 10,
 *     each gradient times its path increment, summed. The two LAM maps are compared first.
 *
 * Every peer row first runs once on both sides with the same inputs (NCHW for us, NHWC for tfjs)
 * and reports the largest |tfjs - ours| / max |ours| of each output, outside the timed region.
 *
 *   npx deno run -A bench/webgpu.ts                     # Deno, navigator.gpu
 *   npx esbuild bench/webgpu.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=dist/bench-webgpu.mjs && node dist/bench-webgpu.mjs   # Node, `webgpu` package
 *
 * Options: --runs N (timed runs per median, default 5), --quick (2 runs, conv 32x32, RDN 16x16
 * LR, SR-like net 32x32, LAM LR 8x8), --conv-size N, --lr N (RDN LR side, default 32), --lam-lr N
 * (LAM LR side, default 32), --lam-fold N (50), --lam-batch N (10), --no-tfjs, --no-rdn, --no-sr,
 * --no-lam, --tiling shared|registers (default: both).
 * Numbers from a software adapter (llvmpipe/lavapipe, SwiftShader) say nothing about GPUs.
 */

// tf.grad needs the op gradients, which only the umbrella package registers (named import so that
// no bundler drops it as side-effect free).
import { version as tfjsVersion } from "@tensorflow/tfjs";
import { WebGPUBackend as TfjsWebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";
import * as tf from "@tensorflow/tfjs-core";
import { lam } from "../src/attribution/lam/lam.ts";
import * as s from "../src/index.ts";
import {
  createWebGPUBackend,
  isSoftwareAdapter,
  type WebGPUBackend,
} from "../src/kernels/webgpu/index.ts";
import { loadUpscalerModule } from "../src/models/zoo/upscaler-node.ts";
import { convInputGrad } from "../src/ops/conv.ts";
import { maxRelDiff, nchwToNhwc, nhwcToNchw, rng } from "./common.ts";
import { rdnForwardGflop } from "./rdn.ts";
import { hostBlurPath, tfjsGradientMagnitude, tfjsRdn } from "./tfjs-rdn.ts";

const argv: string[] =
  (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as { process?: { argv: string[] } }).process?.argv.slice(2) ??
  [];
const flag = (name: string) => argv.includes(name);
const option = (name: string, fallback: number) => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const quick = flag("--quick");
const RUNS = option("--runs", quick ? 2 : 5);
const CONV = option("--conv-size", quick ? 32 : 64);
const LR = option("--lr", quick ? 16 : 32);
const SR = quick ? 32 : 64;
const LAM_LR = option("--lam-lr", quick ? 8 : 32);
const LAM_FOLD = option("--lam-fold", 50);
const LAM_BATCH = option("--lam-batch", 10);
const tilingAt = argv.indexOf("--tiling");
const TILINGS = (tilingAt >= 0 ? [argv[tilingAt + 1]] : ["shared", "registers"]) as (
  | "shared"
  | "registers"
)[];

/**
 * Median of RUNS timed calls after one warm-up call (pipelines compiled, pools warm); `warm`: the
 * caller has just made such a call (the LAM row's comparison run), so none is added.
 */
async function median(once: () => Promise<number>, warm = false): Promise<number> {
  if (!warm) await once();
  const ts: number[] = [];
  for (let i = 0; i < RUNS; i++) ts.push(await once());
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

/** Wall time (s) of our GPU work: record the ops, submit, wait for the queue to drain. */
function timeOurs(gpu: WebGPUBackend, fn: () => s.Tensor | s.Tensor[]): Promise<number> {
  return median(async () => {
    const t0 = performance.now();
    const out = s.withBackend(gpu, () => s.tidy(fn));
    gpu.flush();
    await gpu.device.queue.onSubmittedWorkDone();
    const dt = (performance.now() - t0) / 1000;
    s.dispose(out);
    return dt;
  });
}

/** The same for tfjs-backend-webgpu: record, submit its queue, wait for the device to drain. */
function timeTfjs(tfb: TfjsWebGPUBackend, fn: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  return median(async () => {
    const t0 = performance.now();
    const out = tf.tidy(fn);
    flushTfjs(tfb);
    await tfb.device.queue.onSubmittedWorkDone();
    const dt = (performance.now() - t0) / 1000;
    tf.dispose(out);
    return dt;
  });
}

/** Ends tfjs's open compute pass and submits its command encoder (what its own reads do). */
function flushTfjs(tfb: TfjsWebGPUBackend): void {
  const b = tfb as unknown as { commandEncoder: GPUCommandEncoder | null };
  if (!b.commandEncoder) return;
  tfb.endComputePassEncoder();
  tfb.submitQueue();
}

/**
 * tfjs-backend-webgpu on our GPUDevice. Its constructor insists on a browser-like global scope
 * (`window` or `WorkerGlobalScope`, plus `navigator.gpu`), which Deno and Node lack; both are
 * shimmed for the duration of the constructor only.
 */
async function tfjsOnDevice(device: GPUDevice, info: GPUAdapterInfo | undefined) {
  const g = globalThis as Record<string, unknown>;
  const saved = ["window", "navigator"].map(
    (k) => [k, Object.getOwnPropertyDescriptor(g, k)] as const,
  );
  let backend: TfjsWebGPUBackend;
  try {
    if (g.window === undefined) g.window = g;
    if (!(g.navigator as { gpu?: unknown } | undefined)?.gpu) {
      Object.defineProperty(g, "navigator", {
        value: { ...(g.navigator as object), gpu: {} },
        configurable: true,
        writable: true,
      });
    }
    // AdapterInfo there reads vendor and architecture only.
    backend = new TfjsWebGPUBackend(device, (info ?? { vendor: "", architecture: "" }) as never);
  } finally {
    for (const [k, d] of saved) {
      if (d) Object.defineProperty(g, k, d);
      else delete g[k];
    }
  }
  // Kernels are registered for the backend name "webgpu"; replace the package's own factory (which
  // would request another device) where it registered one (browsers).
  if (tf.findBackendFactory("webgpu")) tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", () => backend, 0);
  // tfjs prints a hint to install tfjs-node whenever it sees Node-like globals; not useful here.
  const warn = console.warn;
  const log = console.log;
  console.warn = console.log = () => {};
  try {
    if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend failed (see the console)");
  } finally {
    console.warn = warn;
    console.log = log;
  }
  // Small tensors would otherwise run on the CPU; compare GPU with GPU.
  tf.env().set("WEBGPU_CPU_FORWARD", false);
  return backend;
}

/** [O, I, kh, kw] -> [kh, kw, I, O] (tfjs filter layout). */
function oihwToHwio(a: Float32Array, [o, i, kh, kw]: readonly number[]): Float32Array {
  const out = new Float32Array(a.length);
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          out[((y * kw + x) * i + ii) * o + oo] = a[((oo * i + ii) * kh + y) * kw + x];
  return out;
}

const uniform = (seed: number, n: number, scale = 1, offset = 0) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => scale * (r() + offset));
};

/** One benchmark: our side, optionally the tfjs side; both get the same host inputs. */
interface Workload {
  name: string;
  gflop: number;
  /** Builds our tensors on `gpu`; returns the op to time and what to compare (NCHW values). */
  ours(gpu: WebGPUBackend): {
    run: () => s.Tensor | s.Tensor[];
    dispose: () => void;
  };
  /** The tfjs side, or null when there is no peer row. Outputs are converted to NCHW. */
  tfjs: null | (() => { run: () => tf.Tensor | tf.Tensor[]; dispose: () => void });
  /** NHWC -> NCHW conversion of the tfjs outputs, by output index. */
  toNchw?: ((v: Float32Array) => Float32Array)[];
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

function convWorkloads(): Workload[] {
  const C = 64;
  const S = CONV;
  const xShape = [1, C, S, S];
  const wShape = [C, C, 3, 3];
  const x = uniform(1, C * S * S, 2, -0.5);
  const w = uniform(2, C * C * 9, 0.1, -0.5);
  const dy = uniform(3, C * S * S, 2, -0.5);
  const flop = (2 * C * C * S * S * 9) / 1e9;
  const back = (v: Float32Array) => nhwcToNchw(v, xShape);
  const p = {
    stride: [1, 1],
    dilation: [1, 1],
    inputDilation: [1, 1],
    pad: [1, 1, 1, 1],
    groups: 1,
  } as const;
  const oursInputs = () => {
    const t = [s.tensor(x, xShape), s.tensor(w, wShape), s.tensor(dy, xShape)].map(s.keep);
    return { t, dispose: () => s.dispose(t) };
  };
  const tfInputs = () => {
    const t = [
      tf.tensor4d(nchwToNhwc(x, xShape), [1, S, S, C]),
      tf.tensor4d(oihwToHwio(w, wShape), [3, 3, C, C]),
      tf.tensor4d(nchwToNhwc(dy, xShape), [1, S, S, C]),
    ];
    return { t, dispose: () => tf.dispose(t) };
  };
  const tag = `conv 3x3 ${C}->${C} ${S}x${S}`;
  return [
    {
      name: `${tag} forward`,
      gflop: flop,
      ours: () => {
        const { t, dispose } = oursInputs();
        return { run: () => s.conv2d(t[0], t[1], { padding: 1 }), dispose };
      },
      tfjs: () => {
        const { t, dispose } = tfInputs();
        return {
          run: () => tf.conv2d(t[0] as tf.Tensor4D, t[1] as tf.Tensor4D, 1, "same"),
          dispose,
        };
      },
      toNchw: [back],
    },
    {
      name: `${tag} input gradient`,
      gflop: flop,
      ours: () => {
        const { t, dispose } = oursInputs();
        return { run: () => convInputGrad(t[2], t[1], p, xShape), dispose };
      },
      tfjs: () => {
        const { t, dispose } = tfInputs();
        // conv2dTranspose is tfjs's Conv2DBackpropInput kernel, the conv's input gradient.
        return {
          run: () =>
            tf.conv2dTranspose(t[2] as tf.Tensor4D, t[1] as tf.Tensor4D, [1, S, S, C], 1, "same"),
          dispose,
        };
      },
      toNchw: [back],
    },
    {
      name: `${tag} forward + input gradient (grad)`,
      gflop: 2 * flop,
      ours: () => {
        const { t, dispose } = oursInputs();
        return {
          run: () =>
            s.grad((v: s.Tensor) => s.sum(s.mul(s.conv2d(v, t[1], { padding: 1 }), t[2])))(t[0]),
          dispose,
        };
      },
      tfjs: () => {
        const { t, dispose } = tfInputs();
        const f = tf.grad((v: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(v as tf.Tensor4D, t[1] as tf.Tensor4D, 1, "same"), t[2])),
        );
        return { run: () => f(t[0]), dispose };
      },
      toNchw: [back],
    },
  ];
}

function rdnWorkloads(): Workload[] {
  const h = LR;
  const xShape = [1, 3, h, h];
  const yShape = [1, 3, 4 * h, 4 * h];
  const x = uniform(7, 3 * h * h, 255);
  const dy = uniform(8, 3 * 16 * h * h, 1, -0.5);
  const gflop = rdnForwardGflop(h, h);
  const ours = () => {
    const m = loadUpscalerModule("esrgan-slim", 4).eval();
    const t = [s.tensor(x, xShape), s.tensor(dy, yShape)].map(s.keep);
    return {
      m,
      t,
      dispose: () => {
        s.dispose(t);
        s.dispose(m.parameters());
      },
    };
  };
  const theirs = (fused: boolean) => {
    const model = tfjsRdn(fused);
    const t = [
      tf.tensor4d(nchwToNhwc(x, xShape), [1, h, h, 3]),
      tf.tensor4d(nchwToNhwc(dy, yShape), [1, 4 * h, 4 * h, 3]),
    ];
    return {
      model,
      t,
      dispose: () => {
        tf.dispose(t);
        model.dispose();
      },
    };
  };
  const tag = `RDN slim x4 ${h}x${h} -> ${4 * h}x${4 * h}`;
  return [
    {
      name: `${tag} forward`,
      gflop,
      ours: () => {
        const { m, t, dispose } = ours();
        return { run: () => m.call(t[0]), dispose };
      },
      tfjs: () => {
        const { model, t, dispose } = theirs(true);
        return { run: () => model.run(t[0] as tf.Tensor4D), dispose };
      },
      toNchw: [(v) => nhwcToNchw(v, yShape)],
    },
    {
      name: `${tag} forward + input gradient`,
      // The input gradient needs every layer's input gradient: about the forward's FLOPs again.
      gflop: 2 * gflop,
      ours: () => {
        const { m, t, dispose } = ours();
        const vg = s.valueAndGrad((v: s.Tensor) => m.call(v));
        return {
          run: () => {
            const { value, grad } = vg(t[0], t[1]);
            return [value, grad];
          },
          dispose,
        };
      },
      tfjs: () => {
        const { model, t, dispose } = theirs(false);
        const vg = tf.valueAndGrad((v: tf.Tensor) => model.run(v as tf.Tensor4D));
        return {
          run: () => {
            const { value, grad } = vg(t[0], t[1]);
            return [value, grad];
          },
          dispose,
        };
      },
      toNchw: [(v) => nhwcToNchw(v, yShape), (v) => nhwcToNchw(v, xShape)],
    },
  ];
}

/** SR-like net (ours only): 3 -> 32 head, 4 x (32 -> 32, ReLU), 32 -> 12 tail, pixel shuffle x2. */
function srWorkloads(): Workload[] {
  const size = SR;
  const convFlops = (cin: number, cout: number) => 2 * cin * cout * size * size * 9;
  const f = (convFlops(3, 32) + 4 * convFlops(32, 32) + convFlops(32, 12)) / 1e9;
  const setup = () => {
    const ws = [
      s.randomNormal([32, 3, 3, 3], { seed: 10, std: 0.2 }),
      ...[0, 1, 2, 3].map((i) => s.randomNormal([32, 32, 3, 3], { seed: 11 + i, std: 0.05 })),
      s.randomNormal([12, 32, 3, 3], { seed: 20, std: 0.05 }),
    ].map(s.keep);
    const x = s.keep(s.randomUniform([1, 3, size, size], { seed: 30 }));
    const net = (v: s.Tensor) => {
      let h = s.conv2d(v, ws[0], { padding: 1, relu: true });
      for (let i = 1; i <= 4; i++) h = s.conv2d(h, ws[i], { padding: 1, relu: true });
      return s.pixelShuffle(s.conv2d(h, ws[5], { padding: 1 }), 2);
    };
    return { net, x, dispose: () => s.dispose([...ws, x]) };
  };
  return [
    {
      name: `SR-like net (6 convs, x2) ${size}x${size} forward`,
      gflop: f,
      ours: () => {
        const { net, x, dispose } = setup();
        return { run: () => net(x), dispose };
      },
      tfjs: null,
    },
    {
      name: `SR-like net ${size}x${size} forward + input gradient`,
      gflop: 2 * f,
      ours: () => {
        const { net, x, dispose } = setup();
        return { run: () => s.grad((v: s.Tensor) => s.sum(net(v)))(x), dispose };
      },
      tfjs: null,
    },
  ];
}

/**
 * LAM fold 50 on RDN slim x4 (LAM_LR x LAM_LR LR, values in [0, 255], 16x16 SR window at the
 * centre). Ours: `lam(model, lr, { window, fold, batch })` on each tiling, timed to the map's
 * readback (it also runs the blur path on the GPU, one forward to learn the SR size and D at both
 * ends, batch 1 each). tfjs: path images and increments from the host (hostBlurPath) uploaded
 * once, outside the timed region; timed: fold forward + input-gradient passes in batches, the
 * products with the increments summed, the map read back.
 */
async function lamRow(
  gpus: Record<string, WebGPUBackend>,
  tfb: TfjsWebGPUBackend | null,
): Promise<Result> {
  const h = LAM_LR;
  const fold = LAM_FOLD;
  const batch = LAM_BATCH;
  const size = Math.min(16, 4 * h - 1);
  const corner = 2 * h - Math.floor(size / 2);
  const window = { x: corner, y: corner, size };
  const x = uniform(11, 3 * h * h, 255);
  const xShape = [1, 3, h, h];
  const res: Result = {
    name: `LAM fold ${fold} batch ${batch} RDN slim x4 ${h}x${h} LR, ${size}x${size} window`,
    // fold forward + input-gradient passes (each about 2 forwards); ours adds 3 batch-1 forwards.
    gflop: 2 * fold * rdnForwardGflop(h, h),
    ours: {},
  };
  let reference: Float32Array | null = null;
  for (const [tiling, gpu] of Object.entries(gpus)) {
    const saved = s.getBackend();
    s.setBackend(gpu); // lam is async: the default backend must stay ours across its awaits
    const m = loadUpscalerModule("esrgan-slim", 4).eval();
    const lr = s.keep(s.tensor(x, xShape));
    try {
      const once = async () => {
        const r = await lam((v: s.Tensor) => m.call(v), lr, { window, fold, batch });
        const v = Float32Array.from(await r.map.data());
        r.map.dispose();
        return v;
      };
      // The first call (pipelines compiled, pools warm) is the warm-up and, on the first tiling,
      // the reference map.
      const first = await once();
      reference ??= first;
      res.ours[tiling] = await median(async () => {
        const t0 = performance.now();
        await once();
        return (performance.now() - t0) / 1000;
      }, true);
    } finally {
      lr.dispose();
      s.dispose(m.parameters());
      s.setBackend(saved);
    }
  }
  if (tfb && reference) {
    const model = tfjsRdn(false);
    const path = hostBlurPath(x, [3, h, h], 1.2, 9, fold);
    const shape: [number, number, number, number] = [fold, h, h, 3];
    const points = tf.tensor4d(path.points, shape);
    const increments = tf.tensor4d(path.increments, shape);
    const g = tf.grad((v: tf.Tensor) => tfjsGradientMagnitude(model.run(v as tf.Tensor4D), window));
    const run = () => {
      let acc: tf.Tensor = tf.zeros([1, h, h, 3]);
      for (let a = 0; a < fold; a += batch) {
        const n = Math.min(batch, fold - a);
        const next = tf.tidy(() => {
          const pts = tf.slice(points, [a, 0, 0, 0], [n, h, h, 3]);
          const inc = tf.slice(increments, [a, 0, 0, 0], [n, h, h, 3]);
          return tf.add(acc, tf.sum(tf.mul(g(pts), inc), 0, true));
        });
        acc.dispose();
        acc = next;
      }
      return acc;
    };
    const once = async () => {
      const acc = run();
      const v = Float32Array.from(await acc.data());
      acc.dispose();
      return v;
    };
    try {
      // Checked against ours before anything is timed.
      res.diff = [maxRelDiff(nhwcToNchw(await once(), xShape), reference)];
      res.tfjs = await median(async () => {
        const t0 = performance.now();
        await once();
        return (performance.now() - t0) / 1000;
      }, true);
    } catch (e) {
      res.note = `tfjs-webgpu failed: ${(e as Error).message.split("\n")[0]}`;
    } finally {
      tf.dispose([points, increments]);
      model.dispose();
    }
  } else if (!tfb) {
    res.note = "tfjs-webgpu not run";
  }
  return res;
}

async function readOurs(gpu: WebGPUBackend, fn: () => s.Tensor | s.Tensor[]) {
  const out = asList(s.withBackend(gpu, () => s.tidy(fn)));
  const values = await Promise.all(out.map(async (t) => Float32Array.from(await t.data())));
  s.dispose(out);
  return values;
}

async function readTfjs(fn: () => tf.Tensor | tf.Tensor[]) {
  const out = asList(fn());
  const values = await Promise.all(out.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(out);
  return values;
}

interface Result {
  name: string;
  gflop: number;
  ours: Record<string, number>;
  tfjs?: number;
  diff?: number[];
  note?: string;
}

async function runWorkload(
  w: Workload,
  gpus: Record<string, WebGPUBackend>,
  tfb: TfjsWebGPUBackend | null,
): Promise<Result> {
  const res: Result = { name: w.name, gflop: w.gflop, ours: {} };
  let reference: Float32Array[] | null = null;
  for (const [tiling, gpu] of Object.entries(gpus)) {
    const side = s.withBackend(gpu, () => w.ours(gpu));
    try {
      reference ??= await readOurs(gpu, side.run);
      res.ours[tiling] = await timeOurs(gpu, side.run);
    } finally {
      side.dispose();
    }
  }
  if (w.tfjs && tfb && reference) {
    const side = w.tfjs();
    try {
      // Checked against ours before anything is timed.
      const got = await readTfjs(() => tf.tidy(side.run));
      res.diff = got.map((v, i) =>
        maxRelDiff(w.toNchw?.[i] ? w.toNchw[i](v) : v, (reference as Float32Array[])[i]),
      );
      res.tfjs = await timeTfjs(tfb, side.run);
    } catch (e) {
      res.note = `tfjs-webgpu failed: ${(e as Error).message.split("\n")[0]}`;
    } finally {
      side.dispose();
    }
  } else if (w.tfjs && !tfb) {
    res.note = "tfjs-webgpu not run";
  }
  return res;
}

// A discrete GPU where there is one (wgpu and Dawn otherwise may pick an integrated or software one).
const base = await createWebGPUBackend({ adapter: { powerPreference: "high-performance" } });
const software = isSoftwareAdapter(base.adapterInfo ?? { description: base.adapterDescription });
console.log(
  `adapter: ${base.adapterDescription}${software ? "  (SOFTWARE ADAPTER: these timings say nothing about GPUs; only the max rel diff columns mean something)" : ""}`,
);
let tfb: TfjsWebGPUBackend | null = null;
if (!flag("--no-tfjs")) {
  try {
    tfb = await tfjsOnDevice(base.device, base.adapterInfo);
    console.log(
      `peer: @tensorflow/tfjs-backend-webgpu ${tfjsVersion["tfjs-core"]} on the same GPUDevice (WEBGPU_CPU_FORWARD off)`,
    );
  } catch (e) {
    console.log(`peer: tfjs-backend-webgpu could not start: ${(e as Error).message}`);
  }
}
console.log(`median of ${RUNS} runs after one warm-up; ms (GFLOP/s)`);
console.log();

const gpus: Record<string, WebGPUBackend> = {};
for (const tiling of TILINGS)
  gpus[tiling] = await createWebGPUBackend({ device: base.device, tiling });
const workloads = [
  ...convWorkloads(),
  ...(flag("--no-rdn") ? [] : rdnWorkloads()),
  ...(flag("--no-sr") ? [] : srWorkloads()),
];
const cell = (seconds: number | undefined, gflop: number) =>
  seconds === undefined ? "-" : `${(seconds * 1000).toFixed(1)} (${(gflop / seconds).toFixed(2)})`;
console.log(
  `| benchmark | GFLOP | ${TILINGS.map((t) => `salient ${t}`).join(" | ")} | tfjs-webgpu | tfjs / salient best | max rel diff tfjs vs salient | note |`,
);
console.log(`| --- | --- | ${TILINGS.map(() => "---").join(" | ")} | --- | --- | --- | --- |`);
const rows = workloads.map((w) => () => runWorkload(w, gpus, tfb));
if (!flag("--no-lam")) rows.push(() => lamRow(gpus, tfb));
for (const row of rows) {
  const r = await row();
  const best = Math.min(...Object.values(r.ours));
  console.log(
    `| ${r.name} | ${r.gflop.toFixed(3)} | ${TILINGS.map((t) => cell(r.ours[t], r.gflop)).join(" | ")} | ${cell(r.tfjs, r.gflop)} | ${r.tfjs === undefined ? "-" : (r.tfjs / best).toFixed(2)} | ${r.diff?.map((d) => d.toExponential(1)).join(" / ") ?? "-"} | ${r.note ?? ""} |`,
  );
}
// Validation errors of either library on the shared device surface at our next read.
const check = s.withBackend(base, () => s.zeros([1]));
await check.data();
check.dispose();
for (const g of Object.values(gpus)) g.dispose();
tfb?.dispose();
base.dispose();

/**
 * RDN slim x4 (@upscalerjs/esrgan-slim, 0.23M params, [0, 255] range) forward + input gradient
 * on one LR image: ours (Rdn module from the package's shards, NCHW) against tfjs-backend-cpu and
 * tfjs-backend-wasm (LayersModel from the same model.json, NHWC) in this process, and PyTorch
 * CPU (bench/torch_bench.py rebuilds the Keras graph with the same weights) in one script run.
 * Every side gets the same input and output cotangent; outputs and input gradients are compared
 * with ours outside the timed region.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tfwasm from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// tf.grad needs the op gradients, which only the umbrella package registers (named import so
// that no bundler drops it as side-effect free).
import { version as tfjsVersion } from "@tensorflow/tfjs";
import { valueAndGrad } from "../src/autodiff/grad.ts";
import type { Tensor } from "../src/autodiff/tensor.ts";
import { loadUpscalerModule } from "../src/models/zoo/upscaler-node.ts";
import { tensor } from "../src/ops/creation.ts";
import {
  maxRelDiff,
  nchwToNhwc,
  nhwcToNchw,
  readF32,
  rng,
  runTorch,
  type Timing,
  timeIt,
  writeF32,
} from "./common.ts";
import { RDN_DIR, tfjsRdn } from "./tfjs-rdn.ts";

export const TFJS_VERSION: string = tfjsVersion.tfjs;

export interface PeerResult {
  name: string;
  /** forward + input gradient. */
  fwdGrad: Timing | null;
  fwd: Timing | null;
  /** Largest |peer - ours| over |ours| for the SR output and the input gradient. */
  outDiff?: number;
  gradDiff?: number;
  note?: string;
}

export interface RdnBenchResult {
  lr: number;
  gflopFwd: number;
  peers: PeerResult[];
}

/** Multiply-adds x2 of the forward pass for an h x w LR input, from the Keras topology. */
export function rdnForwardGflop(h: number, w: number): number {
  const json = JSON.parse(readFileSync(join(RDN_DIR, "model.json"), "utf8"));
  const shapes = new Map<string, number[]>();
  for (const w of json.weightsManifest[0].weights) shapes.set(w.name, w.shape);
  let flop = 0;
  let scale = 1;
  for (const l of json.modelTopology.model_config.config.layers) {
    if (l.class_name === "UpSampling2D") scale *= l.config.size[0];
    if (l.class_name !== "Conv2D") continue;
    const [kh, kw, ci, co] = shapes.get(`${l.name}/kernel`) as number[];
    flop += 2 * kh * kw * ci * co * h * w * scale * scale;
  }
  return flop / 1e9;
}

/** The job fields bench/torch_bench.py needs to rebuild the network. */
export function torchModelJob(): object {
  const json = JSON.parse(readFileSync(join(RDN_DIR, "model.json"), "utf8"));
  let offset = 0;
  const weights = json.weightsManifest[0].weights.map((w: { name: string; shape: number[] }) => {
    const e = { name: w.name, shape: w.shape, offset };
    offset += w.shape.reduce((a, b) => a * b, 1);
    return e;
  });
  if (json.weightsManifest.length !== 1 || json.weightsManifest[0].paths.length !== 1) {
    throw new Error("rdn bench: expected one float32 shard");
  }
  return {
    modelJson: join(RDN_DIR, "model.json"),
    weightsBin: join(RDN_DIR, json.weightsManifest[0].paths[0]),
    weights,
  };
}

// The bench runs from the repository root (npm run bench), wherever its bundle was written.
export const TORCH_SCRIPT = join(process.cwd(), "bench", "torch_bench.py");

async function tfjsSide(
  backend: "cpu" | "wasm",
  x: Float32Array,
  dy: Float32Array,
  xShape: number[],
  yShape: number[],
  ours: { out: Float32Array; grad: Float32Array },
  o: { runs: number; warmup: number; skipGrad?: boolean },
): Promise<PeerResult> {
  const name = `tfjs-${backend}`;
  if (backend === "wasm") {
    const dir = join(process.cwd(), "node_modules/@tensorflow/tfjs-backend-wasm/dist/");
    tfwasm.setWasmPaths(dir);
    tfwasm.setThreadsCount?.(1);
  }
  await tf.setBackend(backend);
  await tf.ready();
  const model = tfjsRdn();
  const xt = tf.tensor4d(nchwToNhwc(x, xShape), [xShape[0], xShape[2], xShape[3], xShape[1]]);
  const dyt = tf.tensor4d(nchwToNhwc(dy, yShape), [yShape[0], yShape[2], yShape[3], yShape[1]]);
  const res: PeerResult = { name, fwdGrad: null, fwd: null };
  try {
    const fwd = () => tf.tidy(() => model.run(xt).dataSync());
    res.outDiff = maxRelDiff(nhwcToNchw(fwd(), yShape), ours.out);
    res.fwd = await timeIt(fwd, o);
    if (o.skipGrad) {
      res.note = "input gradient skipped (--quick)";
    } else {
      const vg = tf.grad((t: tf.Tensor) => model.run(t as tf.Tensor4D));
      const step = () => tf.tidy(() => vg(xt, dyt).dataSync());
      try {
        const g0 = step();
        res.gradDiff = maxRelDiff(nhwcToNchw(g0, xShape), ours.grad);
        res.fwdGrad = await timeIt(step, { ...o, warmup: Math.min(o.warmup, 1) });
      } catch (e) {
        res.note = `input gradient failed: ${(e as Error).message.split("\n")[0]}`;
      }
    }
  } finally {
    xt.dispose();
    dyt.dispose();
    model.dispose();
  }
  return res;
}

export async function runRdnBench(o: {
  lr: number;
  runs: number;
  warmup: number;
  quick: boolean;
  torchThreads: number[];
}): Promise<RdnBenchResult> {
  const h = o.lr;
  const xShape = [1, 3, h, h];
  const yShape = [1, 3, 4 * h, 4 * h];
  const r = rng(7);
  const x = Float32Array.from({ length: 3 * h * h }, () => 255 * r());
  const dy = Float32Array.from({ length: 3 * 16 * h * h }, () => r() - 0.5);

  // Ours.
  const m = loadUpscalerModule("esrgan-slim", 4).eval();
  const xt = tensor(x, xShape);
  const dyt = tensor(dy, yShape);
  const vg = valueAndGrad((t: Tensor) => m.call(t));
  const step = () => {
    const { value, grad } = vg(xt, dyt);
    const out = value.dataSync() as Float32Array;
    const g = grad.dataSync() as Float32Array;
    value.dispose();
    grad.dispose();
    return { out, grad: g };
  };
  const fwd = () => {
    const y = m.call(xt);
    const v = y.dataSync();
    y.dispose();
    return v;
  };
  const ref = step();
  const oursRes: PeerResult = {
    name: "salient (cpu)",
    fwdGrad: await timeIt(step, o),
    fwd: await timeIt(fwd, o),
  };
  const peers: PeerResult[] = [oursRes];

  // PyTorch, same input and cotangent.
  for (const threads of o.torchThreads) {
    const job = {
      ...torchModelJob(),
      tasks: ["rdnFwdGrad"],
      threads,
      runs: o.runs,
      warmup: o.warmup,
      input: writeF32("rdn-x.bin", x),
      inputShape: xShape,
      cotangent: writeF32("rdn-dy.bin", dy),
      outputShape: yShape,
      outputFile: join(process.env.TMPDIR ?? "/tmp", `rdn-torch-y-${process.pid}.bin`),
      gradFile: join(process.env.TMPDIR ?? "/tmp", `rdn-torch-g-${process.pid}.bin`),
    };
    const t = runTorch(job, TORCH_SCRIPT);
    if (t === null) {
      peers.push({ name: `pytorch (${threads} thr)`, fwdGrad: null, fwd: null, note: "failed" });
      continue;
    }
    peers.push({
      name: `pytorch ${t.torch} (${t.threads} thr)`,
      fwdGrad: t.fwdGrad as Timing,
      fwd: t.fwd as Timing,
      outDiff: maxRelDiff(readF32(job.outputFile), ref.out),
      gradDiff: maxRelDiff(readF32(job.gradFile), ref.grad),
    });
  }

  peers.push(await tfjsSide("wasm", x, dy, xShape, yShape, ref, { ...o }));
  peers.push(await tfjsSide("cpu", x, dy, xShape, yShape, ref, { ...o, skipGrad: o.quick }));
  xt.dispose();
  dyt.dispose();
  return { lr: h, gflopFwd: rdnForwardGflop(h, h), peers };
}

export function formatRdnTable(res: RdnBenchResult): string {
  const ours = res.peers[0];
  const lines = [
    `RDN slim x4, ${res.lr}x${res.lr} LR -> ${4 * res.lr}x${4 * res.lr}, forward ${res.gflopFwd.toFixed(2)} GFLOP (fwd+grad ~2x)`,
    "| side | fwd+grad ms | (cpu ms) | fwd ms | (cpu ms) | fwd+grad: peer/ours time | max rel diff out / grad | note |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  const f = (t: Timing | null) => (t === null ? "-" : t.ms.toFixed(0));
  const c = (t: Timing | null) => (t === null ? "-" : t.cpuMs.toFixed(0));
  for (const p of res.peers) {
    const ratio =
      p.fwdGrad && ours.fwdGrad
        ? `${(p.fwdGrad.ms / ours.fwdGrad.ms).toFixed(2)} (cpu ${(p.fwdGrad.cpuMs / ours.fwdGrad.cpuMs).toFixed(2)})`
        : "-";
    const diff =
      p === ours
        ? "-"
        : `${p.outDiff?.toExponential(1) ?? "-"} / ${p.gradDiff?.toExponential(1) ?? "-"}`;
    lines.push(
      `| ${p.name} | ${f(p.fwdGrad)} | ${c(p.fwdGrad)} | ${f(p.fwd)} | ${c(p.fwd)} | ${ratio} | ${diff} | ${p.note ?? ""} |`,
    );
  }
  return lines.join("\n");
}

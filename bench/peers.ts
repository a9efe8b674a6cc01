/**
 * The JavaScript peers with their own kernels, in this process on the same inputs as ours:
 * - jax-js (@jax-js/jax, its Wasm backend; one thread in Node, where its worker pool has no
 *   global Worker; eager mode: its jit was slower here and gave wrong input gradients): the
 *   3x3 64 -> 64 conv on 64x64 (forward; forward + input gradient through `vjp`), and RDN slim
 *   x4 forward and forward + input gradient (`grad` of <SR, cotangent>), the Keras graph written
 *   with its lax/numpy ops (NCHW, OIHW kernels).
 * - onnxruntime-node (forward only; it has no gradients): the RDN-like x4 ONNX network of the
 *   CLI row, at 1 and 2 intra-op threads, against our forward of the same file (loadOnnx).
 * Every result is compared with ours before timing (max relative difference in the table).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Array as JaxArray } from "@jax-js/jax";
import * as jax from "@jax-js/jax";
import { valueAndGrad } from "../src/autodiff/grad.ts";
import type { Tensor } from "../src/autodiff/tensor.ts";
import { conv2dGeometry } from "../src/kernels/conv-geometry.ts";
import { conv2dForward } from "../src/kernels/cpu/conv2d.ts";
import { loadOnnx } from "../src/models/io/onnx/model.ts";
import { loadUpscalerModule } from "../src/models/zoo/upscaler-node.ts";
import { tensor } from "../src/ops/creation.ts";
import { rdnLikeOnnx } from "./cli-lam.ts";
import { maxRelDiff, rng, type Timing, timeIt } from "./common.ts";
import { conv2dInputGrad } from "./conv.ts";
import { RDN_DIR } from "./tfjs-rdn.ts";

/** The part of onnxruntime-node's API the bench uses (it is installed by `npm run bench`). */
export interface Ort {
  InferenceSession: {
    create(
      path: string,
      o: {
        intraOpNumThreads: number;
        interOpNumThreads: number;
        executionProviders: string[];
        /** Writes a Chrome-trace JSON of every node's kernel time to `<prefix>_<date>.json`. */
        enableProfiling?: boolean;
        profileFilePrefix?: string;
      },
    ): Promise<{
      run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
      endProfiling(): void;
      release(): Promise<void>;
    }>;
  };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => unknown;
  env: { versions?: { common?: string } };
}

/** onnxruntime-node when installed (not a devDependency: its install script downloads binaries). */
export async function loadOrt(): Promise<Ort | null> {
  const name = "onnxruntime-node";
  try {
    return (await import(name)) as Ort;
  } catch {
    console.log(
      "onnxruntime-node is not installed (npm run bench installs it): its rows are skipped",
    );
    return null;
  }
}

export interface PeerRow {
  row: string;
  ours: Timing;
  peer: string;
  peerTiming: Timing;
  /** Largest |peer - ours| over the largest |ours|. */
  maxRelDiff: number;
}

const { numpy: np, lax, nn } = jax;

/** RDN slim x4's Keras graph as jax-js ops; every op consumes its inputs (jax-js ownership). */
function jaxRdn(): (x: JaxArray) => JaxArray {
  const json = JSON.parse(readFileSync(join(RDN_DIR, "model.json"), "utf8"));
  const bytes = readFileSync(join(RDN_DIR, json.weightsManifest[0].paths[0]));
  const flat = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
  const weights = new Map<string, JaxArray>();
  let offset = 0;
  for (const w of json.weightsManifest[0].weights as { name: string; shape: number[] }[]) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const v = flat.subarray(offset, offset + n);
    offset += n;
    if (w.shape.length === 4) {
      // HWIO -> OIHW.
      const [kh, kw, ci, co] = w.shape;
      const t = new Float32Array(n);
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          for (let i = 0; i < ci; i++)
            for (let o = 0; o < co; o++)
              t[((o * ci + i) * kh + y) * kw + x] = v[((y * kw + x) * ci + i) * co + o];
      weights.set(w.name, np.array(t).reshape([co, ci, kh, kw]));
    } else {
      weights.set(w.name, np.array(Float32Array.from(v)).reshape([1, w.shape[0], 1, 1]));
    }
  }
  type Layer = {
    class_name: string;
    name: string;
    config: Record<string, unknown>;
    inbound_nodes: [string, number, number, object][][];
  };
  const config = json.modelTopology.model_config.config;
  const layers: Layer[] = config.layers;
  const outName: string = config.output_layers[0][0];
  const uses = new Map<string, number>();
  for (const l of layers)
    for (const n of l.inbound_nodes[0] ?? []) uses.set(n[0], (uses.get(n[0]) ?? 0) + 1);
  return (x: JaxArray) => {
    const values = new Map<string, JaxArray>();
    const left = new Map(uses);
    // The last use of a value takes it; earlier uses take a new reference.
    const take = (name: string): JaxArray => {
      const v = values.get(name) as JaxArray;
      const n = (left.get(name) ?? 1) - 1;
      left.set(name, n);
      return n > 0 ? v.ref : v;
    };
    for (const l of layers) {
      const ins = (l.inbound_nodes[0] ?? []).map((n) => take(n[0]));
      let y: JaxArray;
      switch (l.class_name) {
        case "InputLayer":
          y = x;
          break;
        case "Conv2D": {
          const w = (weights.get(`${l.name}/kernel`) as JaxArray).ref;
          const b = (weights.get(`${l.name}/bias`) as JaxArray).ref;
          const pad = l.config.padding === "same" ? "SAME" : "VALID";
          y = lax.conv(ins[0], w, [1, 1], pad).add(b);
          if (l.config.activation === "relu") y = nn.relu(y);
          break;
        }
        case "Activation":
          y = nn.relu(ins[0]);
          break;
        case "Concatenate":
          y = np.concatenate(ins, 1);
          break;
        case "Add":
          y = ins.reduce((a, b) => a.add(b));
          break;
        case "UpSampling2D": {
          const [sh, sw] = l.config.size as number[];
          y = np.repeat(np.repeat(ins[0], sh, 2), sw, 3);
          break;
        }
        default:
          throw new Error(`RDN layer ${l.class_name} not handled`);
      }
      values.set(l.name, y);
    }
    return values.get(outName) as JaxArray;
  };
}

const f32 = (a: JaxArray) => Float32Array.from(a.dataSync() as Float32Array);

async function jaxRows(o: { runs: number; lr: number }): Promise<PeerRow[]> {
  await jax.init("wasm");
  jax.defaultDevice("wasm");
  const rows: PeerRow[] = [];
  const short = { runs: o.runs, warmup: 2, slowMs: 1e9 };

  // Conv 3x3, 64 -> 64, 64x64, pad 1 (as bench/conv.ts).
  const [C, H, K] = [64, 64, 3];
  const r = rng(3);
  const x = Float32Array.from({ length: C * H * H }, () => r() - 0.5);
  const w = Float32Array.from({ length: C * C * K * K }, () => r() - 0.5);
  const dy = Float32Array.from({ length: C * H * H }, () => r() - 0.5);
  const g = conv2dGeometry([1, C, H, H], [C, C, K, K], {
    stride: [1, 1],
    dilation: [1, 1],
    inputDilation: [1, 1],
    pad: [1, 1, 1, 1],
    groups: 1,
  });
  const jx = np.array(x).reshape([1, C, H, H]);
  const jw = np.array(w).reshape([C, C, K, K]);
  const jdy = np.array(dy).reshape([1, C, H, H]);
  const jaxFwd = () => f32(lax.conv(jx.ref, jw.ref, [1, 1], "SAME"));
  const oursFwd = () => conv2dForward(x, w, g, null, false);
  rows.push({
    row: "conv 3x3 64->64 64x64 fwd",
    ours: await timeIt(oursFwd, short),
    peer: "jax-js wasm (eager)",
    peerTiming: await timeIt(jaxFwd, short),
    maxRelDiff: maxRelDiff(jaxFwd(), oursFwd()),
  });
  const jaxFwdGrad = () => {
    const [y, pullback] = jax.vjp((v: JaxArray) => lax.conv(v, jw.ref, [1, 1], "SAME"), [jx.ref]);
    y.dispose();
    const [gx] = pullback(jdy.ref) as JaxArray[];
    return f32(gx);
  };
  const oursFwdGrad = () => {
    conv2dForward(x, w, g, null, false);
    return conv2dInputGrad(dy, w, g);
  };
  rows.push({
    row: "conv 3x3 64->64 64x64 fwd + input grad",
    ours: await timeIt(oursFwdGrad, short),
    peer: "jax-js wasm (eager)",
    peerTiming: await timeIt(jaxFwdGrad, short),
    maxRelDiff: maxRelDiff(jaxFwdGrad(), oursFwdGrad()),
  });
  jx.dispose();
  jw.dispose();
  jdy.dispose();

  // RDN slim x4 on an lr x lr image in [0, 255], cotangent in [-0.5, 0.5).
  const h = o.lr;
  const rx = Float32Array.from({ length: 3 * h * h }, () => 255 * r());
  const rdy = Float32Array.from({ length: 3 * 16 * h * h }, () => r() - 0.5);
  const m = loadUpscalerModule("esrgan-slim", 4).eval();
  const xt = tensor(rx, [1, 3, h, h]);
  const dyt = tensor(rdy, [1, 3, 4 * h, 4 * h]);
  const vg = valueAndGrad((t: Tensor) => m.call(t));
  const oursRdnFwd = () => {
    const y = m.call(xt);
    const v = y.dataSync() as Float32Array; // a copy already
    y.dispose();
    return v;
  };
  const oursRdnGrad = () => {
    const { value, grad } = vg(xt, dyt);
    const v = Float32Array.from(grad.dataSync() as Float32Array);
    value.dispose();
    grad.dispose();
    return v;
  };
  const net = jaxRdn();
  const jrx = np.array(rx).reshape([1, 3, h, h]);
  const jrdy = np.array(rdy).reshape([1, 3, 4 * h, 4 * h]);
  const jaxRdnFwd = () => f32(net(jrx.ref));
  const jaxGrad = jax.grad((v: JaxArray) => net(v).mul(jrdy.ref).sum());
  const jaxRdnGrad = () => f32(jaxGrad(jrx.ref));
  const slow = { runs: Math.min(o.runs, 3), warmup: 1, slowMs: 1e9 };
  rows.push({
    row: `RDN slim x4 ${h}x${h} fwd`,
    ours: await timeIt(oursRdnFwd, slow),
    peer: "jax-js wasm (eager)",
    peerTiming: await timeIt(jaxRdnFwd, slow),
    maxRelDiff: maxRelDiff(jaxRdnFwd(), oursRdnFwd()),
  });
  rows.push({
    row: `RDN slim x4 ${h}x${h} fwd + input grad`,
    ours: await timeIt(oursRdnGrad, slow),
    peer: "jax-js wasm (eager, grad)",
    peerTiming: await timeIt(jaxRdnGrad, slow),
    maxRelDiff: maxRelDiff(jaxRdnGrad(), oursRdnGrad()),
  });
  jrx.dispose();
  jrdy.dispose();
  xt.dispose();
  dyt.dispose();
  return rows;
}

/**
 * The RDN-like ONNX network loaded by us, its h x h LR input (seeded) and our forward on it,
 * returning the output (a copy): the onnxruntime rows and `--profile-ort` share it.
 */
export function rdnLikeForward(onnx: string, h: number) {
  const r = rng(9);
  const x = Float32Array.from({ length: 3 * h * h }, () => r());
  const ours = loadOnnx(new Uint8Array(readFileSync(onnx)), { name: "rdn-like-x4" }).eval();
  const xt = tensor(x, [1, 3, h, h]);
  const forward = () => {
    const y = ours.call(xt);
    const v = y.dataSync() as Float32Array; // a copy already
    y.dispose();
    return v;
  };
  return { x, xt, forward };
}

async function ortRows(o: { runs: number; lr: number }): Promise<PeerRow[]> {
  const model = rdnLikeOnnx();
  if (model === null) return [];
  const h = o.lr;
  const { x, xt, forward: oursFwd } = rdnLikeForward(model.onnx, h);
  const timing = { runs: o.runs, warmup: 2, slowMs: 1e9 };
  const oursT = await timeIt(oursFwd, timing);
  const ref = oursFwd();
  const rows: PeerRow[] = [];
  const ort = await loadOrt();
  if (!ort) {
    xt.dispose();
    return rows;
  }
  for (const threads of [1, 2]) {
    const session = await ort.InferenceSession.create(model.onnx, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionProviders: ["cpu"],
    });
    const feeds = { lr: new ort.Tensor("float32", x, [1, 3, h, h]) };
    const run = async () => {
      const out = await session.run(feeds);
      return out.sr.data as Float32Array;
    };
    const diff = maxRelDiff(await run(), ref);
    rows.push({
      row: `RDN-like x4 ONNX (${model.params} params) ${h}x${h} fwd`,
      ours: oursT,
      peer: `onnxruntime-node ${ort.env.versions?.common ?? ""} (${threads} thr)`,
      peerTiming: await timeIt(run, timing),
      maxRelDiff: diff,
    });
    await session.release();
  }
  xt.dispose();
  return rows;
}

export async function runPeersBench(o: { runs: number; lr: number }): Promise<PeerRow[]> {
  // onnxruntime's rows first: after jax-js's, our forward there measured ~10% slower (34.6 ms
  // against 31-32 ms) than in a process without jax-js, while our rows before it did not change.
  const ort = await ortRows(o);
  const rows = [...(await jaxRows(o)), ...ort];
  for (const r of rows) {
    if (!(r.maxRelDiff < 1e-4)) {
      throw new Error(`${r.row}: ${r.peer} differs from ours by ${r.maxRelDiff} (limit 1e-4)`);
    }
  }
  return rows;
}

export function formatPeersTable(rows: PeerRow[]): string {
  const lines = [
    "JavaScript peers (same inputs, results checked against ours; ours uses the GEMM worker)",
    "| row | peer | ours ms (cpu) | peer ms (cpu) | peer/ours time (cpu) | max rel diff |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.row} | ${r.peer} | ${r.ours.ms.toFixed(1)} (${r.ours.cpuMs.toFixed(1)}) | ${r.peerTiming.ms.toFixed(1)} (${r.peerTiming.cpuMs.toFixed(1)}) | ${(r.peerTiming.ms / r.ours.ms).toFixed(2)} (${(r.peerTiming.cpuMs / r.ours.cpuMs).toFixed(2)}) | ${r.maxRelDiff.toExponential(1)} |`,
    );
  }
  return lines.join("\n");
}

/**
 * `--profile-ort`: where the RDN-like x4 ONNX network's forward spends its time in salient and in
 * onnxruntime-node, per op, in the same process: ours by src/autodiff/profile.ts (op name and
 * input shapes), onnxruntime's by its own profiler (each node's kernel time). Both per forward
 * (the mean over --runs forwards after 5 warm-ups, at the given thread count), with the
 * multiply-add rate of every conv row counted as the conv the ONNX graph states (a 3x3 conv of
 * the upsampled image counts 9 taps at the output's size, whichever way it is computed), so that
 * a row says how close each side comes to its hardware. Written to bench/profile-ort.json.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { formatProfile, profileOps } from "../src/autodiff/profile.ts";
import { setCpuThreads } from "../src/kernels/cpu/wasm/gemm-threads.ts";
import { rdnLikeOnnx } from "./cli-lam.ts";
import { loadOrt, rdnLikeForward } from "./peers.ts";

export const PROFILE_ORT_FILE = join(process.cwd(), "bench", "profile-ort.json");

interface Row {
  op: string;
  ms: number;
  /** Multiply-adds x 2 per forward (every call of the row) where the row is a conv, else null. */
  flop: number | null;
}

const WARMUP = 5;

/** 2 x multiply-adds of a conv from input [N, C, H, W], weight [O, C/g, kh, kw], output H x W. */
function convFlop(w: readonly number[], n: number, outH: number, outW: number): number {
  const [o, cg, kh, kw] = w;
  return 2 * n * o * cg * kh * kw * outH * outW;
}

const shapesIn = (s: string) =>
  [...s.matchAll(/\[([\d,]+)\]/g)].map((m) => m[1].split(",").map(Number));

/**
 * Our rows' conv multiply-adds, as the ONNX graph states them: conv2d keeps the size ('same'
 * pads in this net); interleavedConv2d is nearest upsample x2 + 3x3 conv (four 2x2 phase convs).
 */
function oursFlop(op: string): number | null {
  const [x, w] = shapesIn(op);
  if (op.startsWith("conv2d ")) return convFlop(w, x[0], x[2], x[3]);
  if (op.startsWith("interleavedConv2d ")) {
    return convFlop([w[0], w[1], 3, 3], x[0], 2 * x[2], 2 * x[3]);
  }
  return null;
}

interface TraceEvent {
  cat?: string;
  name: string;
  ts: number;
  dur: number;
  args?: {
    op_name?: string;
    input_type_shape?: Record<string, number[]>[];
    output_type_shape?: Record<string, number[]>[];
  };
}

/** onnxruntime's node kernel times over the runs after the warm-ups, per forward, by op and input shapes. */
function ortRows(trace: TraceEvent[], runs: number): Row[] {
  const modelRuns = trace.filter((e) => e.name === "model_run").sort((a, b) => a.ts - b.ts);
  const from = modelRuns[WARMUP]?.ts ?? 0;
  const rows = new Map<string, Row>();
  for (const e of trace) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time") || e.ts < from) continue;
    const ins = (e.args?.input_type_shape ?? []).map((t) => Object.values(t)[0]);
    const out = Object.values(e.args?.output_type_shape?.[0] ?? {})[0];
    const op = `${e.args?.op_name} ${ins.map((s) => `[${s}]`).join(" ")}`;
    const flop =
      e.args?.op_name === "Conv" && out ? convFlop(ins[1], ins[0][0], out[2], out[3]) : null;
    const row = rows.get(op) ?? { op, ms: 0, flop: flop === null ? null : 0 };
    row.ms += e.dur / 1000 / runs;
    if (row.flop !== null && flop !== null) row.flop += flop / runs;
    rows.set(op, row);
  }
  return [...rows.values()].sort((a, b) => b.ms - a.ms);
}

function table(title: string, rows: Row[]): string {
  const lines = [title, "| op (input shapes) | ms / forward | GFLOP/s |", "| --- | --- | --- |"];
  for (const r of rows) {
    const rate = r.flop === null ? "-" : (r.flop / (r.ms * 1e6)).toFixed(0);
    lines.push(`| ${r.op} | ${r.ms.toFixed(3)} | ${rate} |`);
  }
  const total = rows.reduce((a, r) => a + r.ms, 0);
  lines.push(`| (sum of rows) | ${total.toFixed(2)} | |`);
  return lines.join("\n");
}

export async function profileAgainstOrt(
  lr: number,
  runs: number,
  threads: 1 | 2,
): Promise<{ text: string }> {
  const model = rdnLikeOnnx();
  if (model === null) throw new Error("--profile-ort needs PyTorch to export the RDN-like network");
  const ort = await loadOrt();
  if (ort === null)
    throw new Error("--profile-ort needs onnxruntime-node (npm run bench installs it)");
  setCpuThreads(threads);
  const { x, xt, forward } = rdnLikeForward(model.onnx, lr);
  for (let i = 0; i < WARMUP; i++) forward();
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    forward();
    wall.push(performance.now() - t0);
  }
  const { profile } = await profileOps(
    () => {
      for (let i = 0; i < runs; i++) forward();
    },
    { byShape: true },
  );
  xt.dispose();
  const oursRows: Row[] = [];
  for (const row of profile.rows) {
    if (row.phase !== "forward") continue;
    const flop = oursFlop(row.op);
    const calls = row.count / runs;
    oursRows.push({ op: row.op, ms: row.ms / runs, flop: flop === null ? null : flop * calls });
  }

  const dir = mkdtempSync(join(tmpdir(), "salient-ort-profile-"));
  const session = await ort.InferenceSession.create(model.onnx, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionProviders: ["cpu"],
    enableProfiling: true,
    profileFilePrefix: join(dir, "ort"),
  });
  const feeds = { lr: new ort.Tensor("float32", x, [1, 3, lr, lr]) };
  for (let i = 0; i < WARMUP; i++) await session.run(feeds);
  const ortWall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    ortWall.push(performance.now() - t0);
  }
  session.endProfiling();
  await session.release();
  const traceFile = readdirSync(dir).find((f) => f.endsWith(".json"));
  if (traceFile === undefined) throw new Error(`onnxruntime wrote no profile into ${dir}`);
  const trace = JSON.parse(readFileSync(join(dir, traceFile), "utf8")) as TraceEvent[];
  rmSync(dir, { recursive: true, force: true });
  const theirs = ortRows(trace, runs);

  const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const load = loadavg()[0];
  writeFileSync(
    PROFILE_ORT_FILE,
    `${JSON.stringify({ lr, runs, threads, loadavg1m: load, oursWallMs: median(wall), ortWallMs: median(ortWall), ours: oursRows, onnxruntime: theirs }, null, 1)}\n`,
  );
  const head = `RDN-like x4 ONNX (${model.params} params), ${lr}x${lr} LR, ${threads} thread(s), ${runs} forwards after ${WARMUP} warm-ups (1-min load ${load.toFixed(2)}; written to ${PROFILE_ORT_FILE.slice(process.cwd().length + 1)})`;
  const text = [
    head,
    `Forward, median wall: ours ${median(wall).toFixed(2)} ms, onnxruntime-node ${median(ortWall).toFixed(2)} ms`,
    "",
    table(
      "salient (profiled: each op timed on its own, so the rows sum above the wall time)",
      oursRows,
    ),
    "",
    table("onnxruntime-node (its profiler's node kernel times)", theirs),
    "",
    "salient, every phase:",
    formatProfile(profile),
  ].join("\n");
  return { text };
}

/**
 * A second thread for the wasm GEMM macro-kernel (Node only). A worker thread holds its own
 * instance of the GEMM module on the same shared wasm memory; for a large enough block the
 * driver (gemm-wasm.ts) hands the worker one range of B panels (output columns) through a small
 * SharedArrayBuffer, runs `gebp` on the other range itself, and blocks in Atomics.wait until the
 * worker is done (the engine's ops are synchronous). Packing, copying C in and out and
 * everything else stay on the calling thread. Each output element is computed by the same
 * `gebp` code from the same packed data on one thread, so results are bitwise those of one
 * thread.
 *
 * The worker starts in the background on the first GEMM; until it reports ready, GEMMs run on
 * one thread. It is unref'd, so it never keeps the process alive. Off (one thread) wherever
 * `process.getBuiltinModule` (Node >= 20.16), shared wasm memory or two cores are missing, in
 * Deno and Bun, and when SALIENT_CPU_THREADS=1 or `setCpuThreads(1)`.
 */
import { type GemmSimd, WASM_MR } from "./gemm-simd.ts";

/** ctrl slots (Int32): job sequence (main), done sequence (worker), ready, error, gebp args. */
const SEQ = 0;
const DONE = 1;
const READY = 2;
const ERROR = 3;
const ARGS = 4;

/** The worker: CommonJS source run with `eval: true` (no file to locate after bundling). */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
parentPort.once("message", ({ module, memory, ctrl }) => {
  const c = new Int32Array(ctrl);
  let gebp;
  try {
    gebp = new WebAssembly.Instance(module, { env: { mem: memory } }).exports.gebp;
  } catch {
    Atomics.store(c, ${ERROR}, 1);
    return;
  }
  Atomics.store(c, ${READY}, 1);
  let seen = 0;
  for (;;) {
    Atomics.wait(c, ${SEQ}, seen);
    const seq = Atomics.load(c, ${SEQ});
    if (seq === seen) continue;
    seen = seq;
    try {
      gebp(c[${ARGS}], c[${ARGS + 1}], c[${ARGS + 2}], c[${ARGS + 3}], c[${ARGS + 4}], c[${ARGS + 5}], c[${ARGS + 6}], c[${ARGS + 7}]);
    } catch {
      Atomics.store(c, ${ERROR}, 1);
    }
    Atomics.store(c, ${DONE}, seen);
    Atomics.notify(c, ${DONE});
  }
});
`;

/**
 * Smallest block (kc x padded columns x padded rows multiply-adds) split over two threads. A
 * dense GEMM (JS packing on the calling thread) broke even at about 1.3 M (m 48, k 432, n 64:
 * 0.92-1.08x) and gained 1.2-1.3x at 2.6 M (n 128) on this 2-core machine.
 */
let splitMinWork = 1 << 20;
/**
 * Share of the panels the calling thread computes. The worker reads A and B panels that the
 * calling thread has just packed (in its own caches), and took 1.17x as long for the same work
 * in an RDN fwd+grad (time the caller waited), so the caller takes a little more than half.
 */
const MAIN_SHARE = 0.55;
let wanted = envThreads();
let ctrl: Int32Array | null = null;
let started = false;
let canWait = true;
let seq = 0;

function envThreads(): 1 | 2 {
  try {
    return typeof process !== "undefined" && process.env?.SALIENT_CPU_THREADS === "1" ? 1 : 2;
  } catch {
    return 2;
  }
}

type NodeProcess = {
  versions?: { node?: string; bun?: string };
  getBuiltinModule?: (id: string) => unknown;
};

function nodeProcess(): NodeProcess | null {
  const g = globalThis as { process?: NodeProcess; Deno?: unknown };
  const p = g.process;
  if (g.Deno !== undefined || p === undefined || !p.versions?.node || p.versions.bun) return null;
  return typeof p.getBuiltinModule === "function" ? p : null;
}

/**
 * Whether GEMM blocks may be split over two threads (default: yes where supported); with 1 they
 * never are. SALIENT_CPU_THREADS=1 in the environment sets 1 at start-up, and then the GEMM's
 * memory is made private (not shared) on first use, so a later setCpuThreads(2) has no effect.
 */
export function setCpuThreads(n: 1 | 2): void {
  wanted = n;
}

/** The thread count set by setCpuThreads / SALIENT_CPU_THREADS. */
export function cpuThreads(): 1 | 2 {
  return wanted;
}

/** True when GEMM blocks are being split now (helper up and wanted). */
export function gemmThreadsActive(): boolean {
  return helperUp();
}

/** Sets the smallest block work (multiply-adds) that is split; returns the previous value. */
export function setGemmSplitMinWork(work: number): number {
  const prev = splitMinWork;
  splitMinWork = work;
  return prev;
}

/** Whether the runtime can run the helper at all (Node with shared memory and 2+ cores). */
export function threadsSupported(): boolean {
  if (typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") return false;
  const p = nodeProcess();
  if (p === null) return false;
  try {
    const os = p.getBuiltinModule?.("node:os") as { availableParallelism?: () => number } | null;
    return (os?.availableParallelism?.() ?? 1) >= 2;
  } catch {
    return false;
  }
}

/** Starts the worker for `s` (a shared-memory instance) once; returns without waiting for it. */
export function startHelper(s: GemmSimd): void {
  if (started || !s.shared) return;
  started = true;
  const p = nodeProcess();
  try {
    const wt = p?.getBuiltinModule?.("node:worker_threads") as
      | typeof import("node:worker_threads")
      | undefined;
    if (!wt) return;
    const c = new Int32Array(new SharedArrayBuffer(16 * 4));
    const w = new wt.Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    // A dead worker (an error, or terminated): later GEMMs stay on the calling thread.
    const fail = () => Atomics.store(c, ERROR, 1);
    w.on("error", fail);
    w.on("exit", fail);
    w.postMessage({ module: s.module, memory: s.memory, ctrl: c.buffer });
    ctrl = c;
  } catch {
    ctrl = null;
  }
}

/** True when the helper is up and splitting is wanted. */
function helperUp(): boolean {
  return (
    wanted === 2 &&
    ctrl !== null &&
    Atomics.load(ctrl, READY) === 1 &&
    Atomics.load(ctrl, ERROR) === 0
  );
}

/**
 * Resolves once the helper is ready (true) or cannot start (false); starts it for `s` if
 * needed. For tests and benchmarks that want the split from the first call.
 */
export async function helperReady(s: GemmSimd | null, timeoutMs = 10000): Promise<boolean> {
  if (s === null || !s.shared || !threadsSupported()) return false;
  startHelper(s);
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (ctrl === null || Atomics.load(ctrl, ERROR) !== 0) return false;
    if (Atomics.load(ctrl, READY) === 1) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

/**
 * gebp(kc, np, mp, a, b, c, ldc, add) over np B panels, split by panels over the calling thread
 * (the first half, an even number of panels) and the helper (the rest) when the block is large
 * enough and the helper is up; otherwise one call here.
 */
export function gebpSplit(
  s: GemmSimd,
  kc: number,
  np: number,
  mp: number,
  a: number,
  b: number,
  c: number,
  ldc: number,
  add: number,
): void {
  const work = kc * np * 4 * mp * WASM_MR;
  if (np < 4 || work < splitMinWork || !helperUp()) {
    s.gebp(kc, np, mp, a, b, c, ldc, add);
    return;
  }
  const ctl = ctrl as Int32Array;
  // An even number of panels here: gebp pairs adjacent panels (the pairing changes no sum).
  const h = Math.min(np - 2, 2 * Math.round((np * MAIN_SHARE) / 2));
  ctl[ARGS] = kc;
  ctl[ARGS + 1] = np - h;
  ctl[ARGS + 2] = mp;
  ctl[ARGS + 3] = a;
  ctl[ARGS + 4] = b + h * kc * 16;
  ctl[ARGS + 5] = c + h * 16;
  ctl[ARGS + 6] = ldc;
  ctl[ARGS + 7] = add;
  seq = (seq + 1) | 0;
  if (seq === 0) seq = 1;
  Atomics.store(ctl, SEQ, seq);
  Atomics.notify(ctl, SEQ);
  s.gebp(kc, h, mp, a, b, c, ldc, add);
  for (;;) {
    const done = Atomics.load(ctl, DONE);
    if (done === seq) break;
    if (Atomics.load(ctl, ERROR) !== 0) break;
    if (canWait) {
      try {
        Atomics.wait(ctl, DONE, done, 1000);
      } catch {
        canWait = false; // a thread that may not block (e.g. a renderer): poll instead
      }
    }
  }
  if (Atomics.load(ctl, ERROR) !== 0) {
    // The helper failed: compute its half here (and stop splitting: helperUp is now false).
    s.gebp(kc, np - h, mp, a, b + h * kc * 16, c + h * 16, ldc, add);
  }
}

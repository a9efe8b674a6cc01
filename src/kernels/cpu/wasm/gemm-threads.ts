/**
 * A second thread for the wasm GEMM macro-kernel (Node only). A worker thread holds its own
 * instance of the GEMM module on the same shared wasm memory; for a large enough block the
 * driver (gemm-wasm.ts) publishes the block's `gebp` arguments in a small SharedArrayBuffer and
 * both threads take chunks of B panels (output columns) from a shared counter until none are
 * left, so the split follows whichever thread is faster (the worker reads panels the calling
 * thread has just packed, from the other core's cache, and ran ~1.2x slower on a fixed share).
 * The calling thread blocks in Atomics.wait until the worker has finished its last chunk (the
 * engine's ops are synchronous). Packing, copying C in and out and everything else stay on the
 * calling thread. Each output element is computed by the same `gebp` code from the same packed
 * data on one thread, so results are bitwise those of one thread.
 *
 * The worker starts in the background on the first GEMM; until it reports ready, GEMMs run on
 * one thread. It is unref'd, so it never keeps the process alive. Off (one thread) wherever
 * `process.getBuiltinModule` (Node >= 20.16), shared wasm memory or two cores are missing, in
 * Deno and Bun, and when SALIENT_CPU_THREADS=1 or `setCpuThreads(1)`.
 */
import { envSetting } from "../env-setting.ts";
import type { WasmPanels } from "../gemm.ts";
import { DIRECT_CONV_PARAMS } from "./direct-conv-kernel.ts";
import {
  type DirectConvArgs,
  type GebpArgs,
  type GemmSimd,
  WASM_MR,
  type WinoBlockArgs,
  type WinoChunkArgs,
} from "./gemm-simd.ts";
import { nodeProcess } from "./node-process.ts";
import { WINO_BLOCK_PARAMS } from "./winograd-block.ts";

/**
 * ctrl slots (Int32): job sequence (main), done sequence (worker), ready, error, join (1: job
 * open to the worker, 2: worker joined, 0: closed), next free panel, panels per chunk, gebp args,
 * packcols args (full panels first: 0 when B is packed already).
 */
const SEQ = 0;
const DONE = 1;
const READY = 2;
const ERROR = 3;
const JOIN = 4;
const NEXT = 5;
const CHUNK = 6;
const ARGS = 8;
/** packcols arguments (WasmPanels) when the chunks are packed by the thread computing them. */
const PACK = 16;
/**
 * The job's kind: GEBP_JOB, Winograd tile blocks (winograd-block.ts) of F(2x2, 3x3) (WINO_JOB),
 * F(2x2, 2x2) (WINO2_JOB) or F(4x4, 3x3) (WINO4_JOB), or DCONV_JOB.
 */
const KIND = 26;
const GEBP_JOB = 0;
const WINO_JOB = 1;
const WINO2_JOB = 2;
/**
 * Rows of a direct conv (direct-conv-kernel.ts): its DIRECT_CONV_PARAMS arguments at WINO, rows
 * per chunk after them.
 */
const DCONV_JOB = 3;
const WINO4_JOB = 4;
/** Winograd GEMMs by output-channel chunks (winograd-chunks.ts). */
const WINO_CHUNK_JOB = 5;
const WINO_CHUNK4_JOB = 6;
const WINO42_JOB = 7;
/** The job kind of each chunk function. */
const CHUNK_JOBS = { winochunk: WINO_CHUNK_JOB, winochunk4: WINO_CHUNK4_JOB } as const;
/** A chunked Winograd GEMM function of the GEMM module. */
export type WinoChunkName = keyof typeof CHUNK_JOBS;
/** The job kind of each Winograd block function. */
const WINO_JOBS = {
  winoblock: WINO_JOB,
  winoblock2: WINO2_JOB,
  winoblock4: WINO4_JOB,
  winoblock42: WINO42_JOB,
} as const;
/** A Winograd block function of the GEMM module. */
export type WinoBlockName = keyof typeof WINO_JOBS;
/**
 * A ranged job (the Winograd kinds): the function's arguments at WINO, and at RANGE: the range's
 * length, its step, the indices of the arguments that take a step's start and length, the
 * argument count, then up to two (index, value) pairs the worker puts in its own arguments
 * (its scratch).
 */
const WINO = 27;
const RANGE = WINO + WINO_BLOCK_PARAMS;
const SLOTS = RANGE + 10;

/** The worker: CommonJS source run with `eval: true` (no file to locate after bundling). */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
parentPort.once("message", ({ module, memory, ctrl }) => {
  const c = new Int32Array(ctrl);
  let gebp, packcols, rangedFns, dconv;
  try {
    const ex = new WebAssembly.Instance(module, { env: { mem: memory } }).exports;
    ({ gebp, packcols, dconv } = ex);
    rangedFns = {
      ${WINO_JOB}: ex.winoblock, ${WINO2_JOB}: ex.winoblock2, ${WINO4_JOB}: ex.winoblock4,
      ${WINO_CHUNK_JOB}: ex.winochunk, ${WINO_CHUNK4_JOB}: ex.winochunk4,
      ${WINO42_JOB}: ex.winoblock42,
    };
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
    // Join only a job that is still open (the caller closes one it finished alone).
    if (Atomics.compareExchange(c, ${JOIN}, 1, 2) !== 1) continue;
    seen = Atomics.load(c, ${SEQ});
    if (c[${KIND}] === ${DCONV_JOB}) {
      const a = Array.from(c.subarray(${WINO}, ${WINO + DIRECT_CONV_PARAMS}));
      const rows = a[5], per = c[${WINO + DIRECT_CONV_PARAMS}];
      const rowBytes = a[3] * 4, outRowBytes = a[6] * 4;
      try {
        for (;;) {
          const r0 = Atomics.add(c, ${NEXT}, 1) * per;
          if (r0 >= rows) break;
          dconv(a[0], a[1], a[2], a[3], a[4], Math.min(per, rows - r0), a[6],
            a[7] + r0 * rowBytes, a[8], a[9] + r0 * outRowBytes, a[10]);
        }
      } catch {
        Atomics.store(c, ${ERROR}, 1);
      }
      Atomics.store(c, ${DONE}, seen);
      Atomics.notify(c, ${DONE});
      continue;
    }
    const ranged = rangedFns[c[${KIND}]];
    if (ranged !== undefined) {
      const a = Array.from(c.subarray(${WINO}, ${WINO} + c[${RANGE + 4}]));
      const total = c[${RANGE}], per = c[${RANGE + 1}], at = c[${RANGE + 2}], len = c[${RANGE + 3}];
      for (let i = 0; i < c[${RANGE + 5}]; i++) a[c[${RANGE + 6} + 2 * i]] = c[${RANGE + 7} + 2 * i];
      try {
        for (;;) {
          const start = Atomics.add(c, ${NEXT}, 1) * per;
          if (start >= total) break;
          a[at] = start;
          a[len] = Math.min(per, total - start);
          ranged(...a);
        }
      } catch {
        Atomics.store(c, ${ERROR}, 1);
      }
      Atomics.store(c, ${DONE}, seen);
      Atomics.notify(c, ${DONE});
      continue;
    }
    const kc = c[${ARGS}], np = c[${ARGS + 1}], mp = c[${ARGS + 2}], a = c[${ARGS + 3}];
    const b = c[${ARGS + 4}], cc = c[${ARGS + 5}], ldc = c[${ARGS + 6}], add = c[${ARGS + 7}];
    const chunk = c[${CHUNK}];
    const full = c[${PACK}];
    try {
      for (;;) {
        const p = Atomics.add(c, ${NEXT}, chunk);
        if (p >= np) break;
        const n = Math.min(chunk, np - p);
        if (p < full) {
          packcols(b + p * kc * 16, c[${PACK + 1}], c[${PACK + 2}], kc, c[${PACK + 3}] + 4 * p,
            Math.min(n, full - p), c[${PACK + 4}], c[${PACK + 5}], c[${PACK + 6}],
            c[${PACK + 7}], c[${PACK + 8}]);
        }
        gebp(kc, n, mp, a, b + p * kc * 16, cc + p * 16, ldc, add);
      }
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
/** Chunks per split block: small enough to balance, large enough that taking one is cheap. */
const CHUNKS = 24;
let wanted = envThreads();
let ctrl: Int32Array | null = null;
let started = false;
let canWait = true;
let seq = 0;

function envThreads(): 1 | 2 {
  return envSetting("SALIENT_CPU_THREADS") === "1" ? 1 : 2;
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
    const c = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
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
 * gebp(kc, np, mp, a, b, c, ldc, add) over np B panels, shared in chunks of panels between the
 * calling thread and the helper when the block is large enough and the helper is up; otherwise
 * one call here. With `pack`, the full panels are not packed yet: each chunk is packed by the
 * thread that then computes it (in its own cache).
 */
export function gebpSplit(s: GemmSimd, pack: WasmPanels | null, ...args: GebpArgs): void {
  const [kc, np, mp, a, b, c, ldc, add] = args;
  const work = kc * np * 4 * mp * WASM_MR;
  const packChunk = (p: number, n: number) => {
    if (pack !== null && p < pack.full) {
      const { xp, taps, q0, full, outW, rowStep, sw, imgPix, imgStride } = pack;
      s.packcols(
        b + p * kc * 16,
        xp,
        taps,
        kc,
        q0 + 4 * p,
        Math.min(n, full - p),
        outW,
        rowStep,
        sw,
        imgPix,
        imgStride,
      );
    }
  };
  if (np < 4 || work < splitMinWork || !helperUp()) {
    packChunk(0, np);
    s.gebp(...args);
    return;
  }
  const ctl = ctrl as Int32Array;
  // An even chunk: gebp pairs adjacent panels (the pairing changes no sum, only speed).
  const chunk = Math.max(2, 2 * Math.ceil(np / CHUNKS / 2));
  ctl[ARGS] = kc;
  ctl[ARGS + 1] = np;
  ctl[ARGS + 2] = mp;
  ctl[ARGS + 3] = a;
  ctl[ARGS + 4] = b;
  ctl[ARGS + 5] = c;
  ctl[ARGS + 6] = ldc;
  ctl[ARGS + 7] = add;
  ctl[CHUNK] = chunk;
  ctl[PACK] = pack === null ? 0 : pack.full;
  if (pack !== null) {
    ctl[PACK + 1] = pack.xp;
    ctl[PACK + 2] = pack.taps;
    ctl[PACK + 3] = pack.q0;
    ctl[PACK + 4] = pack.outW;
    ctl[PACK + 5] = pack.rowStep;
    ctl[PACK + 6] = pack.sw;
    ctl[PACK + 7] = pack.imgPix;
    ctl[PACK + 8] = pack.imgStride;
  }
  ctl[KIND] = GEBP_JOB;
  openJob(ctl);
  for (;;) {
    const p = Atomics.add(ctl, NEXT, chunk);
    if (p >= np) break;
    const n = Math.min(chunk, np - p);
    packChunk(p, n);
    s.gebp(kc, n, mp, a, b + p * kc * 16, c + p * 16, ldc, add);
  }
  finishJob(ctl);
}

/** Scratch of one thread for winoblock: its V and M blocks (byte addresses). */
export interface WinoScratch {
  v: number;
  m: number;
}

/**
 * Winograd block function `fn` over `groups` tile groups, `perBlock` at a time, shared
 * block by block between the calling thread (scratch `own`) and the helper (scratch `helper`)
 * when there are at least two blocks and the helper is up. `args` are winoblock's; its g0, ng, v
 * and m are set per block.
 */
export function winoSplit(...args: Parameters<typeof winoSplitOpen>): void {
  winoSplitOpen(...args)();
}

/**
 * winoSplit in two halves: publishes the blocks to the helper now and returns `join`, which
 * computes the blocks left on this thread and waits for the helper's. Between the two, this
 * thread may do work of its own that touches neither the blocks' operands nor their outputs,
 * and must open no other job (staging the next chunk of images while the helper starts this
 * one). Without the helper, join computes every block.
 */
export function winoSplitOpen(
  s: GemmSimd,
  fn: WinoBlockName,
  args: WinoBlockArgs,
  groups: number,
  perBlock: number,
  own: WinoScratch,
  helper: WinoScratch,
): () => void {
  return rangeSplit(s, fn, WINO_JOBS[fn], args, { total: groups, per: perBlock, at: 6, len: 7 }, [
    [10, own.v, helper.v],
    [11, own.m, helper.m],
  ]);
}

/**
 * Chunk function `fn` over output panels 0 .. panels - 1, `perChunk` at a time, shared chunk by
 * chunk between the calling thread (U buffer `ownU`) and the helper (`helperU`). `args` are
 * winochunk's; its u, p0 and np are set per chunk.
 */
export function chunkSplit(
  s: GemmSimd,
  fn: WinoChunkName,
  args: WinoChunkArgs,
  panels: number,
  perChunk: number,
  ownU: number,
  helperU: number,
): void {
  rangeSplit(s, fn, CHUNK_JOBS[fn], args, { total: panels, per: perChunk, at: 4, len: 5 }, [
    [1, ownU, helperU],
  ])();
}

/**
 * s[fn](...args) over 0 .. total - 1 in steps of `per` (argument `at` the step's start, `len`
 * its length), shared step by step with the helper when there are two steps or more and it is
 * up; `scratch` lists (argument index, this thread's value, the helper's value). The helper
 * starts at once; the returned function runs this thread's steps and waits for the helper's.
 */
function rangeSplit(
  s: GemmSimd,
  fn: WinoBlockName | WinoChunkName,
  kind: number,
  args: readonly number[],
  r: { total: number; per: number; at: number; len: number },
  scratch: [index: number, own: number, helper: number][],
): () => void {
  const a = [...args];
  for (const [i, own] of scratch) a[i] = own;
  const run = s[fn] as (...a: number[]) => void;
  const step = (start: number) => {
    a[r.at] = start;
    a[r.len] = Math.min(r.per, r.total - start);
    run(...a);
  };
  if (r.total <= r.per || !helperUp()) {
    return () => {
      for (let start = 0; start < r.total; start += r.per) step(start);
    };
  }
  const ctl = ctrl as Int32Array;
  ctl.set(args, WINO);
  ctl.set([r.total, r.per, r.at, r.len, args.length, scratch.length], RANGE);
  scratch.forEach(([i, , helper], n) => ctl.set([i, helper], RANGE + 6 + 2 * n));
  ctl[KIND] = kind;
  openJob(ctl);
  return () => {
    for (;;) {
      const start = Atomics.add(ctl, NEXT, 1) * r.per;
      if (start >= r.total) break;
      step(start);
    }
    finishJob(ctl);
  };
}

/** Output pixels x channels x taps (multiply-adds / 4) from which a direct conv is split. */
const DCONV_SPLIT_MIN = 1 << 20;

/**
 * dconv over args' rows, in chunks of rows taken by this thread and the helper from a shared
 * counter (each row by one thread, with the same code: bitwise as on one thread).
 */
export function dconvSplit(s: GemmSimd, args: DirectConvArgs): void {
  const [C, kh, kw, Wp, , rows, cols] = args;
  const per = Math.max(1, Math.ceil(rows / CHUNKS));
  if (rows * cols * C * kh * kw < DCONV_SPLIT_MIN || rows <= per || !helperUp()) {
    s.dconv(...args);
    return;
  }
  const ctl = ctrl as Int32Array;
  ctl.set(args, WINO);
  ctl[WINO + DIRECT_CONV_PARAMS] = per;
  ctl[KIND] = DCONV_JOB;
  openJob(ctl);
  const a: DirectConvArgs = [...args];
  for (;;) {
    const r0 = Atomics.add(ctl, NEXT, 1) * per;
    if (r0 >= rows) break;
    a[5] = Math.min(per, rows - r0);
    a[7] = args[7] + r0 * Wp * 4;
    a[9] = args[9] + r0 * cols * 4;
    s.dconv(...a);
  }
  finishJob(ctl);
}

/** Publishes the job whose arguments are in ctl (work counter at 0) and wakes the helper. */
function openJob(ctl: Int32Array): void {
  Atomics.store(ctl, NEXT, 0);
  seq = (seq + 1) | 0;
  if (seq === 0) seq = 1;
  Atomics.store(ctl, SEQ, seq);
  // Opened after SEQ: a worker that joins reads this job's sequence number.
  Atomics.store(ctl, JOIN, 1);
  Atomics.notify(ctl, SEQ);
}

/**
 * After the calling thread found no work left: closes a job the helper never joined, or waits
 * until the helper has finished its last piece.
 */
function finishJob(ctl: Int32Array): void {
  // Not joined yet: close the job (the worker will skip it) and return at once.
  if (Atomics.compareExchange(ctl, JOIN, 1, 0) === 1) return;
  for (;;) {
    const done = Atomics.load(ctl, DONE);
    if (done === seq || Atomics.load(ctl, ERROR) !== 0) break;
    if (canWait) {
      try {
        Atomics.wait(ctl, DONE, done, 1000);
      } catch {
        canWait = false; // a thread that may not block (e.g. a renderer): poll instead
      }
    }
  }
  if (Atomics.load(ctl, ERROR) !== 0) {
    // Pieces the worker took may be half written (C accumulates), so nothing can be redone.
    throw new Error(
      "GEMM helper thread failed in the middle of a block; later GEMMs run on one thread (set SALIENT_CPU_THREADS=1 to avoid the helper)",
    );
  }
}

/**
 * Output buffers of the CPU kernels, recycled. A fresh multi-megabyte Float32Array costs far more
 * than its size suggests: its pages are faulted in on first write and V8 counts it as external
 * memory, which brings garbage collections forward (on this machine writing a fresh 12 MB array
 * took 3-5x as long as rewriting a used one). The backend hands the arrays of freed tensors back
 * here, and a kernel asking for the same length gets one of them, zeroed, so every buffer a
 * kernel gets reads as zeros like a new typed array (zeroing is a memset, ~30x cheaper here than
 * faulting the pages in).
 *
 * The pool holds at most `limit` bytes (by default the larger of 64 MiB and twice the most bytes
 * the backend's live tensors ever held, capped at 1 GiB), dropping the oldest buffers first.
 * Twice, because a buffer only serves a request of its own length: with the limit at the peak
 * itself, the CLI's LAM on the RDN-like net (peak 639 MB) still missed 2.1 GB of requests per run
 * and page-faulted 516k times; at twice the peak it misses only its first batch's 838 MB (251k
 * faults, 12 s -> 9 s on a VM where a fresh 64 MiB array takes 270 ms to fault in). Buffers under
 * 16 KiB are not pooled (malloc serves them well).
 */

const MIN_BYTES = 16 * 1024;
const DEFAULT_FLOOR = 64 * 1024 * 1024;
const DEFAULT_CAP = 1024 * 1024 * 1024;

type Pooled = Float32Array | Int32Array;

const f32Free = new Map<number, Float32Array[]>();
const i32Free = new Map<number, Int32Array[]>();
/** Pooled buffers in the order they were returned (oldest first), for eviction. */
let order: Pooled[] = [];
let pooledBytes = 0;
let fixedLimit: number | null = null;
let highWater = 0;

function limit(): number {
  return fixedLimit ?? Math.min(DEFAULT_CAP, Math.max(DEFAULT_FLOOR, 2 * highWater));
}

function take<T extends Pooled>(pool: Map<number, T[]>, n: number): T | undefined {
  const list = pool.get(n);
  const v = list?.pop();
  if (v === undefined) return undefined;
  pooledBytes -= v.byteLength;
  const at = order.lastIndexOf(v);
  if (at >= 0) order.splice(at, 1);
  return v;
}

/** A zeroed Float32Array of length n (recycled when one is pooled). */
export function allocF32(n: number): Float32Array {
  if (n * 4 >= MIN_BYTES) {
    const v = take(f32Free, n);
    if (v !== undefined) return v.fill(0);
  }
  return new Float32Array(n);
}

/**
 * A Float32Array of length n whose contents are unspecified (a recycled one is not zeroed), for
 * kernels that write every element: a memset pass saved per op on large tensors.
 */
export function allocF32Unset(n: number): Float32Array {
  if (n * 4 >= MIN_BYTES) {
    const v = take(f32Free, n);
    if (v !== undefined) return v;
  }
  return new Float32Array(n);
}

/** A zeroed Int32Array of length n (recycled when one is pooled). */
export function allocI32(n: number): Int32Array {
  if (n * 4 >= MIN_BYTES) {
    const v = take(i32Free, n);
    if (v !== undefined) return v.fill(0);
  }
  return new Int32Array(n);
}

function evict(): void {
  const cap = limit();
  let drop = 0;
  while (pooledBytes > cap && drop < order.length) {
    const v = order[drop++];
    const pool = (v instanceof Float32Array ? f32Free : i32Free) as Map<number, Pooled[]>;
    const list = pool.get(v.length);
    const at = list ? list.indexOf(v) : -1;
    if (list && at >= 0) list.splice(at, 1);
    pooledBytes -= v.byteLength;
  }
  if (drop > 0) order = order.slice(drop);
}

/**
 * Returns the array of a freed tensor to the pool. The caller guarantees nothing reads or
 * writes it any more; arrays that view part of a larger buffer are not pooled.
 */
export function recycle(v: ArrayBufferView): void {
  if (v.byteLength < MIN_BYTES || v.byteOffset !== 0 || v.byteLength !== v.buffer.byteLength) {
    return;
  }
  if (v instanceof Float32Array) {
    const list = f32Free.get(v.length);
    if (list) list.push(v);
    else f32Free.set(v.length, [v]);
  } else if (v instanceof Int32Array) {
    const list = i32Free.get(v.length);
    if (list) list.push(v);
    else i32Free.set(v.length, [v]);
  } else return;
  order.push(v as Pooled);
  pooledBytes += v.byteLength;
  if (pooledBytes > limit()) evict();
}

/** Tells the pool how many bytes the backend's live tensors hold (raises the default limit). */
export function noteLiveBytes(bytes: number): void {
  if (bytes > highWater) highWater = bytes;
}

/**
 * Sets the pool's byte limit (0 disables pooling; null restores the default) and drops buffers
 * over it. Returns the bytes the pool holds afterwards.
 */
export function setBufferPoolLimit(bytes: number | null): number {
  fixedLimit = bytes;
  evict();
  return pooledBytes;
}

/** Bytes held by pooled (free) buffers. */
export function pooledBufferBytes(): number {
  return pooledBytes;
}

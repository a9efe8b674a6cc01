/**
 * Size-bucketed pool of GPU buffers. Buckets are four per octave (at most 25% slack), so a
 * workload that repeats the same shapes reuses the same buffers and allocates nothing after its
 * first iteration. Buffers freed while a recorded-but-unsubmitted command buffer may still use
 * them wait in `pending` until the runtime submits (a queue.writeBuffer into a reused buffer would
 * otherwise land before the pending commands that read its old contents).
 */

export type PoolKind = "storage" | "uniform" | "readback";

const USAGE: Record<PoolKind, number> = {
  storage: 0x80 | 0x04 | 0x08, // STORAGE | COPY_SRC | COPY_DST
  uniform: 0x40 | 0x08, // UNIFORM | COPY_DST
  readback: 0x01 | 0x08, // MAP_READ | COPY_DST
};

/** Smallest bucket holding `bytes`: powers of two up to 4 KiB, then quarter-octave steps. */
export function bucketSize(bytes: number): number {
  const b = Math.max(bytes, 64);
  if (b <= 4096) return 2 ** Math.ceil(Math.log2(b));
  const step = 2 ** (Math.ceil(Math.log2(b)) - 3);
  return Math.ceil(b / step) * step;
}

export interface PoolStats {
  /** Buffers currently handed out (live tensors, scratch of the open batch). */
  inUseBuffers: number;
  inUseBytes: number;
  /** Buffers waiting in free lists for reuse. */
  freeBuffers: number;
  freeBytes: number;
  /** Buffers freed but waiting for the next submit. */
  pendingBuffers: number;
  /** Buffers ever created, for "allocates nothing after warm-up" checks. */
  created: number;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private pending: [string, GPUBuffer][] = [];
  private inUse = 0;
  private inUseBytes = 0;
  private freeBytes = 0;
  private freeCount = 0;
  private created = 0;
  private closed = false;

  constructor(
    private readonly device: GPUDevice,
    /** Free lists beyond this many bytes destroy buffers instead of keeping them. */
    private readonly maxFreeBytes: number,
  ) {}

  acquire(kind: PoolKind, bytes: number): GPUBuffer {
    const size = bucketSize(bytes);
    const key = `${kind}:${size}`;
    const list = this.free.get(key);
    let buf = list?.pop();
    if (buf) {
      this.freeBytes -= size;
      this.freeCount--;
    } else {
      buf = this.device.createBuffer({ size, usage: USAGE[kind], label: key });
      this.created++;
    }
    this.inUse++;
    this.inUseBytes += size;
    return buf;
  }

  /** Returns a buffer; with `deferred` it becomes reusable only after `flushPending()`. */
  release(kind: PoolKind, buf: GPUBuffer, deferred: boolean): void {
    this.inUse--;
    this.inUseBytes -= buf.size;
    const key = `${kind}:${buf.size}`;
    if (deferred) this.pending.push([key, buf]);
    else this.recycle(key, buf);
  }

  /** Called right after a submit: everything freed before it may be reused by later commands. */
  flushPending(): void {
    const p = this.pending;
    this.pending = [];
    for (const [key, buf] of p) this.recycle(key, buf);
  }

  private recycle(key: string, buf: GPUBuffer): void {
    if (this.closed || this.freeBytes + buf.size > this.maxFreeBytes) {
      buf.destroy();
      return;
    }
    const list = this.free.get(key);
    if (list) list.push(buf);
    else this.free.set(key, [buf]);
    this.freeBytes += buf.size;
    this.freeCount++;
  }

  /** Destroys every pooled buffer and, from now on, every buffer returned (backend disposed). */
  close(): void {
    this.flushPending();
    this.trim();
    this.closed = true;
  }

  /** Destroys every pooled (not in-use) buffer. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.freeBytes = 0;
    this.freeCount = 0;
  }

  stats(): PoolStats {
    return {
      inUseBuffers: this.inUse,
      inUseBytes: this.inUseBytes,
      freeBuffers: this.freeCount,
      freeBytes: this.freeBytes,
      pendingBuffers: this.pending.length,
      created: this.created,
    };
  }
}

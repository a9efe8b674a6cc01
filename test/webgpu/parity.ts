/**
 * Kernel-level parity helpers: the same primitive on the WebGPU backend and on the CPU backend
 * (the reference semantics), compared elementwise with a stated tolerance.
 */
import fc from "fast-check";
import type { DType, TensorInfo, TypedArray } from "../../src/kernels/backend.ts";
import { CpuBackend } from "../../src/kernels/cpu/cpu-backend.ts";
import type { WebGPUBackend } from "../../src/kernels/webgpu/index.ts";
import { Rng } from "../reference/rng.ts";
import { gpuBackend } from "./gpu.ts";

export const cpu = new CpuBackend();

/** |gpu - cpu| <= atol + rtol * |cpu|; NaN must meet NaN. atol = rtol = 0 means exactly equal. */
export interface Tol {
  atol: number;
  rtol: number;
}
export const EXACT: Tol = { atol: 0, rtol: 0 };
export const tol = (atol: number, rtol = atol): Tol => ({ atol, rtol });

export interface Pair {
  g: TensorInfo;
  c: TensorInfo;
}

export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Deterministic float32 values from a seed (the shared mulberry32 Rng), uniform in [lo, hi). */
export function values(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.uniform(lo, hi));
}

export class Session {
  private readonly handles: Pair[] = [];
  constructor(readonly gpu: WebGPUBackend) {}

  input(v: TypedArray, shape: readonly number[], dtype: DType = "float32"): Pair {
    const p = {
      g: { handle: this.gpu.upload(v, shape, dtype), shape, dtype },
      c: { handle: cpu.upload(v, shape, dtype), shape, dtype },
    };
    this.handles.push(p);
    return p;
  }

  /** Wraps kernel outputs (both backends) as a pair owned by the session. */
  wrap(g: object, c: object, shape: readonly number[], dtype: DType = "float32"): Pair {
    const p = { g: { handle: g, shape, dtype }, c: { handle: c, shape, dtype } };
    this.handles.push(p);
    return p;
  }

  /** Compares a kernel's output on both backends. */
  async check(
    what: string,
    g: object,
    c: object,
    shape: readonly number[],
    t: Tol,
    dtype: DType = "float32",
  ): Promise<void> {
    const p = this.wrap(g, c, shape, dtype);
    const got = await this.gpu.read(p.g);
    const want = cpu.readSync(p.c);
    assertClose(what, got, want, t);
  }

  dispose(): void {
    for (const p of this.handles) {
      this.gpu.free(p.g.handle);
      cpu.free(p.c.handle);
    }
    this.handles.length = 0;
  }
}

export function assertClose(
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  t: Tol,
): void {
  if (got.length !== want.length)
    throw new Error(`${what}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const a = got[i];
    const e = want[i];
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (Number.isNaN(a) !== Number.isNaN(e))
        throw new Error(`${what}: element ${i} is ${a}, expected ${e}`);
      continue;
    }
    if (a === e) continue;
    const err = Math.abs(a - e);
    if (!(err <= t.atol + t.rtol * Math.abs(e))) {
      throw new Error(
        `${what}: element ${i} is ${a}, expected ${e} (|error| ${err} > ${t.atol} + ${t.rtol} * |expected|)`,
      );
    }
  }
}

/** Runs a fast-check property with a fresh session per case (inputs and outputs freed after). */
export async function parity<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  body: (s: Session, v: T) => Promise<void>,
  numRuns = 15,
  backend: Promise<WebGPUBackend> = gpuBackend(),
): Promise<void> {
  const gpu = await backend;
  let seed = 0;
  for (let i = 0; i < name.length; i++) seed = (Math.imul(seed, 31) + name.charCodeAt(i)) | 0;
  await fc.assert(
    fc.asyncProperty(arb, async (v) => {
      const s = new Session(gpu);
      try {
        await body(s, v);
      } finally {
        s.dispose();
      }
    }),
    { numRuns, seed, endOnFailure: true },
  );
}

export const seedArb = fc.integer({ min: 1, max: 0x7fffffff });
export const shapeArb = (minRank: number, maxRank: number, maxDim = 5) =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

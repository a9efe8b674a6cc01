/**
 * The backend-agnostic suite harness: a case is `{ name, run(ctx) }`, run once per backend by a
 * runner (vitest on the CPU, Deno on WebGPU). No test-framework API in here: a failing case
 * throws an Error naming the op, the shapes, the max error and the tolerance.
 *
 * Values are read only with `await t.data()`, and every tensor is created on the backend under
 * test through `withBackend`.
 */
import fc from "fast-check";
import {
  type Backend,
  dispose,
  type Tensor,
  tensor,
  tidy,
  vjp,
  withBackend,
} from "../../src/index.ts";
import { numericVjp } from "../reference/finite-diff.ts";
import { type Nd, shapeStr, unravel } from "../reference/nd.ts";
import { Rng } from "../reference/rng.ts";

export interface SuiteContext {
  /** The backend under test. */
  backend: Backend;
  /** Multiplies each case's fast-check run count (default 1; every case runs at least once). */
  numRunsScale?: number;
  /** Overrides every case's fast-check seed (by default each case has a fixed seed of its own). */
  seed?: number;
}

export interface SuiteCase {
  name: string;
  run: (ctx: SuiteContext) => Promise<void>;
}

/** |got - want| <= atol + rtol * |want|, elementwise. */
export interface Tol {
  atol: number;
  rtol: number;
}

export const tol = (atol: number, rtol = atol): Tol => ({ atol, rtol });

/** A stable 31-bit hash of a case name: each case gets its own reproducible fast-check seed. */
export function hashSeed(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 1) % 2147483647;
}

export function runsFor(ctx: SuiteContext, base: number): number {
  return Math.max(1, Math.round(base * (ctx.numRunsScale ?? 1)));
}

/** fast-check parameters of a case: scaled run count and its own seed. */
export function fcParams(ctx: SuiteContext, name: string, base: number) {
  return { numRuns: runsFor(ctx, base), seed: ctx.seed ?? hashSeed(name), endOnFailure: true };
}

/** Runs a fast-check async property under the case's parameters. */
export async function property<T>(
  ctx: SuiteContext,
  name: string,
  base: number,
  arb: fc.Arbitrary<T>,
  body: (v: T) => Promise<void>,
): Promise<void> {
  await fc.assert(fc.asyncProperty(arb, body), fcParams(ctx, name, base));
}

export const seedArb = fc.integer({ min: 1, max: 0x7fffffff });

/** A shape of rank in [minRank, maxRank] with dims in [minDim, maxDim]. */
export const shapeArb = (minRank: number, maxRank: number, minDim = 1, maxDim = 4) =>
  fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });

/** A tensor on the current default backend holding exactly the (float32) values of x. */
export function toTensor(x: Nd): Tensor {
  return tensor(Float32Array.from(x.data), x.shape);
}

export function intTensor(values: readonly number[], shape?: readonly number[]): Tensor {
  return tensor(Int32Array.from(values), shape ?? [values.length], "int32");
}

/**
 * Runs fn on `backend` inside tidy, reads back every returned tensor with `await t.data()` and
 * disposes them. Returns the values and shapes.
 */
export async function evalOn(
  backend: Backend,
  fn: () => Tensor[],
): Promise<{ values: Float64Array[]; shapes: number[][]; dtypes: string[] }> {
  const outs = withBackend(backend, () => tidy(fn));
  try {
    const read = await Promise.all(outs.map((t) => t.data()));
    return {
      values: read.map((v) => Float64Array.from(v)),
      shapes: outs.map((t) => [...t.shape]),
      dtypes: outs.map((t) => t.dtype),
    };
  } finally {
    dispose(outs);
  }
}

function fmt(v: number): string {
  return Number.isFinite(v) && v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(3) : String(v);
}

/**
 * Compares values against the expected array elementwise; NaN must match NaN. Throws with the op,
 * what is compared, the shapes, the worst element, its error and the tolerance.
 */
export function assertClose(
  what: string,
  got: ArrayLike<number>,
  gotShape: readonly number[],
  want: Nd,
  t: Tol,
): void {
  if (gotShape.length !== want.shape.length || gotShape.some((d, i) => d !== want.shape[i])) {
    throw new Error(`${what}: shape ${shapeStr(gotShape)}, expected ${shapeStr(want.shape)}`);
  }
  if (got.length !== want.data.length) {
    throw new Error(`${what}: ${got.length} values, expected ${want.data.length}`);
  }
  let worst = -1;
  let worstRatio = 0;
  let maxErr = 0;
  for (let i = 0; i < got.length; i++) {
    const e = want.data[i];
    const a = got[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) {
        throw new Error(
          `${what}: element ${i} [${unravel(i, want.shape)}] is ${a}, expected ${e} (shape ${shapeStr(want.shape)})`,
        );
      }
      continue;
    }
    if (a === e) continue;
    const err = Math.abs(a - e);
    const bound = t.atol + t.rtol * Math.abs(e);
    const ratio = bound > 0 ? err / bound : Infinity;
    maxErr = Math.max(maxErr, err);
    if (worst < 0 || ratio > worstRatio || Number.isNaN(ratio)) {
      worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
      worst = i;
    }
  }
  if (worstRatio > 1) {
    const e = want.data[worst];
    throw new Error(
      `${what}: max |error| ${fmt(maxErr)}; worst element ${worst} [${unravel(worst, want.shape)}] of ${shapeStr(want.shape)} is ${fmt(got[worst])}, expected ${fmt(e)} (|error| ${fmt(Math.abs(got[worst] - e))} > tolerance ${fmt(t.atol)} + ${fmt(t.rtol)} * |expected|)`,
    );
  }
}

export interface OpSpec {
  /** The op's name, first word of every failure message. */
  op: string;
  /** Shapes and attributes, for failure messages. */
  desc: string;
  /** Float inputs (float32-representable values); int inputs are captured by `engine`. */
  inputs: Nd[];
  /** The op under test, on the backend's tensors (same order as inputs). */
  engine: (xs: Tensor[]) => Tensor;
  /** The float64 reference. */
  reference: (xs: Nd[]) => Nd;
  /** Forward tolerance. */
  fwd: Tol;
  /** Backward tolerance; absent for ops without a gradient. */
  bwd?: Tol;
  /** Inputs to differentiate (default: all). */
  wrt?: readonly number[];
  /** Seed of the random cotangent. */
  seed?: number;
  /** Finite-difference step (default 1e-5). */
  h?: number;
  /** Expected output dtype (default float32). */
  dtype?: "float32" | "int32";
}

export function describeInputs(xs: readonly Nd[], names?: readonly string[]): string {
  return xs.map((x, i) => `${names?.[i] ?? `x${i}`} ${shapeStr(x.shape)}`).join(", ");
}

/**
 * Forward: the op on the backend against the float64 reference. Backward: the engine's
 * vector-Jacobian product (vjp with a random cotangent) against central finite differences of
 * the reference.
 */
export async function checkOp(ctx: SuiteContext, s: OpSpec): Promise<void> {
  const expected = s.reference(s.inputs.map((x) => ({ shape: [...x.shape], data: x.data })));
  const fwd = await evalOn(ctx.backend, () => [s.engine(s.inputs.map(toTensor))]);
  const dtype = s.dtype ?? "float32";
  if (fwd.dtypes[0] !== dtype) {
    throw new Error(`${s.op} forward (${s.desc}): dtype ${fwd.dtypes[0]}, expected ${dtype}`);
  }
  assertClose(`${s.op} forward (${s.desc})`, fwd.values[0], fwd.shapes[0], expected, s.fwd);
  if (!s.bwd) return;
  const wrt = s.wrt ?? s.inputs.map((_, i) => i);
  const ct = new Rng(s.seed ?? 12345).nd(expected.shape, -1, 1);
  const bwd = await evalOn(ctx.backend, () => {
    const xs = s.inputs.map(toTensor);
    const { value, grads } = vjp((...a: Tensor[]) => s.engine(a), xs, toTensor(ct));
    value.dispose();
    return wrt.map((k) => grads[k]);
  });
  const copies = s.inputs.map((x) => ({ shape: [...x.shape], data: Float64Array.from(x.data) }));
  const numeric = numericVjp(s.reference, copies, ct, wrt, s.h ?? 1e-5);
  wrt.forEach((k, j) => {
    assertClose(
      `${s.op} backward d/d(input ${k}) (${s.desc})`,
      bwd.values[j],
      bwd.shapes[j],
      numeric[j],
      s.bwd as Tol,
    );
  });
}

/** Asserts fn throws an Error whose message contains every fragment (case-sensitive). */
export function expectThrows(what: string, fn: () => unknown, fragments: readonly string[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof Error)) {
    throw new Error(
      `${what}: expected an Error, ${err === undefined ? "nothing was thrown" : `got ${String(err)}`}`,
    );
  }
  const missing = fragments.filter((f) => !err.message.includes(f));
  if (missing.length > 0) {
    throw new Error(
      `${what}: the message "${err.message}" does not mention ${missing.map((m) => `"${m}"`).join(", ")}`,
    );
  }
}

/** Throws with `message` unless cond holds. */
export function check(cond: boolean, message: string): void {
  if (!cond) throw new Error(message);
}

/** CPU elementwise kernels: unary maps, broadcasting binary ops and select. */

import type { BinaryOp, TypedArray, UnaryOp, UnaryParams } from "../backend.ts";
import { broadcastStrides, coalesceAxes, shapeEq, sizeOf } from "../shape.ts";
import { allocF32, allocF32Unset, recycle } from "./buffers.ts";
import { erf, gelu, sigmoid, softplus } from "./scalar-math.ts";
import { elementwiseSimd } from "./wasm/elementwise-simd.ts";

type Fn1 = (x: number) => number;

/** The unary ops without parameters: Math functions, scalar-math.ts's, and small closures. */
const PLAIN_UNARY: Record<Exclude<UnaryOp, "leakyRelu" | "clamp">, Fn1> = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  sigmoid,
  tanh: Math.tanh,
  // x > 0 ? x : 0 would turn NaN into 0; keep NaN visible.
  relu: (x) => Math.max(x, 0),
  step: (x) => (x > 0 ? 1 : Number.isNaN(x) ? x : 0),
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  softplus,
  gelu,
  erf,
  sin: Math.sin,
  cos: Math.cos,
  floor: Math.floor,
  isnan: (x) => (Number.isNaN(x) ? 1 : 0),
};

function unaryFn(op: UnaryOp, p: UnaryParams): Fn1 {
  if (op === "leakyRelu") {
    const a = p.a ?? 0.01;
    return (x) => (x < 0 ? a * x : x);
  }
  if (op === "clamp") {
    const lo = p.a ?? Number.NEGATIVE_INFINITY;
    const hi = p.b ?? Number.POSITIVE_INFINITY;
    return (x) => (x < lo ? lo : Math.min(x, hi));
  }
  return PLAIN_UNARY[op];
}

/** The bits of a float32 array (or the values of an int32 one) as int32. */
function bitsOf(x: TypedArray): Int32Array {
  return x instanceof Int32Array ? x : new Int32Array(x.buffer, x.byteOffset, x.length);
}

/*
 * ReLU and its step mask on the float32 bits, without branches: on data whose sign is
 * unpredictable (conv outputs) the branch of `x > 0 ? ...` mispredicts about every other
 * element, which made these 6-9x slower than a copy. For an int32 bit pattern v:
 *   negative (sign bit set)  v >> 31 = -1
 *   NaN                      (0x7f800000 - (v & 0x7fffffff)) >> 31 = -1
 *   greater than zero        (-v >> 31) & ~(v >> 31) = -1 for 0 < v as int32 (positive floats,
 *                            +Inf, positive NaNs; -0 is 0x80000000, whose negation wraps).
 * relu keeps the bits of non-negative values and NaNs and writes +0 otherwise; step writes
 * 1.0f (0x3f800000) for values > 0, the NaN itself for NaNs, +0 otherwise.
 */
function reluBits(x: Int32Array, out: Int32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const nan = (0x7f800000 - (v & 0x7fffffff)) >> 31;
    out[i] = v & (~(v >> 31) | nan);
  }
}

function stepBits(x: Int32Array, out: Int32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const nan = (0x7f800000 - (v & 0x7fffffff)) >> 31;
    const pos = (-v >> 31) & ~(v >> 31);
    out[i] = (pos & ~nan & 0x3f800000) | (nan & v);
  }
}

export function unary(op: UnaryOp, x: TypedArray, p: UnaryParams = {}): Float32Array {
  const out = allocF32Unset(x.length);
  if ((op === "relu" || op === "step") && x instanceof Float32Array) {
    if (x.length < WASM_MIN || !elementwiseSimd(op, x, null, out)) {
      (op === "relu" ? reluBits : stepBits)(bitsOf(x), bitsOf(out));
    }
    return out;
  }
  const f = unaryFn(op, p);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  return out;
}

type Fn2 = (a: number, b: number) => number;

const BINARY_FNS: Record<BinaryOp, Fn2> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  // Math.max/min propagate NaN, like PyTorch's maximum/minimum.
  max: Math.max,
  min: Math.min,
  pow: Math.pow,
  greater: (a, b) => (a > b ? 1 : 0),
  greaterEqual: (a, b) => (a >= b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  lessEqual: (a, b) => (a <= b ? 1 : 0),
  equal: (a, b) => (a === b ? 1 : 0),
  // a * step(b), relu's gradient in one pass (a NaN b gives NaN, an infinite a times 0 NaN).
  mulStep: (a, b) => a * (b > 0 ? 1 : Number.isNaN(b) ? b : 0),
};

/**
 * Walks `outShape` with the inner axis as a tight loop; `visit` receives the flat output index
 * range of one inner row and the starting offsets of each operand.
 */
function forEachRow(
  outShape: readonly number[],
  strides: number[][],
  visit: (outStart: number, len: number, offsets: number[], inner: number[]) => void,
): void {
  const rank = outShape.length;
  const total = sizeOf(outShape);
  if (total === 0) return;
  const len = rank === 0 ? 1 : outShape[rank - 1];
  const inner = strides.map((s) => (rank === 0 ? 0 : s[rank - 1]));
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  const offsets = strides.map(() => 0);
  for (let start = 0; start < total; start += len) {
    visit(start, len, offsets, inner);
    // odometer increment over the outer axes
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      for (let k = 0; k < strides.length; k++) offsets[k] += strides[k][ax];
      if (idx[ax] < outShape[ax]) break;
      for (let k = 0; k < strides.length; k++) offsets[k] -= strides[k][ax] * outShape[ax];
      idx[ax] = 0;
    }
  }
}

/**
 * x broadcast to outShape as a new float32 array: whole rows are filled (a broadcast inner axis)
 * or copied (a contiguous one), so a per-channel operand costs about a memset.
 */
function expand(
  x: Float32Array,
  xShape: readonly number[],
  outShape: readonly number[],
): Float32Array {
  const out = allocF32Unset(sizeOf(outShape));
  const { shape, strides } = coalesceAxes(outShape, [broadcastStrides(xShape, outShape)]);
  forEachRow(shape, strides, (start, len, [o], [inner]) => {
    if (inner === 0) out.fill(x[o], start, start + len);
    else if (inner === 1 && len >= 16) out.set(x.subarray(o, o + len), start);
    else for (let i = 0; i < len; i++) out[start + i] = x[o + i * inner];
  });
  return out;
}

/** Below this many elements the wasm round trip is not worth its fixed cost. */
const WASM_MIN = 256;

/**
 * The op on two arrays of one length: the arithmetic ops on float32 in wasm SIMD (bitwise the
 * same results: float64 arithmetic rounded to float32 is exact for + - * /), otherwise
 * monomorphic loops.
 */
function binaryFlat(op: BinaryOp, a: TypedArray, b: TypedArray): Float32Array {
  const out = allocF32Unset(a.length);
  if (
    (op === "add" || op === "sub" || op === "mul" || op === "div" || op === "mulStep") &&
    a.length >= WASM_MIN &&
    a instanceof Float32Array &&
    b instanceof Float32Array &&
    elementwiseSimd(op, a, b, out)
  ) {
    return out;
  }
  if (op === "add") for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
  else if (op === "mul") for (let i = 0; i < out.length; i++) out[i] = a[i] * b[i];
  else if (op === "sub") for (let i = 0; i < out.length; i++) out[i] = a[i] - b[i];
  else if (op === "div") for (let i = 0; i < out.length; i++) out[i] = a[i] / b[i];
  else {
    const f = BINARY_FNS[op];
    for (let i = 0; i < out.length; i++) out[i] = f(a[i], b[i]);
  }
  return out;
}

export function binary(
  op: BinaryOp,
  a: TypedArray,
  aShape: readonly number[],
  b: TypedArray,
  bShape: readonly number[],
  outShape: readonly number[],
): Float32Array {
  const n = sizeOf(outShape);
  // Same shapes only take the flat path when no broadcasting happens (broadcastTo passes two
  // equal shapes and a larger outShape).
  const aFull = a.length === n && shapeEq(aShape, outShape);
  const bFull = b.length === n && shapeEq(bShape, outShape);
  if (aFull && bFull) return binaryFlat(op, a, b);
  if (a instanceof Float32Array && b instanceof Float32Array && n >= 1024) {
    // Broadcasting: materialise the smaller operand(s) and run the flat loop; a fill or a copy
    // plus a tight loop is several times faster than one strided, closure-called loop.
    const av = aFull ? a : expand(a, aShape, outShape);
    const bv = bFull ? b : expand(b, bShape, outShape);
    const out = binaryFlat(op, av, bv);
    if (av !== a) recycle(av);
    if (bv !== b) recycle(bv);
    return out;
  }
  const out = allocF32Unset(n);
  const f = BINARY_FNS[op];
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  forEachRow(outShape, [sa, sb], (start, len, [oa, ob], [ia, ib]) => {
    for (let i = 0; i < len; i++) out[start + i] = f(a[oa + i * ia], b[ob + i * ib]);
  });
  return out;
}

export function select(
  cond: TypedArray,
  condShape: readonly number[],
  a: TypedArray,
  aShape: readonly number[],
  b: TypedArray,
  bShape: readonly number[],
  outShape: readonly number[],
): Float32Array {
  const n = sizeOf(outShape);
  const out = allocF32(n);
  const full = (x: TypedArray, shape: readonly number[]) =>
    x.length === n && shapeEq(shape, outShape);
  if (
    full(cond, condShape) &&
    a instanceof Float32Array &&
    b instanceof Float32Array &&
    full(a, aShape) &&
    full(b, bShape)
  ) {
    selectBits(cond, bitsOf(a), bitsOf(b), bitsOf(out));
    return out;
  }
  const strides = [condShape, aShape, bShape].map((s) => broadcastStrides(s, outShape));
  forEachRow(outShape, strides, (start, len, [oc, oa, ob], [ic, ia, ib]) => {
    for (let i = 0; i < len; i++) {
      out[start + i] = cond[oc + i * ic] !== 0 ? a[oa + i * ia] : b[ob + i * ib];
    }
  });
  return out;
}

/**
 * out = cond != 0 ? a : b on the bits, without branches (a mask per element): the branch of the
 * plain loop mispredicts about every other element on a ReLU's mask. A float32 cond is nonzero
 * when its bits other than the sign are (NaN included, -0 not); an int32 one when it is.
 */
function selectBits(cond: TypedArray, a: Int32Array, b: Int32Array, out: Int32Array): void {
  const c = bitsOf(cond);
  if (cond instanceof Int32Array) {
    for (let i = 0; i < out.length; i++) {
      const m = (c[i] | -c[i]) >> 31;
      out[i] = (a[i] & m) | (b[i] & ~m);
    }
    return;
  }
  for (let i = 0; i < out.length; i++) {
    const m = (((c[i] & 0x7fffffff) + 0x7fffffff) | 0) >> 31;
    out[i] = (a[i] & m) | (b[i] & ~m);
  }
}

export { forEachRow };

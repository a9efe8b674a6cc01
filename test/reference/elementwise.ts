/**
 * Float64 references of the elementwise ops: unary maps, broadcasting binary ops and where,
 * straight from their definitions.
 */
import { type Nd, ravel, sizeOf, unravel } from "./nd.ts";

/**
 * erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)) (Abramowitz & Stegun
 * 7.1.6): every term is positive, so the series is accurate to double precision for all x.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 500; n++) {
    term *= (2 * ax * ax) / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  const r = (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum;
  return x < 0 ? -r : r;
}

export interface UnaryParams64 {
  /** leakyRelu slope, clamp lower bound. */
  a?: number;
  /** clamp upper bound. */
  b?: number;
}

export const unaryDefs: Record<string, (x: number, p: UnaryParams64) => number> = {
  neg: (x) => -x,
  abs: (x) => Math.abs(x),
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  log1p: (x) => Math.log1p(x),
  sqrt: (x) => Math.sqrt(x),
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: (x) => Math.tanh(x),
  relu: (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0),
  softplus: (x) => Math.log(1 + Math.exp(x)),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  erf: (x) => erf(x),
  sin: (x) => Math.sin(x),
  cos: (x) => Math.cos(x),
  leakyRelu: (x, p) => (x >= 0 ? x : (p.a ?? 0.01) * x),
  clamp: (x, p) => Math.min(Math.max(x, p.a ?? -Infinity), p.b ?? Infinity),
  step: (x) => (Number.isNaN(x) ? x : x > 0 ? 1 : 0),
  sign: (x) => (Number.isNaN(x) ? x : x > 0 ? 1 : x < 0 ? -1 : 0),
  floor: (x) => Math.floor(x),
  isnan: (x) => (Number.isNaN(x) ? 1 : 0),
};

export function unaryRef(name: string, x: Nd, p: UnaryParams64 = {}): Nd {
  const f = unaryDefs[name];
  if (!f) throw new Error(`unaryRef: no reference for ${name}`);
  return { shape: [...x.shape], data: x.data.map((v) => f(v, p)) };
}

/** NumPy broadcast shape of any number of shapes. */
export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1) {
        if (d !== 1 && d !== v) throw new Error(`broadcastShape: [${shapes.join("] [")}]`);
        d = v;
      }
    }
    out.push(d);
  }
  return out;
}

/** Flat index into x of the element that lands at out multi-index `idx` under broadcasting. */
export function broadcastIndex(idx: readonly number[], shape: readonly number[]): number {
  const off = idx.length - shape.length;
  const own = shape.map((d, i) => (d === 1 ? 0 : idx[i + off]));
  return ravel(own, shape);
}

/** out[idx] = f(x0[bidx], x1[bidx], ...) over the broadcast shape. */
export function broadcastMap(xs: readonly Nd[], f: (...v: number[]) => number): Nd {
  const shape = broadcastShape(...xs.map((x) => x.shape));
  const n = sizeOf(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    data[i] = f(...xs.map((x) => x.data[broadcastIndex(idx, x.shape)]));
  }
  return { shape, data };
}

export const binaryDefs: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => Math.max(a, b),
  minimum: (a, b) => Math.min(a, b),
  pow: (a, b) => a ** b,
  greater: (a, b) => (a > b ? 1 : 0),
  greaterEqual: (a, b) => (a >= b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  lessEqual: (a, b) => (a <= b ? 1 : 0),
  equal: (a, b) => (a === b ? 1 : 0),
  mulStep: (a, b) => a * (Number.isNaN(b) ? b : b > 0 ? 1 : 0),
};

export function binaryRef(name: string, a: Nd, b: Nd): Nd {
  const f = binaryDefs[name];
  if (!f) throw new Error(`binaryRef: no reference for ${name}`);
  return broadcastMap([a, b], f);
}

/** cond != 0 ? a : b with broadcasting of all three. */
export function whereRef(cond: Nd, a: Nd, b: Nd): Nd {
  return broadcastMap([cond, a, b], (c, x, y) => (c !== 0 ? x : y));
}

export function broadcastToRef(x: Nd, shape: readonly number[]): Nd {
  return broadcastMap([x, { shape: [...shape], data: new Float64Array(sizeOf(shape)) }], (v) => v);
}

/** PReLU: x for x >= 0, alpha * x below, alpha a scalar or one slope per channel (axis 1). */
export function preluRef(x: Nd, alpha: Nd): Nd {
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const c = alpha.data.length === 1 ? 0 : unravel(i, x.shape)[1];
    const v = x.data[i];
    out[i] = v >= 0 ? v : alpha.data[c] * v;
  }
  return { shape: [...x.shape], data: out };
}

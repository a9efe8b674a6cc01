/**
 * A minimal float64 n-d array for the reference implementations: row-major data and a shape,
 * nothing else. Written independently of the engine (no import from src/).
 */
export interface Nd {
  readonly shape: number[];
  readonly data: Float64Array;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function nd(shape: readonly number[], data?: ArrayLike<number>): Nd {
  const n = sizeOf(shape);
  const d = data ? Float64Array.from(data) : new Float64Array(n);
  if (d.length !== n) {
    throw new Error(`nd: ${d.length} values for shape [${shape}] (${n} elements)`);
  }
  return { shape: [...shape], data: d };
}

export function full(shape: readonly number[], value: number): Nd {
  return { shape: [...shape], data: new Float64Array(sizeOf(shape)).fill(value) };
}

/** Multi-index of flat index i. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let ax = shape.length - 1; ax >= 0; ax--) {
    idx[ax] = i % shape[ax];
    i = Math.floor(i / shape[ax]);
  }
  return idx;
}

/** Flat index of a multi-index. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let off = 0;
  for (let ax = 0; ax < shape.length; ax++) off = off * shape[ax] + idx[ax];
  return off;
}

/** x[idx] for a multi-index. */
export function at(x: Nd, ...idx: number[]): number {
  return x.data[ravel(idx, x.shape)];
}

export function map(x: Nd, f: (v: number, i: number) => number): Nd {
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[i], i);
  return { shape: [...x.shape], data: out };
}

export function clone(x: Nd): Nd {
  return { shape: [...x.shape], data: Float64Array.from(x.data) };
}

export function reshapeNd(x: Nd, shape: readonly number[]): Nd {
  if (sizeOf(shape) !== x.data.length) {
    throw new Error(`reshapeNd: [${x.shape}] -> [${shape}]`);
  }
  return { shape: [...shape], data: x.data };
}

/** sum_i a_i * b_i (same length). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

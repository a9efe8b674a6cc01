/** Float64 references of the data-movement ops, each an explicit index formula. */
import { type Nd, ravel, sizeOf, unravel } from "./nd.ts";

/** out[i_0, .., i_k] = x[j] with j[perm[a]] = i_a. */
export function transposeRef(x: Nd, perm: readonly number[]): Nd {
  const shape = perm.map((p) => x.shape[p]);
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) {
    const o = unravel(i, shape);
    const src = new Array<number>(x.shape.length);
    perm.forEach((p, a) => {
      src[p] = o[a];
    });
    data[i] = x.data[ravel(src, x.shape)];
  }
  return { shape, data };
}

/**
 * The slice API: begin may be negative (counted from the end) or missing (0, or the last index
 * for negative steps); size -1 or missing takes every element the step reaches.
 */
export function sliceRef(
  x: Nd,
  begin: readonly (number | undefined)[],
  size?: readonly (number | undefined)[],
  step?: readonly (number | undefined)[],
): Nd {
  const b: number[] = [];
  const s: number[] = [];
  const k: number[] = [];
  x.shape.forEach((n, ax) => {
    const st = step?.[ax] ?? 1;
    let from = begin[ax] ?? (st > 0 ? 0 : n - 1);
    if (from < 0) from += n;
    // Elements from, from + st, ... that stay inside [0, n).
    let reach = 0;
    for (let p = from; p >= 0 && p < n; p += st) reach++;
    const len = size?.[ax] === undefined || size[ax] === -1 ? reach : (size[ax] as number);
    b.push(from);
    s.push(len);
    k.push(st);
  });
  const data = new Float64Array(sizeOf(s));
  for (let i = 0; i < data.length; i++) {
    const o = unravel(i, s);
    data[i] =
      x.data[
        ravel(
          o.map((v, ax) => b[ax] + v * k[ax]),
          x.shape,
        )
      ];
  }
  return { shape: s, data };
}

/** Source of padded position p (may be out of range) on an axis of length n; -1 = constant. */
export function padSourceRef(p: number, n: number, mode: string): number {
  if (p >= 0 && p < n) return p;
  if (mode === "constant") return -1;
  if (mode === "replicate") return p < 0 ? 0 : n - 1;
  // reflect (PyTorch / NumPy "reflect", OpenCV REFLECT_101): mirror about the edge pixel,
  // folding again until inside (kernels longer than the axis).
  if (n === 1) return 0;
  while (p < 0 || p >= n) p = p < 0 ? -p : 2 * (n - 1) - p;
  return p;
}

export function padRef(
  x: Nd,
  pads: readonly (readonly [number, number])[],
  mode: string,
  value = 0,
): Nd {
  const shape = x.shape.map((d, ax) => d + (pads[ax]?.[0] ?? 0) + (pads[ax]?.[1] ?? 0));
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    const o = unravel(i, shape);
    const src = o.map((v, ax) => padSourceRef(v - (pads[ax]?.[0] ?? 0), x.shape[ax], mode));
    data[i] = src.some((v) => v < 0) ? value : x.data[ravel(src, x.shape)];
  }
  return { shape, data };
}

export function concatRef(xs: readonly Nd[], axis: number): Nd {
  const ax = axis < 0 ? axis + xs[0].shape.length : axis;
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((n, x) => n + x.shape[ax], 0);
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    const o = unravel(i, shape);
    let k = 0;
    let pos = o[ax];
    while (pos >= xs[k].shape[ax]) pos -= xs[k++].shape[ax];
    const src = [...o];
    src[ax] = pos;
    data[i] = xs[k].data[ravel(src, xs[k].shape)];
  }
  return { shape, data };
}

/** out[.., j, ..] = x[.., indices[j], ..] along `axis`. */
export function gatherRef(x: Nd, indices: readonly number[], axis: number): Nd {
  const shape = [...x.shape];
  shape[axis] = indices.length;
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    const o = unravel(i, shape);
    o[axis] = indices[o[axis]];
    data[i] = x.data[ravel(o, x.shape)];
  }
  return { shape, data };
}

/** out (axis of length `length`) = sum over j of updates[.., j, ..] placed at indices[j]. */
export function scatterAddRef(
  updates: Nd,
  indices: readonly number[],
  axis: number,
  length: number,
): Nd {
  const shape = [...updates.shape];
  shape[axis] = length;
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < updates.data.length; i++) {
    const u = unravel(i, updates.shape);
    u[axis] = indices[u[axis]];
    data[ravel(u, shape)] += updates.data[i];
  }
  return { shape, data };
}

/**
 * Depth-to-space: out[n, c, h*r + i, w*r + j] = x[n, ch, h, w] with ch = c*r*r + i*r + j for the
 * PyTorch order (ONNX CRD) and ch = (i*r + j)*C + c for the TensorFlow order (ONNX DCR).
 */
export function pixelShuffleRef(x: Nd, r: number, order: "torch" | "tf"): Nd {
  const [n, cr, h, w] = x.shape;
  const c = cr / (r * r);
  const shape = [n, c, h * r, w * r];
  const data = new Float64Array(sizeOf(shape));
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let i = 0; i < r; i++)
          for (let xx = 0; xx < w; xx++)
            for (let j = 0; j < r; j++) {
              const ch = order === "torch" ? k * r * r + i * r + j : (i * r + j) * c + k;
              data[ravel([b, k, y * r + i, xx * r + j], shape)] =
                x.data[ravel([b, ch, y, xx], x.shape)];
            }
  return { shape, data };
}

/** out[n, c, y r + a, x r + b] = phases[a r + b][n, c, y, x]. */
export function interleaveRef(phases: readonly Nd[], r: number): Nd {
  const [n, c, h, w] = phases[0].shape;
  const shape = [n, c, h * r, w * r];
  const data = new Float64Array(sizeOf(shape));
  phases.forEach((p, phase) => {
    const a = Math.floor(phase / r);
    const b = phase % r;
    for (let i = 0; i < n; i++)
      for (let k = 0; k < c; k++)
        for (let y = 0; y < h; y++)
          for (let xx = 0; xx < w; xx++)
            data[ravel([i, k, y * r + a, xx * r + b], shape)] =
              p.data[ravel([i, k, y, xx], p.shape)];
  });
  return { shape, data };
}

/** Space-to-depth, the inverse index map of pixelShuffleRef with the same order. */
export function pixelUnshuffleRef(x: Nd, r: number, order: "torch" | "tf"): Nd {
  const [n, c, hr, wr] = x.shape;
  const h = hr / r;
  const w = wr / r;
  const shape = [n, c * r * r, h, w];
  const data = new Float64Array(sizeOf(shape));
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let i = 0; i < r; i++)
          for (let xx = 0; xx < w; xx++)
            for (let j = 0; j < r; j++) {
              const ch = order === "torch" ? k * r * r + i * r + j : (i * r + j) * c + k;
              data[ravel([b, ch, y, xx], shape)] =
                x.data[ravel([b, k, y * r + i, xx * r + j], x.shape)];
            }
  return { shape, data };
}

/** out[.., o, ..] = sum_i m[o][i] * x[.., i, ..] along `axis` (m dense, outLen x inLen). */
export function applyMatrixAlongAxis(x: Nd, axis: number, m: readonly (readonly number[])[]): Nd {
  const shape = [...x.shape];
  shape[axis] = m.length;
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    const o = unravel(i, shape);
    const row = m[o[axis]];
    let acc = 0;
    for (let k = 0; k < row.length; k++) {
      if (row[k] === 0) continue;
      const src = [...o];
      src[axis] = k;
      acc += row[k] * x.data[ravel(src, x.shape)];
    }
    data[i] = acc;
  }
  return { shape, data };
}

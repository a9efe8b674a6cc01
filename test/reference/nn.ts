/**
 * Float64 references of matmul, linear, convolutions and pooling: naive loops written from the
 * NumPy / PyTorch definitions.
 */
import { broadcastIndex, broadcastShape } from "./elementwise.ts";
import { type Nd, ravel, sizeOf, unravel } from "./nd.ts";

/** numpy.matmul (1-D operands as row/column vectors), with optional transposes of a and b. */
export function matmulRef(a: Nd, b: Nd, transA = false, transB = false): Nd {
  const a2 = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const b2 = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const [ar, ac] = a2.slice(-2);
  const [br, bc] = b2.slice(-2);
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const n = transB ? br : bc;
  const batchA = a2.slice(0, -2);
  const batchB = b2.slice(0, -2);
  const batch = broadcastShape(batchA, batchB);
  const nb = sizeOf(batch);
  const out = new Float64Array(nb * m * n);
  for (let q = 0; q < nb; q++) {
    const bidx = unravel(q, batch);
    const oa = broadcastIndex(bidx, batchA) * ar * ac;
    const ob = broadcastIndex(bidx, batchB) * br * bc;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let t = 0; t < k; t++) {
          const av = a.data[oa + (transA ? t * ac + i : i * ac + t)];
          const bv = b.data[ob + (transB ? j * bc + t : t * bc + j)];
          acc += av * bv;
        }
        out[(q * m + i) * n + j] = acc;
      }
  }
  const shape = [
    ...batch,
    ...(a.shape.length === 1 ? [] : [m]),
    ...(b.shape.length === 1 ? [] : [n]),
  ];
  return { shape, data: out };
}

/** y = x W^T + b, W [out, in]. */
export function linearRef(x: Nd, w: Nd, b: Nd | null): Nd {
  const [nb, nin] = x.shape;
  const nout = w.shape[0];
  const out = new Float64Array(nb * nout);
  for (let i = 0; i < nb; i++)
    for (let o = 0; o < nout; o++) {
      let acc = b ? b.data[o] : 0;
      for (let k = 0; k < nin; k++) acc += x.data[i * nin + k] * w.data[o * nin + k];
      out[i * nout + o] = acc;
    }
  return { shape: [nb, nout], data: out };
}

export interface ConvParams64 {
  stride: readonly [number, number];
  /** [top, bottom, left, right] zero padding (negative crops). */
  pad: readonly [number, number, number, number];
  dilation: readonly [number, number];
  groups: number;
  /** Zeros inserted between input pixels (stride - 1 of them) before padding; default [1, 1]. */
  inputDilation?: readonly [number, number];
}

/** TensorFlow "SAME": out = ceil(in / stride); the odd pixel of padding goes after. */
export function samePads(inLen: number, k: number, s: number, d: number): [number, number] {
  const out = Math.ceil(inLen / s);
  const total = Math.max((out - 1) * s + (k - 1) * d + 1 - inLen, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export function convOutLen(n: number, k: number, s: number, d: number, p0: number, p1: number) {
  return Math.floor((n + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}

/**
 * F.conv2d (cross-correlation): out[n, o, y, x] = b[o] + sum over c in o's group, ky, kx of
 * in[n, c, y*s - top + ky*d, x*s - left + kx*d] * w[o, c', ky, kx], out-of-range inputs zero.
 * With input dilation the input is first spread out (idh - 1 zero rows between rows, the same for
 * columns), as XLA's lhs_dilation does.
 */
export function conv2dRef(x: Nd, w: Nd, p: ConvParams64, bias: Nd | null, relu = false): Nd {
  return conv2dRefWithScale(x, w, p, bias, relu).out;
}

/**
 * conv2dRef, plus sum |bias| + sum |w * x| per output: the scale of float32 rounding error in any
 * order of summation, for tolerances relative to it.
 */
export function conv2dRefWithScale(
  x: Nd,
  w: Nd,
  p: ConvParams64,
  bias: Nd | null,
  relu = false,
): { out: Nd; scale: Float64Array } {
  const [nb, cin, h, wd] = x.shape;
  const [cout, cg, kh, kw] = w.shape;
  const [idh, idw] = p.inputDilation ?? [1, 1];
  const hd = (h - 1) * idh + 1;
  const wdd = (wd - 1) * idw + 1;
  const og = cout / p.groups;
  const oh = convOutLen(hd, kh, p.stride[0], p.dilation[0], p.pad[0], p.pad[1]);
  const ow = convOutLen(wdd, kw, p.stride[1], p.dilation[1], p.pad[2], p.pad[3]);
  const shape = [nb, cout, oh, ow];
  const out = new Float64Array(sizeOf(shape));
  const scale = new Float64Array(out.length);
  for (let n = 0; n < nb; n++)
    for (let o = 0; o < cout; o++) {
      const g = Math.floor(o / og);
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let acc = bias ? bias.data[o] : 0;
          let mag = Math.abs(acc);
          for (let c = 0; c < cg; c++)
            for (let ky = 0; ky < kh; ky++) {
              const dy = y * p.stride[0] - p.pad[0] + ky * p.dilation[0];
              if (dy < 0 || dy >= hd || dy % idh !== 0) continue;
              const iy = dy / idh;
              for (let kx = 0; kx < kw; kx++) {
                const dx = xx * p.stride[1] - p.pad[2] + kx * p.dilation[1];
                if (dx < 0 || dx >= wdd || dx % idw !== 0) continue;
                const ix = dx / idw;
                const t =
                  x.data[((n * cin + g * cg + c) * h + iy) * wd + ix] *
                  w.data[((o * cg + c) * kh + ky) * kw + kx];
                acc += t;
                mag += Math.abs(t);
              }
            }
          const i = ((n * cout + o) * oh + y) * ow + xx;
          out[i] = relu ? Math.max(acc, 0) : acc;
          scale[i] = mag;
        }
    }
  return { out: { shape, data: out }, scale };
}

export interface ConvTransposeParams64 {
  stride: readonly [number, number];
  padding: readonly [number, number];
  outputPadding: readonly [number, number];
  dilation: readonly [number, number];
  groups: number;
}

/**
 * F.conv_transpose2d as a scatter: every input pixel x[n, ci, iy, ix] adds x * w[ci, oc, ky, kx]
 * to out[n, g*Cout/g + oc, iy*s - p + ky*d, ix*s - p + kx*d]; w is [Cin, Cout/groups, kh, kw] and
 * the output size is (in - 1)*s - 2p + d*(k - 1) + outputPadding + 1.
 */
export function conv2dTransposeRef(x: Nd, w: Nd, p: ConvTransposeParams64, bias: Nd | null): Nd {
  const [nb, cin, h, wd] = x.shape;
  const [, cog, kh, kw] = w.shape;
  const cig = cin / p.groups;
  const cout = cog * p.groups;
  const oh =
    (h - 1) * p.stride[0] - 2 * p.padding[0] + p.dilation[0] * (kh - 1) + p.outputPadding[0] + 1;
  const ow =
    (wd - 1) * p.stride[1] - 2 * p.padding[1] + p.dilation[1] * (kw - 1) + p.outputPadding[1] + 1;
  const shape = [nb, cout, oh, ow];
  const out = new Float64Array(sizeOf(shape));
  for (let n = 0; n < nb; n++)
    for (let ci = 0; ci < cin; ci++) {
      const g = Math.floor(ci / cig);
      for (let iy = 0; iy < h; iy++)
        for (let ix = 0; ix < wd; ix++) {
          const v = x.data[((n * cin + ci) * h + iy) * wd + ix];
          for (let oc = 0; oc < cog; oc++)
            for (let ky = 0; ky < kh; ky++) {
              const y = iy * p.stride[0] - p.padding[0] + ky * p.dilation[0];
              if (y < 0 || y >= oh) continue;
              for (let kx = 0; kx < kw; kx++) {
                const xx = ix * p.stride[1] - p.padding[1] + kx * p.dilation[1];
                if (xx < 0 || xx >= ow) continue;
                out[((n * cout + g * cog + oc) * oh + y) * ow + xx] +=
                  v * w.data[((ci * cog + oc) * kh + ky) * kw + kx];
              }
            }
        }
    }
  if (bias) {
    for (let i = 0; i < out.length; i++) out[i] += bias.data[unravel(i, shape)[1]];
  }
  return { shape, data: out };
}

/**
 * PyTorch's pooling_output_shape: floor or ceil of (n + 2p - k) / s, plus one; in ceil mode the
 * last window must start inside the input or its left padding.
 */
export function poolOutLen(n: number, k: number, s: number, p: number, ceil: boolean): number {
  let out = (ceil ? Math.ceil : Math.floor)((n + 2 * p - k) / s) + 1;
  if (ceil && (out - 1) * s >= n + p) out--;
  return out;
}

export interface PoolParams64 {
  kernel: readonly [number, number];
  stride: readonly [number, number];
  padding: readonly [number, number];
  ceilMode: boolean;
  countIncludePad?: boolean;
}

function poolShape(x: Nd, p: PoolParams64): number[] {
  const [nb, c, h, w] = x.shape;
  return [
    nb,
    c,
    poolOutLen(h, p.kernel[0], p.stride[0], p.padding[0], p.ceilMode),
    poolOutLen(w, p.kernel[1], p.stride[1], p.padding[1], p.ceilMode),
  ];
}

/** Max over the in-bounds part of each window (padding never wins). */
export function maxPool2dRef(x: Nd, p: PoolParams64): Nd {
  const [, , h, w] = x.shape;
  const shape = poolShape(x, p);
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    const [n, c, oy, ox] = unravel(i, shape);
    const y0 = oy * p.stride[0] - p.padding[0];
    const x0 = ox * p.stride[1] - p.padding[1];
    let m = -Infinity;
    for (let y = Math.max(y0, 0); y < Math.min(y0 + p.kernel[0], h); y++)
      for (let xx = Math.max(x0, 0); xx < Math.min(x0 + p.kernel[1], w); xx++)
        m = Math.max(m, x.data[ravel([n, c, y, xx], x.shape)]);
    data[i] = m;
  }
  return { shape, data };
}

/**
 * PyTorch avg_pool2d: the window is cut at the padded border (in + pad) to get the pool size used
 * when padding counts, then cut at the input border to get the elements summed (and the divisor
 * when padding does not count).
 */
export function avgPool2dRef(x: Nd, p: PoolParams64): Nd {
  const [, , h, w] = x.shape;
  const shape = poolShape(x, p);
  const data = new Float64Array(sizeOf(shape));
  const include = p.countIncludePad ?? true;
  for (let i = 0; i < data.length; i++) {
    const [n, c, oy, ox] = unravel(i, shape);
    let y0 = oy * p.stride[0] - p.padding[0];
    let x0 = ox * p.stride[1] - p.padding[1];
    let y1 = Math.min(y0 + p.kernel[0], h + p.padding[0]);
    let x1 = Math.min(x0 + p.kernel[1], w + p.padding[1]);
    const poolSize = (y1 - y0) * (x1 - x0);
    y0 = Math.max(y0, 0);
    x0 = Math.max(x0, 0);
    y1 = Math.min(y1, h);
    x1 = Math.min(x1, w);
    let s = 0;
    for (let y = y0; y < y1; y++)
      for (let xx = x0; xx < x1; xx++) s += x.data[ravel([n, c, y, xx], x.shape)];
    data[i] = s / (include ? poolSize : (y1 - y0) * (x1 - x0));
  }
  return { shape, data };
}

/** AdaptiveAvgPool2d: output cell i averages [floor(i*in/out), ceil((i+1)*in/out)). */
export function adaptiveAvgPool2dRef(x: Nd, oh: number, ow: number): Nd {
  const [nb, c, h, w] = x.shape;
  const shape = [nb, c, oh, ow];
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    const [n, ch, oy, ox] = unravel(i, shape);
    const y0 = Math.floor((oy * h) / oh);
    const y1 = Math.ceil(((oy + 1) * h) / oh);
    const x0 = Math.floor((ox * w) / ow);
    const x1 = Math.ceil(((ox + 1) * w) / ow);
    let s = 0;
    for (let y = y0; y < y1; y++)
      for (let xx = x0; xx < x1; xx++) s += x.data[ravel([n, ch, y, xx], x.shape)];
    data[i] = s / ((y1 - y0) * (x1 - x0));
  }
  return { shape, data };
}

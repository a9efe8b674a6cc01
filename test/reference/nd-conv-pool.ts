/**
 * Float64 references for 3-D convolution, 3-D transposed convolution and N-D pooling (dilation,
 * pads, ceil mode, count_include_pad), written as direct loops from the definitions.
 */
import { type Nd, nd, ravel, sizeOf, unravel } from "./nd.ts";

export interface Conv3dRefParams {
  stride: number[];
  dilation: number[];
  /** [before, after] per spatial axis. */
  pads: [number, number][];
  groups: number;
}

/** y[n, o, z] = b[o] + sum_{c in group, k} x[n, c, z * s + k * d - pBefore] w[o, c', k] (zero outside). */
export function conv3dRef(x: Nd, w: Nd, b: Nd | null, p: Conv3dRefParams): Nd {
  const N = x.shape[0];
  const [O, cg] = w.shape;
  const kernel = w.shape.slice(2);
  const inSize = x.shape.slice(2);
  const out = inSize.map(
    (d, i) =>
      Math.floor(
        (d + p.pads[i][0] + p.pads[i][1] - p.dilation[i] * (kernel[i] - 1) - 1) / p.stride[i],
      ) + 1,
  );
  const y = nd([N, O, ...out]);
  const og = O / p.groups;
  for (let i = 0; i < y.data.length; i++) {
    const [n, o, ...pos] = unravel(i, y.shape);
    const g = Math.floor(o / og);
    let acc = b ? b.data[o] : 0;
    for (let c = 0; c < cg; c++)
      for (let t = 0; t < sizeOf(kernel); t++) {
        const k = unravel(t, kernel);
        const src = pos.map((q, a) => q * p.stride[a] + k[a] * p.dilation[a] - p.pads[a][0]);
        if (src.some((v, a) => v < 0 || v >= inSize[a])) continue;
        acc +=
          x.data[ravel([n, g * cg + c, ...src], x.shape)] * w.data[ravel([o, c, ...k], w.shape)];
      }
    y.data[i] = acc;
  }
  return y;
}

/**
 * Transposed 3-D conv, scattered: input (n, c, i) adds x * w[c, o', k] to output position
 * i * s + k * d - pBefore; out = full + outputPadding - pBefore - pAfter per axis.
 */
export function conv3dTransposeRef(
  x: Nd,
  w: Nd,
  b: Nd | null,
  p: Conv3dRefParams & { outputPadding: number[] },
): Nd {
  const [N, Cin] = x.shape;
  const coutG = w.shape[1];
  const kernel = w.shape.slice(2);
  const inSize = x.shape.slice(2);
  const out = inSize.map(
    (d, i) =>
      (d - 1) * p.stride[i] +
      (kernel[i] - 1) * p.dilation[i] +
      1 +
      p.outputPadding[i] -
      p.pads[i][0] -
      p.pads[i][1],
  );
  const Cout = coutG * p.groups;
  const y = nd([N, Cout, ...out]);
  if (b) for (let i = 0; i < y.data.length; i++) y.data[i] = b.data[unravel(i, y.shape)[1]];
  const cinG = Cin / p.groups;
  for (let i = 0; i < x.data.length; i++) {
    const [n, c, ...pos] = unravel(i, x.shape);
    const g = Math.floor(c / cinG);
    for (let oc = 0; oc < coutG; oc++)
      for (let t = 0; t < sizeOf(kernel); t++) {
        const k = unravel(t, kernel);
        const dst = pos.map((q, a) => q * p.stride[a] + k[a] * p.dilation[a] - p.pads[a][0]);
        if (dst.some((v, a) => v < 0 || v >= out[a])) continue;
        y.data[ravel([n, g * coutG + oc, ...dst], y.shape)] +=
          x.data[i] * w.data[ravel([c, oc, ...k], w.shape)];
      }
  }
  return y;
}

export interface PoolNdRefParams {
  kind: "max" | "avg";
  kernel: number[];
  stride: number[];
  dilation: number[];
  pads: [number, number][];
  ceilMode: boolean;
  countIncludePad: boolean;
}

/**
 * Pooling over the taps z * s + k * d - pBefore of each output z. Max ignores padding; average
 * divides by the taps inside the input, or with countIncludePad by those inside input + pads.
 */
export function poolNdRef(x: Nd, p: PoolNdRefParams): Nd {
  const inSize = x.shape.slice(2);
  const out = inSize.map((d, i) => {
    const span = p.dilation[i] * (p.kernel[i] - 1) + 1;
    const room = d + p.pads[i][0] + p.pads[i][1] - span;
    let len = (p.ceilMode ? Math.ceil(room / p.stride[i]) : Math.floor(room / p.stride[i])) + 1;
    if (p.ceilMode && (len - 1) * p.stride[i] >= d + p.pads[i][0]) len--;
    return len;
  });
  const y = nd([x.shape[0], x.shape[1], ...out]);
  for (let i = 0; i < y.data.length; i++) {
    const [n, c, ...pos] = unravel(i, y.shape);
    let best = -Infinity;
    let sum = 0;
    let count = 0;
    for (let t = 0; t < sizeOf(p.kernel); t++) {
      const k = unravel(t, p.kernel);
      const src = pos.map((q, a) => q * p.stride[a] + k[a] * p.dilation[a] - p.pads[a][0]);
      const inside = src.every((v, a) => v >= 0 && v < inSize[a]);
      const inPadded = src.every((v, a) => v >= -p.pads[a][0] && v < inSize[a] + p.pads[a][1]);
      if (inside) {
        const v = x.data[ravel([n, c, ...src], x.shape)];
        best = Math.max(best, v);
        sum += v;
      }
      if (inside || (p.countIncludePad && inPadded)) count++;
    }
    y.data[i] = p.kind === "max" ? best : sum / count;
  }
  return y;
}

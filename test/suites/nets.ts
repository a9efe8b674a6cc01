/**
 * Small random conv nets for the engine-level suite, each built twice from the same parameters:
 * once with the engine's ops and once from the float64 references.
 *
 * conv(c0 -> c1, k1, 'same'-style padding) -> ReLU (fused or separate) -> [maxPool 2x2] ->
 * conv(c1 -> c2, 3x3, padding 1) -> ReLU -> flatten -> linear(nout), with or without biases.
 */

import type { Tensor } from "../../src/index.ts";
import * as s from "../../src/index.ts";
import { type Nd, reshapeNd } from "../reference/nd.ts";
import { conv2dRef, linearRef, maxPool2dRef } from "../reference/nn.ts";
import type { Rng } from "../reference/rng.ts";

export interface NetSpec {
  c0: number;
  h: number;
  w: number;
  c1: number;
  k1: number;
  c2: number;
  nout: number;
  pool: boolean;
  fused: boolean;
  bias: boolean;
  /** Use avg pooling and drop the ReLUs: a net that is affine in its input. */
  linear?: boolean;
}

export interface Net {
  spec: NetSpec;
  /** w1, [b1], w2, [b2], W, [b] */
  params: Nd[];
}

export function randomNet(r: Rng, o: { bias: boolean; linear?: boolean; pool?: boolean }): Net {
  const spec: NetSpec = {
    c0: r.int(1, 2),
    h: r.int(4, 6),
    w: r.int(4, 6),
    c1: r.int(1, 3),
    k1: r.pick([1, 3]),
    c2: r.int(1, 3),
    nout: r.int(1, 3),
    pool: o.pool ?? r.bool(),
    fused: r.bool(),
    bias: o.bias,
    linear: o.linear,
  };
  const feat = featureSize(spec);
  const params: Nd[] = [r.nd([spec.c1, spec.c0, spec.k1, spec.k1], -1, 1)];
  if (spec.bias) params.push(r.nd([spec.c1], -0.5, 0.5));
  params.push(r.nd([spec.c2, spec.c1, 3, 3], -0.6, 0.6));
  if (spec.bias) params.push(r.nd([spec.c2], -0.5, 0.5));
  params.push(r.nd([spec.nout, feat], -0.6, 0.6));
  if (spec.bias) params.push(r.nd([spec.nout], -0.5, 0.5));
  return { spec, params };
}

function featureSize(sp: NetSpec): number {
  const h = sp.pool ? Math.floor(sp.h / 2) : sp.h;
  const w = sp.pool ? Math.floor(sp.w / 2) : sp.w;
  return sp.c2 * h * w;
}

/** Names the parameters (engine tensors or float64 arrays) in their order. */
function unpack<T>(net: Net, xs: readonly T[]) {
  const q = [...xs];
  const next = () => q.shift() as T;
  const bias = () => (net.spec.bias ? next() : null);
  const w1 = next();
  const b1 = bias();
  const w2 = next();
  const b2 = bias();
  const wl = next();
  const bl = bias();
  return { w1, b1, w2, b2, wl, bl };
}

/** The identity probe: with it, a fused conv + ReLU is used where the spec says so. */
export const noProbe = (t: Tensor): Tensor => t;

/** The net on the engine: x [N, c0, h, w] -> [N, nout]; `probe` wraps every ReLU input. */
export function netEngine(
  net: Net,
  params: Tensor[],
  x: Tensor,
  probe: (t: Tensor) => Tensor = noProbe,
): Tensor {
  const sp = net.spec;
  const { w1, b1, w2, b2, wl, bl } = unpack(net, params);
  const pad1 = (sp.k1 - 1) / 2;
  const act = (z: Tensor) => (sp.linear ? z : s.relu(probe(z)));
  let h =
    sp.fused && !sp.linear && probe === noProbe
      ? s.conv2d(x, w1, { bias: b1, padding: pad1, relu: true })
      : act(s.conv2d(x, w1, { bias: b1, padding: pad1 }));
  if (sp.pool) {
    h = sp.linear ? s.avgPool2d(h, { kernel: 2 }) : s.maxPool2d(h, { kernel: 2 });
  }
  h = act(s.conv2d(h, w2, { bias: b2, padding: 1 }));
  return s.linear(s.flatten(h), wl, bl);
}

export interface NetTrace {
  out: Nd;
  /**
   * Distance of the input from the net's kinks: min |pre-activation| and min gap between the
   * two largest values of a pooling window. Finite differences need it above their step.
   */
  margin: number;
}

function avgPool2x2(x: Nd): Nd {
  const [n, c, h, w] = x.shape;
  const oh = Math.floor(h / 2);
  const ow = Math.floor(w / 2);
  const data = new Float64Array(n * c * oh * ow);
  for (let i = 0; i < n * c; i++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        let acc = 0;
        for (let dy = 0; dy < 2; dy++)
          for (let dx = 0; dx < 2; dx++) acc += x.data[(i * h + 2 * y + dy) * w + 2 * xx + dx];
        data[(i * oh + y) * ow + xx] = acc / 4;
      }
  return { shape: [n, c, oh, ow], data };
}

/** Smallest gap between the largest and second largest value of each 2x2 window (with a positive max). */
function poolGap(x: Nd): number {
  const [n, c, h, w] = x.shape;
  let gap = Infinity;
  for (let i = 0; i < n * c; i++)
    for (let y = 0; y + 1 < h; y += 2)
      for (let xx = 0; xx + 1 < w; xx += 2) {
        const v = [0, 1, 2, 3]
          .map((k) => x.data[(i * h + y + (k >> 1)) * w + xx + (k & 1)])
          .sort((a, b) => b - a);
        // A tie of inactive (zero) units is harmless: nothing moves them.
        if (v[0] > 0) gap = Math.min(gap, v[0] - v[1]);
      }
  return gap;
}

/** The same net on float64 references. */
export function netRef(net: Net, params: Nd[], x: Nd): NetTrace {
  const sp = net.spec;
  const { w1, b1, w2, b2, wl, bl } = unpack(net, params);
  const pad1 = (sp.k1 - 1) / 2;
  let margin = Infinity;
  const act = (z: Nd): Nd => {
    if (sp.linear) return z;
    for (const v of z.data) margin = Math.min(margin, Math.abs(v));
    return { shape: z.shape, data: z.data.map((v) => Math.max(v, 0)) };
  };
  const conv = (t: Nd, w: Nd, b: Nd | null, pad: number) =>
    conv2dRef(t, w, { stride: [1, 1], pad: [pad, pad, pad, pad], dilation: [1, 1], groups: 1 }, b);
  let h = act(conv(x, w1, b1, pad1));
  if (sp.pool) {
    if (sp.linear) h = avgPool2x2(h);
    else {
      margin = Math.min(margin, poolGap(h));
      h = maxPool2dRef(h, { kernel: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false });
    }
  }
  h = act(conv(h, w2, b2, 1));
  const n = h.shape[0];
  const out = linearRef(reshapeNd(h, [n, h.data.length / n]), wl, bl);
  return { out, margin };
}

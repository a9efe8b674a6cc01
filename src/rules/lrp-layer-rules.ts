/**
 * LRP rules for one linear layer (conv2d or linear), in Zennit's formulation: the backward signal
 * is the relevance R, and a rule maps the relevance of the layer's output to that of its input
 * x, R_in = sum over terms of (modified input) * J_mod^T (R / stab(z_mod)).
 */
import type { Tensor } from "../autodiff/tensor.ts";
import { add, div, equal, mul, sub } from "../ops/binary.ts";
import { onesLike } from "../ops/creation.ts";
import { where } from "../ops/select.ts";
import { clamp, sign, square } from "../ops/unary.ts";

/** One linear layer's forward (bias optional) and the transpose of its weight map. */
export interface LinearLayer {
  forward(x: Tensor, w: Tensor, b: Tensor | undefined): Tensor;
  transpose(s: Tensor, w: Tensor, xShape: readonly number[]): Tensor;
}

/** Relevance of a linear layer's input from that of its output. */
export type LayerRule = (
  layer: LinearLayer,
  relevance: Tensor,
  x: Tensor,
  w: Tensor,
  b: Tensor | undefined,
) => Tensor;

/** z + eps * sign(z), with sign(0) taken as +1 (Zennit's stabilizer). */
function stabilize(z: Tensor, eps: number): Tensor {
  return add(z, mul(add(sign(z), equal(z, 0)), eps));
}

/** r / stab(z), 0 where the stabilised denominator is exactly 0 (eps = 0 on a dead unit). */
export function share(r: Tensor, z: Tensor, eps: number): Tensor {
  const d = stabilize(z, eps);
  const zero = equal(d, 0);
  return where(zero, 0, div(r, add(d, zero)));
}

const pos = (t: Tensor) => clamp(t, 0);
const negPart = (t: Tensor) => clamp(t, -Infinity, 0);

/** Epsilon: x * W^T (R / stab(Wx + b)); eps = 0 is LRP-0. */
export const epsilonRule =
  (eps: number): LayerRule =>
  (layer, r, x, w, b) =>
    mul(x, layer.transpose(share(r, layer.forward(x, w, b), eps), w, x.shape));

/** Gamma: the epsilon rule with weights W + gamma * W+ and bias b + gamma * b+. */
export const gammaRule =
  (gamma: number, eps: number): LayerRule =>
  (layer, r, x, w, b) =>
    epsilonRule(eps)(
      layer,
      r,
      x,
      add(w, mul(pos(w), gamma)),
      b ? add(b, mul(pos(b), gamma)) : undefined,
    );

/** z+: positive inputs through positive weights plus negative through negative; no bias. */
export const zPlusRule =
  (eps: number): LayerRule =>
  (layer, r, x, w) => {
    const [xp, xn, wp, wn] = [pos(x), negPart(x), pos(w), negPart(w)];
    const z = add(layer.forward(xp, wp, undefined), layer.forward(xn, wn, undefined));
    const s = share(r, z, eps);
    return add(mul(xp, layer.transpose(s, wp, x.shape)), mul(xn, layer.transpose(s, wn, x.shape)));
  };

/**
 * Alpha-beta: alpha times the relevance through the positive contributions (x+ W+, x- W-) minus
 * beta times that through the negative ones (x+ W-, x- W+); no bias. alpha - beta = 1 conserves.
 */
export const alphaBetaRule =
  (alpha: number, beta: number, eps: number): LayerRule =>
  (layer, r, x, w) => {
    const [xp, xn, wp, wn] = [pos(x), negPart(x), pos(w), negPart(w)];
    const part = (wa: Tensor, wb: Tensor) => {
      const s = share(
        r,
        add(layer.forward(xp, wa, undefined), layer.forward(xn, wb, undefined)),
        eps,
      );
      return add(
        mul(xp, layer.transpose(s, wa, x.shape)),
        mul(xn, layer.transpose(s, wb, x.shape)),
      );
    };
    const positive = part(wp, wn);
    return beta === 0 ? mul(positive, alpha) : sub(mul(positive, alpha), mul(part(wn, wp), beta));
  };

/**
 * z^B (box): for inputs bounded by [low, high], z = Wx + b - W+ low - W- high and
 * R_in = x * W^T s - low * W+^T s - high * W-^T s with s = R / stab(z).
 */
export const boxRule =
  (low: number, high: number, eps: number): LayerRule =>
  (layer, r, x, w, b) => {
    const lo = mul(onesLike(x), low);
    const hi = mul(onesLike(x), high);
    const [wp, wn] = [pos(w), negPart(w)];
    const z = sub(
      sub(layer.forward(x, w, b), layer.forward(lo, wp, undefined)),
      layer.forward(hi, wn, undefined),
    );
    const s = share(r, z, eps);
    const t = (v: Tensor, wv: Tensor) => mul(v, layer.transpose(s, wv, x.shape));
    return sub(sub(t(x, w), t(lo, wp)), t(hi, wn));
  };

/** Flat: relevance spread uniformly over each output's receptive field (all weights and x = 1). */
export const flatRule =
  (eps: number): LayerRule =>
  (layer, r, x, w) => {
    const w1 = onesLike(w);
    return layer.transpose(share(r, layer.forward(onesLike(x), w1, undefined), eps), w1, x.shape);
  };

/** w^2: relevance spread in proportion to the squared weights, ignoring the input. */
export const wSquareRule =
  (eps: number): LayerRule =>
  (layer, r, x, w) => {
    const w2 = square(w);
    return layer.transpose(share(r, layer.forward(onesLike(x), w2, undefined), eps), w2, x.shape);
  };

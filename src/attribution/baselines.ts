/**
 * IG baselines: a scalar, a tensor of the input's shape (or with a leading 1, broadcast over the
 * batch), a named kind, or a function of the input. Baselines live in the model's input space:
 * "black" is 0 and "white" is 1, which is right for models fed [0, 1] images (fold any
 * normalisation into the model function rather than into the image).
 */
import { Tensor } from "../autodiff/tensor.ts";
import { add, mul } from "../ops/binary.ts";
import { gaussianFilter } from "../ops/blur.ts";
import { broadcastTo } from "../ops/broadcast.ts";
import { fillLike, randomUniform } from "../ops/creation.ts";

/**
 * An IG baseline: a value, a tensor, black (0), white (1), a blurred or uniform-noise copy of the
 * input, or a function of the input.
 */
export type BaselineSpec =
  | number
  | Tensor
  | "black"
  | "white"
  | { kind: "blur"; sigma?: number }
  | { kind: "uniform"; low?: number; high?: number; seed?: number }
  | ((x: Tensor) => Tensor);

/** Default width of the blurred baseline, in pixels (RISE's insertion blur uses the same). */
export const DEFAULT_BLUR_SIGMA = 5;

/** The baseline tensor for input x (a new tensor the caller owns). */
export function makeBaseline(spec: BaselineSpec, x: Tensor, api: string): Tensor {
  let b: Tensor;
  if (typeof spec === "number") {
    if (!Number.isFinite(spec))
      throw new Error(`${api}: the baseline value must be finite, got ${spec}`);
    b = fillLike(x, spec);
  } else if (spec === "black") b = fillLike(x, 0);
  else if (spec === "white") b = fillLike(x, 1);
  else if (spec instanceof Tensor) {
    const ok =
      spec.rank === x.rank && spec.shape.every((d, i) => d === x.shape[i] || (i === 0 && d === 1));
    if (!ok) {
      throw new Error(
        `${api}: the baseline has shape [${spec.shape}]; expected the input's shape [${x.shape}] or [1, ${x.shape.slice(1)}]`,
      );
    }
    b = spec.shape[0] === x.shape[0] ? add(spec, 0) : broadcastTo(spec, x.shape);
  } else if (typeof spec === "function") {
    b = spec(x);
    if (!(b instanceof Tensor) || b.rank !== x.rank || b.shape.some((d, i) => d !== x.shape[i])) {
      throw new Error(
        `${api}: the baseline function must return a tensor of the input's shape [${x.shape}], got ${b instanceof Tensor ? `[${b.shape}]` : typeof b}`,
      );
    }
  } else if (spec && typeof spec === "object" && spec.kind === "blur") {
    if (x.rank !== 4)
      throw new Error(`${api}: a blurred baseline needs an [N, C, H, W] input, got [${x.shape}]`);
    b = gaussianFilter(x, spec.sigma ?? DEFAULT_BLUR_SIGMA);
  } else if (spec && typeof spec === "object" && spec.kind === "uniform") {
    const low = spec.low ?? 0;
    const high = spec.high ?? 1;
    if (!(high > low))
      throw new Error(`${api}: uniform baseline needs low < high, got [${low}, ${high}]`);
    const u = randomUniform(x.shape, { seed: spec.seed ?? 0 });
    b = add(mul(u, high - low), low);
    u.dispose();
  } else {
    throw new Error(
      `${api}: unknown baseline ${JSON.stringify(spec)} (expected a number, a tensor, "black", "white", {kind: "blur"}, {kind: "uniform"}, or a function of the input)`,
    );
  }
  return b;
}

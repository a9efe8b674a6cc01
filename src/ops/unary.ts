/**
 * Elementwise unary ops, as data: each entry is the op's gradient written with other ops. The
 * forward of all of them is one backend kernel. `relu`'s rule reads only the output (relu(x) > 0
 * exactly where x > 0), which is what lets fused conv+ReLU record it faithfully.
 */
import { backendOf, fromHandle, requireFloat } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { OpAttrs, UnaryAttrs } from "../autodiff/op-attrs.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import type { UnaryParams } from "../kernels/backend.ts";
import { add, div, greater, greaterEqual, lessEqual, mul, mulStep, sub } from "./binary.ts";
import { where } from "./select.ts";

type UnaryGrad<K extends keyof UnaryAttrs> =
  | ((dy: Tensor, x: Tensor, y: Tensor, attrs: UnaryAttrs[K]) => Tensor)
  | null;

function unaryDef<K extends keyof UnaryAttrs>(name: K, grad: UnaryGrad<K>): OpDef<K> {
  return defineOp({
    name,
    forward([x], attrs) {
      requireFloat(name, x);
      const backend = backendOf(name, [x]);
      return fromHandle(backend.unary(name, x, attrs as UnaryParams), x.shape, "float32", backend);
    },
    vjp(dy, { inputs: [x], out, attrs }) {
      return grad ? [() => grad(dy, x, out, attrs)] : [];
    },
  });
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export const unaryOps: { [K in keyof UnaryAttrs]: OpDef<K> } = {
  neg: unaryDef("neg", (dy) => neg(dy)),
  abs: unaryDef("abs", (dy, x) => mul(dy, sign(x))),
  exp: unaryDef("exp", (dy, _x, y) => mul(dy, y)),
  log: unaryDef("log", (dy, x) => div(dy, x)),
  log1p: unaryDef("log1p", (dy, x) => div(dy, add(x, 1))),
  // The derivative of sqrt at 0 is taken as 0 (a subgradient), not +inf: an infinite slope times
  // a zero upstream gradient is NaN, which would then reach every input (see LAM's detector).
  sqrt: unaryDef("sqrt", (dy, _x, y) => where(greater(y, 0), div(mul(dy, 0.5), y), 0)),
  rsqrt: unaryDef("rsqrt", (dy, x, y) => mul(dy, div(mul(y, -0.5), x))),
  square: unaryDef("square", (dy, x) => mul(dy, mul(x, 2))),
  reciprocal: unaryDef("reciprocal", (dy, _x, y) => neg(mul(dy, square(y)))),
  sigmoid: unaryDef("sigmoid", (dy, _x, y) => mul(dy, mul(y, sub(1, y)))),
  tanh: unaryDef("tanh", (dy, _x, y) => mul(dy, sub(1, square(y)))),
  relu: unaryDef("relu", (dy, _x, y) => mulStep(dy, y)),
  softplus: unaryDef("softplus", (dy, x) => mul(dy, sigmoid(x))),
  // d/dx x*Phi(x) = Phi(x) + x*phi(x)
  gelu: unaryDef("gelu", (dy, x) => {
    const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
    const pdf = mul(exp(mul(square(x), -0.5)), SQRT_2_OVER_PI / 2);
    return mul(dy, add(cdf, mul(x, pdf)));
  }),
  erf: unaryDef("erf", (dy, x) => mul(dy, mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI)))),
  sin: unaryDef("sin", (dy, x) => mul(dy, cos(x))),
  cos: unaryDef("cos", (dy, x) => neg(mul(dy, sin(x)))),
  leakyRelu: unaryDef("leakyRelu", (dy, x, _y, a) => mul(dy, where(greater(x, 0), 1, a.a ?? 0.01))),
  // PyTorch convention: gradient 1 on the closed interval [lo, hi].
  clamp: unaryDef("clamp", (dy, x, _y, { a = -Infinity, b = Infinity }) =>
    where(greaterEqual(x, a), where(lessEqual(x, b), dy, 0), 0),
  ),
  step: unaryDef("step", null),
  sign: unaryDef("sign", null),
  floor: unaryDef("floor", null),
  isnan: unaryDef("isnan", null),
};

const u =
  <K extends keyof UnaryAttrs>(name: K) =>
  (x: Tensor): Tensor =>
    runOp(unaryOps[name] as OpDef<K>, [x], {} as OpAttrs[K]);

/** -x, elementwise. */
export const neg = u("neg");
/** |x|, elementwise (gradient sign(x), 0 at 0). */
export const abs = u("abs");
/** e^x, elementwise. */
export const exp = u("exp");
/** Natural logarithm, elementwise. */
export const log = u("log");
/** log(1 + x), elementwise, accurate near 0. */
export const log1p = u("log1p");
/** Square root, elementwise. */
export const sqrt = u("sqrt");
/** 1 / sqrt(x), elementwise. */
export const rsqrt = u("rsqrt");
/** x^2, elementwise. */
export const square = u("square");
/** 1 / x, elementwise. */
export const reciprocal = u("reciprocal");
/** The logistic function 1 / (1 + e^-x), elementwise. */
export const sigmoid = u("sigmoid");
/** Hyperbolic tangent, elementwise. */
export const tanh = u("tanh");
/**
 * max(x, 0), elementwise; its gradient follows the active rule set (guided backprop, deconvnet,
 * LRP).
 */
export const relu = u("relu");
/** log(1 + e^x), elementwise. */
export const softplus = u("softplus");
/** GELU, x * Phi(x) with the exact normal CDF (PyTorch's default), elementwise. */
export const gelu = u("gelu");
/** The error function, elementwise. */
export const erf = u("erf");
/** Sine, elementwise. */
export const sin = u("sin");
/** Cosine, elementwise. */
export const cos = u("cos");
/** 1 where x > 0, else 0 (NaN stays NaN). */
export const step = u("step");
/** -1, 0 or 1 by the sign of x, elementwise (no gradient). */
export const sign = u("sign");
/** Rounds down, elementwise (no gradient). */
export const floor = u("floor");
/** 1 where x is NaN, else 0. */
export const isnan = u("isnan");

/** x where x > 0, slope * x elsewhere (default slope 0.01). */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  return runOp(unaryOps.leakyRelu, [x], { a: slope });
}

/** x clipped to [lo, hi]; the gradient is 1 on the closed interval (PyTorch's convention). */
export function clamp(x: Tensor, lo = -Infinity, hi = Infinity): Tensor {
  if (lo > hi) throw new Error(`clamp: lower bound ${lo} is above upper bound ${hi}`);
  return runOp(unaryOps.clamp, [x], { a: lo, b: hi });
}

/**
 * WGSL for each unary op, mirroring src/kernels/cpu/elementwise.ts and scalar-math.ts (same erf
 * polynomial, same stable sigmoid and softplus, NaN rules made explicit with is_nan).
 */
import type { UnaryOp } from "../../backend.ts";

/** Scalar helper functions the expressions below call. */
export const UNARY_HELPERS = /* wgsl */ `
fn log1p_(x: f32) -> f32 {
  // log(1 + x) without cancellation: the rounding error of 1 + x is divided back out.
  let v = 1.0 + x;
  if (v == 1.0) { return x; }
  return log(v) * x / (v - 1.0);
}
fn erf_(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return select(r - 1.0, 1.0 - r, x >= 0.0);
}
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn tanh_(x: f32) -> f32 {
  // exp-based tanh overflows to NaN on some drivers for large |x|; tanh(+-10) is +-1 in f32.
  if (is_nan(x)) { return x; }
  return tanh(clamp(x, -10.0, 10.0));
}
`;

/** The expression computing the op on `x: f32`; `u.a`, `u.b` are the op's parameters. */
export function unaryExpr(op: UnaryOp): string {
  switch (op) {
    case "neg":
      return "-x";
    case "abs":
      return "abs(x)";
    case "exp":
      return "exp(x)";
    case "log":
      return "select(log(x), nan_f32(), x < 0.0)";
    case "log1p":
      return "select(log1p_(x), nan_f32(), x < -1.0)";
    case "sqrt":
      return "select(sqrt(x), nan_f32(), x < 0.0)";
    case "rsqrt":
      return "select(1.0 / sqrt(x), nan_f32(), x < 0.0)";
    case "square":
      return "x * x";
    case "reciprocal":
      return "1.0 / x";
    case "sigmoid":
      return "sigmoid_(x)";
    case "tanh":
      return "tanh_(x)";
    case "relu":
      return "select(max(x, 0.0), x, is_nan(x))";
    case "step":
      return "select(select(0.0, 1.0, x > 0.0), x, is_nan(x))";
    case "sign":
      return "select(select(select(x, -1.0, x < 0.0), 1.0, x > 0.0), x, is_nan(x))";
    case "softplus":
      return "max(x, 0.0) + log1p_(exp(-abs(x)))";
    case "gelu":
      return "0.5 * x * (1.0 + erf_(x * 0.7071067811865476))";
    case "erf":
      return "erf_(x)";
    case "sin":
      return "sin(x)";
    case "cos":
      return "cos(x)";
    case "floor":
      return "floor(x)";
    case "isnan":
      return "select(0.0, 1.0, is_nan(x))";
    case "leakyRelu":
      return "select(x, u.a * x, x < 0.0)";
    case "clamp":
      return "select(select(min(x, u.b), x, is_nan(x)), u.a, x < u.a)";
  }
}

/**
 * DeepLIFT's Rescale rule (Shrikumar et al. 2017) as a gradient-rule set, as Captum implements it:
 * the model runs once on the batch [inputs; references] (the references in the second half), and
 * each elementwise nonlinearity y = f(x) passes dy * m back with the multiplier
 * m = (f(x) - f(x0)) / (x - x0), or f'(x) where |x - x0| < 1e-10. Linear ops keep their gradient,
 * so (x - x0) times the input signal sums to f(x) - f(x0) exactly (summation-to-delta).
 */
import type { OpContext, Vjp } from "../autodiff/op.ts";
import type { OpName } from "../autodiff/op-attrs.ts";
import type { RuleSet } from "../autodiff/rule-set.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { add, div, less, maximum, mul, sub } from "../ops/binary.ts";
import { concat } from "../ops/concat.ts";
import { onesLike } from "../ops/creation.ts";
import { ops } from "../ops/registry.ts";
import { where } from "../ops/select.ts";
import { slice } from "../ops/slice.ts";
import { abs } from "../ops/unary.ts";
import {
  CUSTOM,
  LINEAR,
  NO_GRADIENT,
  PIECEWISE,
  RECTIFIERS,
  SMOOTH,
  STRUCTURAL,
  WINNER_TAKES_ALL,
  warnAll,
} from "./op-groups.ts";

/** Below this |x - x0| the multiplier falls back to the gradient (Captum's default eps). */
const DEEPLIFT_EPS = 1e-10;

/** Rows [a, a + n) of t along axis 0. */
const rows = (t: Tensor, a: number, n: number) =>
  slice(t, [a, ...t.shape.slice(1).map(() => 0)], [n, ...t.shape.slice(1)]);

function halves(t: Tensor, op: string): [Tensor, Tensor] {
  const n = t.shape[0];
  if (t.rank === 0 || n % 2 !== 0) {
    throw new Error(
      `deeplift: ${op} saw a batch of ${t.rank === 0 ? "a scalar" : n} rows; the Rescale rule needs [inputs; references] stacked on axis 0 (an even batch), as deepLift() runs it`,
    );
  }
  return [rows(t, 0, n / 2), rows(t, n / 2, n / 2)];
}

/** The Rescale rule for a unary elementwise op (the first input; others get no signal). */
function rescale(name: OpName): Vjp {
  const def = ops[name] as { vjp: Vjp };
  return (dy: Tensor, ctx: OpContext) => {
    const multiplier = () => {
      const [x, x0] = halves(ctx.inputs[0], name);
      const [y, y0] = halves(ctx.out, name);
      const dx = sub(x, x0);
      const small = less(abs(dx), DEEPLIFT_EPS);
      const slope = def.vjp(onesLike(ctx.out), ctx)[0];
      const local = slope ? rows(slope(), 0, x.shape[0]) : onesLike(x);
      const m = where(small, local, div(sub(y, y0), add(dx, small)));
      return concat([m, m], 0);
    };
    return ctx.inputs.map((_, i) => (i === 0 ? () => mul(dy, multiplier()) : null));
  };
}

/**
 * Captum's max-pool rule. With y = maxpool(x), y0 = maxpool(x0) and m = max(y, y0), the signal
 * dy * [m - y0; y - m] is routed to the winners of each half ([x; x0] argmaxes), the two halves are
 * added (their deltas sum to y - y0), and the result divided by x - x0 is the multiplier of both
 * halves; the plain gradient where |x - x0| < 1e-10. deepLift seeds both halves with the target,
 * so each pooled delta reaches the input in full (summation-to-delta holds through the pool).
 */
const maxPoolRule: Vjp<"maxPool2d"> = (dy: Tensor, ctx: OpContext<"maxPool2d">) => {
  const route = (signal: Tensor) => (ops.maxPool2d.vjp(signal, ctx)[0] as () => Tensor)();
  return [
    () => {
      const [x, x0] = halves(ctx.inputs[0], "maxPool2d");
      const [y, y0] = halves(ctx.out, "maxPool2d");
      const top = maximum(y, y0);
      const [fromX, fromRef] = halves(
        route(mul(dy, concat([sub(top, y0), sub(y, top)], 0))),
        "maxPool2d",
      );
      const dx = sub(x, x0);
      const small = less(abs(dx), DEEPLIFT_EPS);
      const m = div(add(fromX, fromRef), add(dx, small));
      return where(concat([small, small], 0), route(dy), concat([m, m], 0));
    },
  ];
};

const UNARY_NONLINEAR: readonly OpName[] = [
  ...RECTIFIERS,
  ...SMOOTH.filter((op) => op !== "pow"),
  "clamp",
  "abs",
];

/**
 * DeepLIFT Rescale rules. They expect the batch [inputs; references] (see deepLift); linear ops
 * keep their gradient by definition.
 */
export function deepLiftRules(): RuleSet {
  const table: { [K in OpName]?: Vjp } = {};
  for (const op of UNARY_NONLINEAR) table[op] = rescale(op);
  table.maxPool2d = maxPoolRule as Vjp;
  const binary = PIECEWISE.filter((op) => !UNARY_NONLINEAR.includes(op));
  return {
    ...(table as RuleSet),
    coverage: {
      name: "deeplift",
      passThrough: [...STRUCTURAL, ...LINEAR, ...NO_GRADIENT],
      warn: {
        ...warnAll(
          WINNER_TAKES_ALL.filter((op) => op !== "maxPool2d"),
          "a max/min reduction keeps its gradient (Captum's rules cover max pooling only)",
        ),
        ...warnAll([...binary, "pow"], "a binary nonlinearity keeps its gradient"),
        ...warnAll(CUSTOM, "its hand-written backward runs unchanged"),
      },
    },
  };
}

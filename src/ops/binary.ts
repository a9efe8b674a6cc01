/** Elementwise binary ops with NumPy broadcasting; gradients are summed back over broadcast axes. */

import { backendOf, fromHandle } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { BinaryAttrs } from "../autodiff/op-attrs.ts";
import { Tensor } from "../autodiff/tensor.ts";
import type { BinaryOp } from "../kernels/backend.ts";
import { broadcastShapes, shapeEq } from "../kernels/shape.ts";
import { scalar } from "./creation.ts";
import { sum } from "./reduce.ts";
import { reshape } from "./reshape.ts";
import { where } from "./select.ts";
import { log, neg } from "./unary.ts";

/** A tensor or a plain number (broadcast as a scalar). */
export type TensorLike = Tensor | number;

const kernelName: { [K in keyof BinaryAttrs]: BinaryOp } = {
  add: "add",
  sub: "sub",
  mul: "mul",
  div: "div",
  maximum: "max",
  minimum: "min",
  pow: "pow",
  greater: "greater",
  greaterEqual: "greaterEqual",
  less: "less",
  lessEqual: "lessEqual",
  equal: "equal",
  mulStep: "mulStep",
};

/** Sums a broadcast gradient back to `shape` (the adjoint of broadcasting). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (shapeEq(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return reshape(sum(g, axes), shape);
}

type BinaryGrad = (
  dy: Tensor,
  a: Tensor,
  b: Tensor,
  y: Tensor,
) => [(() => Tensor) | null, (() => Tensor) | null];

function binaryDef<K extends keyof BinaryAttrs>(name: K, grad: BinaryGrad | null): OpDef<K> {
  return defineOp({
    name,
    forward([a, b]) {
      const backend = backendOf(name, [a, b]);
      const shape = broadcastShapes(name, a.shape, b.shape);
      return fromHandle(backend.binary(kernelName[name], a, b, shape), shape, "float32", backend);
    },
    vjp(dy, { inputs: [a, b], out }) {
      if (!grad) return [];
      const [ga, gb] = grad(dy, a, b, out);
      return [ga && (() => sumTo(ga(), a.shape)), gb && (() => sumTo(gb(), b.shape))];
    },
  });
}

export const addOp: OpDef<"add"> = binaryDef("add", (dy) => [() => dy, () => dy]);
export const subOp: OpDef<"sub"> = binaryDef("sub", (dy) => [() => dy, () => neg(dy)]);
export const mulOp: OpDef<"mul"> = binaryDef("mul", (dy, a, b) => [
  () => mul(dy, b),
  () => mul(dy, a),
]);
export const divOp: OpDef<"div"> = binaryDef("div", (dy, _a, b, y) => [
  () => div(dy, b),
  () => neg(div(mul(dy, y), b)),
]);
// Ties split the gradient evenly, so maximum(x, x) has gradient 1 like x itself.
const tieShare = (a: Tensor, b: Tensor) => add(greater(a, b), mul(equal(a, b), 0.5));
export const maximumOp: OpDef<"maximum"> = binaryDef("maximum", (dy, a, b) => [
  () => mul(dy, tieShare(a, b)),
  () => mul(dy, tieShare(b, a)),
]);
export const minimumOp: OpDef<"minimum"> = binaryDef("minimum", (dy, a, b) => [
  () => mul(dy, tieShare(b, a)),
  () => mul(dy, tieShare(a, b)),
]);
export const powOp: OpDef<"pow"> = binaryDef("pow", (dy, a, b, y) => [
  () => mul(dy, mul(b, pow(a, sub(b, 1)))),
  // d/db a^b = a^b log a, taken as 0 where a <= 0 (log undefined) like PyTorch's a == 0 case.
  () => where(greater(a, 0), mul(dy, mul(y, log(a))), 0),
]);
export const greaterOp: OpDef<"greater"> = binaryDef("greater", null);
export const greaterEqualOp: OpDef<"greaterEqual"> = binaryDef("greaterEqual", null);
export const lessOp: OpDef<"less"> = binaryDef("less", null);
export const lessEqualOp: OpDef<"lessEqual"> = binaryDef("lessEqual", null);
export const equalOp: OpDef<"equal"> = binaryDef("equal", null);
// a * step(b): ReLU's backward (dy times the step of its output) as one kernel, rather than a
// step and a mul (a pass and a temporary fewer over every activation). Linear in a.
export const mulStepOp: OpDef<"mulStep"> = binaryDef("mulStep", (dy, _a, b) => [
  () => mulStep(dy, b),
  null,
]);

/** Turns a number into a scalar tensor on the other operand's backend. */
export function lift(v: TensorLike, like?: Tensor): Tensor {
  if (v instanceof Tensor) return v;
  if (like) return fromHandle(like.backend.fill([], v, "float32"), [], "float32", like.backend);
  return scalar(v);
}

function bin<K extends keyof BinaryAttrs>(def: OpDef<K>) {
  return (a: TensorLike, b: TensorLike): Tensor => {
    const ref = a instanceof Tensor ? a : b instanceof Tensor ? b : undefined;
    return runOp(def, [lift(a, ref), lift(b, ref)], {} as BinaryAttrs[K]);
  };
}

/** a + b with NumPy broadcasting. */
export const add: (a: TensorLike, b: TensorLike) => Tensor = bin(addOp);
/** a - b with NumPy broadcasting. */
export const sub: (a: TensorLike, b: TensorLike) => Tensor = bin(subOp);
/** a * b with NumPy broadcasting. */
export const mul: (a: TensorLike, b: TensorLike) => Tensor = bin(mulOp);
/** a / b with NumPy broadcasting. */
export const div: (a: TensorLike, b: TensorLike) => Tensor = bin(divOp);
/** The larger of a and b, elementwise with broadcasting. */
export const maximum: (a: TensorLike, b: TensorLike) => Tensor = bin(maximumOp);
/** The smaller of a and b, elementwise with broadcasting. */
export const minimum: (a: TensorLike, b: TensorLike) => Tensor = bin(minimumOp);
/** a ^ b with NumPy broadcasting. */
export const pow: (a: TensorLike, b: TensorLike) => Tensor = bin(powOp);
/** 1 where a > b, else 0 (broadcasting; no gradient). */
export const greater: (a: TensorLike, b: TensorLike) => Tensor = bin(greaterOp);
/** 1 where a >= b, else 0 (broadcasting; no gradient). */
export const greaterEqual: (a: TensorLike, b: TensorLike) => Tensor = bin(greaterEqualOp);
/** 1 where a < b, else 0 (broadcasting; no gradient). */
export const less: (a: TensorLike, b: TensorLike) => Tensor = bin(lessOp);
/** 1 where a <= b, else 0 (broadcasting; no gradient). */
export const lessEqual: (a: TensorLike, b: TensorLike) => Tensor = bin(lessEqualOp);
/** 1 where a == b, else 0 (broadcasting; no gradient). */
export const equal: (a: TensorLike, b: TensorLike) => Tensor = bin(equalOp);
/** a * step(b), i.e. a where b > 0, 0 where b <= 0, NaN where b is NaN (broadcasting; ReLU's backward). */
export const mulStep: (a: TensorLike, b: TensorLike) => Tensor = bin(mulStepOp);

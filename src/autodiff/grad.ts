/**
 * Reverse-mode entry points. Each runs the function under a fresh tape that watches only the
 * requested inputs, so attribution pays for d(output)/d(input) and nothing else.
 */
import { onesLike, zerosLike } from "../ops/creation.ts";
import { backward } from "./backward.ts";
import { state } from "./state.ts";
import { Tape } from "./tape.ts";
import { Tensor, Variable } from "./tensor.ts";
import { tidy } from "./tidy.ts";

export interface ValueAndGrads {
  value: Tensor;
  grads: Tensor[];
}

function checkSources(xs: readonly Tensor[], api: string): void {
  xs.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new Error(`${api}: argument ${i} is not a Tensor`);
    x.assertAlive(`differentiate with respect to`);
    if (x.dtype !== "float32") {
      throw new Error(
        `${api}: argument ${i} is ${x.dtype}; gradients exist only for float32 tensors`,
      );
    }
  });
}

function runTaped<T>(tape: Tape, fn: () => T): T {
  state.tapes = [...state.tapes, tape];
  try {
    return fn();
  } finally {
    state.tapes = state.tapes.filter((t) => t !== tape);
  }
}

function seed(y: Tensor, dy: Tensor | undefined, api: string): Tensor {
  if (dy) {
    if (dy.shape.length !== y.shape.length || dy.shape.some((d, i) => d !== y.shape[i])) {
      throw new Error(`${api}: dy has shape [${dy.shape}] but the output has shape [${y.shape}]`);
    }
    return dy;
  }
  if (y.size !== 1) {
    throw new Error(
      `${api}: the function returned shape [${y.shape}]; pass dy (same shape) for non-scalar outputs`,
    );
  }
  return onesLike(y);
}

/** `sources` is called after the forward pass (variableGrads learns them from the tape). */
function gradients(
  tape: Tape,
  fn: () => Tensor,
  getSources: () => readonly Tensor[],
  dy: Tensor | undefined,
  api: string,
): ValueAndGrads & { sources: readonly Tensor[] } {
  return tidy(() => {
    try {
      // The forward in its own scope: what the tape does not hold is freed now, and what it
      // holds is freed node by node during the reverse sweep (Tape.releaseNode).
      const value = tidy(() => runTaped(tape, fn));
      if (!(value instanceof Tensor)) throw new Error(`${api}: the function must return a Tensor`);
      const sources = getSources();
      const gs = backward(tape, value, seed(value, dy, api), sources);
      return { value, sources, grads: gs.map((g, i) => g ?? zerosLike(sources[i])) };
    } finally {
      tape.release();
    }
  });
}

/** f(...xs) and d(f . dy)/dxs (dy defaults to 1 for scalar outputs). */
export function valueAndGrads<A extends Tensor[]>(
  f: (...xs: A) => Tensor,
): (xs: A, dy?: Tensor) => ValueAndGrads {
  return (xs, dy) => {
    checkSources(xs, "valueAndGrads");
    const tape = new Tape();
    for (const x of xs) tape.watch(x);
    const { value, grads } = gradients(
      tape,
      () => f(...xs),
      () => xs,
      dy,
      "valueAndGrads",
    );
    return { value, grads };
  };
}

/**
 * The gradients of f with respect to each of its tensor arguments (dy seeds non-scalar outputs).
 */
export function grads<A extends Tensor[]>(
  f: (...xs: A) => Tensor,
): (xs: A, dy?: Tensor) => Tensor[] {
  const vg = valueAndGrads(f);
  return (xs, dy) => {
    const { value, grads } = vg(xs, dy);
    value.dispose();
    return grads;
  };
}

/** f(x) and df/dx (dy seeds non-scalar outputs). */
export function valueAndGrad(
  f: (x: Tensor) => Tensor,
): (x: Tensor, dy?: Tensor) => { value: Tensor; grad: Tensor } {
  const vg = valueAndGrads(f);
  return (x, dy) => {
    const { value, grads } = vg([x], dy);
    return { value, grad: grads[0] };
  };
}

/**
 * df/dx as a function of x (dy seeds non-scalar outputs); only the path from x to the output is
 * differentiated.
 */
export function grad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => Tensor {
  const vg = valueAndGrad(f);
  return (x, dy) => {
    const { value, grad } = vg(x, dy);
    value.dispose();
    return grad;
  };
}

/** The vector-Jacobian product of f at `primals` with cotangent `dy` (JAX's vjp, evaluated). */
export function vjp<A extends Tensor[]>(
  f: (...xs: A) => Tensor,
  primals: A,
  dy: Tensor,
): ValueAndGrads {
  return valueAndGrads(f)(primals, dy);
}

/**
 * Gradients of a scalar loss with respect to trainable variables (all those the loss touches, or
 * only `vars`), for training loops.
 */
export function variableGrads(
  f: () => Tensor,
  vars?: readonly Variable[],
): { value: Tensor; grads: Map<Variable, Tensor> } {
  const tape = new Tape(!vars);
  if (vars) for (const v of vars) tape.watch(v);
  const touched = () => {
    if (vars) return vars;
    const found = new Set<Variable>();
    for (const n of tape.nodes) {
      for (const x of n.ctx.inputs) if (x instanceof Variable && x.trainable) found.add(x);
    }
    return [...found];
  };
  const { value, grads, sources } = gradients(tape, f, touched, undefined, "variableGrads");
  return { value, grads: new Map(sources.map((v, i) => [v as Variable, grads[i]])) };
}

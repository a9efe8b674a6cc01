/** The reverse sweep over a tape: accumulates cotangents from the output back to the sources. */
import { shapeEq } from "../kernels/shape.ts";
import { add } from "../ops/binary.ts";
import type { TapeNode } from "./op.ts";
import { activeProfiler } from "./profile.ts";
import type { Tape } from "./tape.ts";
import type { Tensor } from "./tensor.ts";
import { tidy } from "./tidy.ts";

/**
 * Cotangents by tensor id. A rule may pass its upstream cotangent through unchanged (add, reshape
 * of the same shape), so one tensor can sit under several ids: it is disposed only when no entry
 * refers to it any more, which keeps peak memory to the live frontier of the sweep.
 */
class Cotangents {
  private readonly byId = new Map<number, Tensor>();
  private readonly refs = new Map<Tensor, number>();
  constructor(private readonly pinned: ReadonlySet<Tensor>) {}

  get(id: number): Tensor | undefined {
    return this.byId.get(id);
  }
  set(id: number, t: Tensor): void {
    const prev = this.byId.get(id);
    this.byId.set(id, t);
    this.refs.set(t, (this.refs.get(t) ?? 0) + 1);
    if (prev) this.unref(prev);
  }
  drop(id: number): void {
    const t = this.byId.get(id);
    if (!t) return;
    this.byId.delete(id);
    this.unref(t);
  }
  private unref(t: Tensor): void {
    const n = (this.refs.get(t) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(t, n);
      return;
    }
    this.refs.delete(t);
    if (!this.pinned.has(t)) t.dispose();
  }
}

/**
 * Returns d(y . dy)/d(source) for every source (undefined where y does not depend on it).
 */
export function backward(
  tape: Tape,
  y: Tensor,
  dy: Tensor,
  sources: readonly Tensor[],
): (Tensor | undefined)[] {
  const wanted = new Set(sources.map((s) => s.id));
  const grads = new Cotangents(new Set([dy]));
  grads.set(y.id, dy);
  for (let i = tape.nodes.length - 1; i >= 0; i--) {
    const { name, ctx } = tape.nodes[i];
    const g = grads.get(ctx.out.id);
    if (!g) {
      tape.releaseNode(i);
      continue;
    }
    const profiler = activeProfiler();
    if (profiler === null) {
      backwardNode(tape, grads, tape.nodes[i], g);
    } else {
      // The rule, its thunks and the cotangent sums, under the node's op name.
      const t0 = performance.now();
      profiler.depth++;
      try {
        backwardNode(tape, grads, tape.nodes[i], g);
      } finally {
        profiler.depth--;
        profiler.add(profiler.label(name, ctx.inputs), "backward", performance.now() - t0);
      }
    }
    if (!wanted.has(ctx.out.id)) grads.drop(ctx.out.id);
    tape.releaseNode(i);
  }
  return sources.map((s) => grads.get(s.id));
}

/** Runs one node's gradient rule and adds what it gives each tracked input to that input's sum. */
function backwardNode(tape: Tape, grads: Cotangents, node: TapeNode, g: Tensor): void {
  const { name, ctx, vjp } = node;
  // One scope for the rule and its thunks (which may share work, as customGrad's do): what they
  // make besides the gradients (cos(x) in sin's rule, relu's mask) is freed as soon as they end.
  const gxs = tidy(() => {
    const thunks = vjp(g, ctx);
    return ctx.inputs.map((x, j) => {
      const thunk = thunks[j];
      if (!thunk || !tape.isTracked(x) || x.dtype !== "float32") return null;
      const gx = thunk();
      if (!shapeEq(gx.shape, x.shape)) {
        throw new Error(
          `gradient rule of ${name} returned shape [${gx.shape}] for input ${j} of shape [${x.shape}]`,
        );
      }
      return gx;
    });
  });
  gxs.forEach((gx, j) => {
    if (gx === null) return;
    const x = ctx.inputs[j];
    const prev = grads.get(x.id);
    grads.set(x.id, prev ? add(prev, gx) : gx);
    if (prev && gx !== g) gx.dispose();
  });
}

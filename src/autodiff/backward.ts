/** The reverse sweep over a tape: accumulates cotangents from the output back to the sources. */
import { add } from "../ops/binary.ts";
import { Tape } from "./tape.ts";
import type { Tensor } from "./tensor.ts";

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Returns d(y . dy)/d(source) for every source (undefined where y does not depend on it).
 * Cotangents of intermediate tensors are disposed as soon as they have been propagated.
 */
export function backward(
  tape: Tape,
  y: Tensor,
  dy: Tensor,
  sources: readonly Tensor[],
): (Tensor | undefined)[] {
  const keep = new Set(sources.map((s) => s.id));
  const grads = new Map<number, Tensor>([[y.id, dy]]);
  for (let i = tape.nodes.length - 1; i >= 0; i--) {
    const { name, ctx, vjp } = tape.nodes[i];
    const g = grads.get(ctx.out.id);
    if (!g) continue;
    const thunks = vjp(g, ctx);
    ctx.inputs.forEach((x, j) => {
      const thunk = thunks[j];
      if (!thunk || !tape.isTracked(x) || x.dtype !== "float32") return;
      const gx = thunk();
      if (!sameShape(gx.shape, x.shape)) {
        throw new Error(
          `gradient rule of ${name} returned shape [${gx.shape}] for input ${j} of shape [${x.shape}]`,
        );
      }
      const prev = grads.get(x.id);
      if (prev) {
        grads.set(x.id, add(prev, gx));
        if (!keep.has(x.id)) {
          prev.dispose();
          gx.dispose();
        }
      } else grads.set(x.id, gx);
    });
    if (!keep.has(ctx.out.id) && g !== dy) {
      grads.delete(ctx.out.id);
      g.dispose();
    }
  }
  return sources.map((s) => grads.get(s.id));
}

export { Tape };

/**
 * A gradient tape: records only ops with at least one input on the path from the tensors it
 * watches, so the backward pass touches nothing else (pruning by construction).
 */
import type { TapeNode } from "./op.ts";
import { state } from "./state.ts";
import { type Tensor, Variable } from "./tensor.ts";

export class Tape {
  readonly nodes: TapeNode[] = [];
  private readonly tracked = new Set<number>();
  private readonly held: Tensor[] = [];

  /** @param watchVariables also watch every trainable Variable (for parameter gradients). */
  constructor(private readonly watchVariables = false) {}

  watch(t: Tensor): void {
    this.tracked.add(t.id);
  }

  isTracked(t: Tensor): boolean {
    return this.tracked.has(t.id) || (this.watchVariables && t instanceof Variable && t.trainable);
  }

  record(node: TapeNode): void {
    this.nodes.push(node);
    this.tracked.add(node.ctx.out.id);
    for (const t of [...node.ctx.inputs, node.ctx.out, ...node.ctx.saved]) {
      t.holds++;
      this.held.push(t);
    }
  }

  /** Lets go of every saved tensor, disposing those whose disposal was deferred. */
  release(): void {
    for (const t of this.held) {
      t.holds--;
      if (t.holds === 0 && t.disposeRequested) state.dispose(t);
    }
    this.held.length = 0;
  }
}

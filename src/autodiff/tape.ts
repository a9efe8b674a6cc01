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
  /** The tensors each node holds (its inputs, output and saved tensors) until released. */
  private readonly held: Tensor[][] = [];

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
    const held = [...node.ctx.inputs, node.ctx.out, ...node.ctx.saved];
    for (const t of held) t.holds++;
    this.held.push(held);
  }

  /**
   * Lets go of what node i holds, disposing the tensors whose disposal was deferred and that no
   * other node holds: the reverse sweep calls it once the node's rule has run, so forward
   * activations are freed (and their buffers recycled) as the sweep passes them.
   */
  releaseNode(i: number): void {
    const held = this.held[i];
    if (held === undefined) return;
    for (const t of held) {
      t.holds--;
      if (t.holds === 0 && t.disposeRequested) state.dispose(t);
    }
    this.held[i] = [];
  }

  /** Lets go of every saved tensor not released yet. */
  release(): void {
    for (let i = 0; i < this.held.length; i++) this.releaseNode(i);
    this.held.length = 0;
  }
}

/**
 * A Conv whose output only a Relu reads runs as one conv with the ReLU fused into its kernel
 * (conv2d's `relu` option: no separate pass over the output forward, and the ReLU's gradient
 * mask applied inside the conv's backward, under the same ReLU gradient rule). The pair is
 * planned at load; the Conv op applies the ReLU when it can (2-D convs, also after a fused
 * Resize) and says so, else the Relu runs as written. Taps on the Conv's output and gradient rule
 * sets (which pick rules per op) keep the two nodes apart.
 */
import { type PlanNode, soleReaders } from "./sole-reader.ts";

/** A Conv and the Relu that alone reads its output (indices in run order). */
export interface ConvReluPair {
  conv: number;
  relu: number;
}

export function planConvRelus(
  nodes: readonly PlanNode[],
  graphOutputs: readonly string[],
): ConvReluPair[] {
  const sole = soleReaders(nodes, graphOutputs);
  const pairs: ConvReluPair[] = [];
  nodes.forEach((p, i) => {
    const j = sole[i];
    if (p.node.opType === "Conv" && j >= 0 && nodes[j].node.opType === "Relu") {
      pairs.push({ conv: i, relu: j });
    }
  });
  return pairs;
}

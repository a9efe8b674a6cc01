/**
 * Which node alone reads a node's output: what the load-time fusion planners (Resize -> Conv,
 * Conv -> Relu) look for, since a fused pair never materialises the value between them.
 */

/** What the planners read of a prepared node. */
export interface PlanNode {
  node: { opType?: string | null; name?: string | null };
  inputs: readonly string[];
  outputs: readonly string[];
}

/**
 * For each node (by run-order index): the index of the one node that reads its one output, as
 * that node's first input and nowhere else, when that output is not a graph output; else -1.
 */
export function soleReaders(nodes: readonly PlanNode[], graphOutputs: readonly string[]): number[] {
  const readers = new Map<string, number[]>();
  nodes.forEach((p, i) => {
    for (const n of p.inputs) {
      if (!n) continue;
      const list = readers.get(n);
      if (list) list.push(i);
      else readers.set(n, [i]);
    }
  });
  return nodes.map((p) => {
    const out = p.outputs[0];
    if (p.outputs.filter((o) => o).length !== 1 || !out || graphOutputs.includes(out)) return -1;
    const users = readers.get(out) ?? [];
    if (users.length !== 1) return -1;
    const inputs = nodes[users[0]].inputs;
    return inputs[0] === out && inputs.indexOf(out, 1) === -1 ? users[0] : -1;
  });
}

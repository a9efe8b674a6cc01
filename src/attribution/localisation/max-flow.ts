/**
 * Maximum s-t flow / minimum cut by Dinic's algorithm (BFS level graph, then blocking flows by DFS
 * with per-node edge pointers). No maintained npm package offers one; Dinic is short enough to
 * check against a brute-force cut, and on image grids of a few thousand pixels it takes
 * milliseconds.
 */

/** A directed graph with capacities, built edge by edge. */
export class FlowGraph {
  private readonly head: Int32Array;
  private to: number[] = [];
  private next: number[] = [];
  private cap: number[] = [];

  constructor(readonly nodes: number) {
    if (!Number.isInteger(nodes) || nodes < 2)
      throw new Error(`FlowGraph: need at least 2 nodes, got ${nodes}`);
    this.head = new Int32Array(nodes).fill(-1);
  }

  private push(u: number, v: number, c: number): void {
    this.to.push(v);
    this.cap.push(c);
    this.next.push(this.head[u]);
    this.head[u] = this.to.length - 1;
  }

  private check(u: number, what: string): void {
    if (!Number.isInteger(u) || u < 0 || u >= this.nodes)
      throw new Error(`FlowGraph: ${what} ${u} is not a node (0..${this.nodes - 1})`);
  }

  /** Adds u -> v with capacity `forward` and v -> u with capacity `backward` (default 0). */
  addEdge(u: number, v: number, forward: number, backward = 0): void {
    this.check(u, "source end");
    this.check(v, "target end");
    if (!(forward >= 0 && backward >= 0))
      throw new Error(`FlowGraph: capacities must be >= 0, got ${forward} and ${backward}`);
    this.push(u, v, forward);
    this.push(v, u, backward);
  }

  /**
   * The maximum flow from s to t, and the source side of a minimum cut (nodes still reachable
   * from s in the residual graph). Capacities are consumed: call once per graph.
   */
  maxFlow(s: number, t: number): { flow: number; sourceSide: Uint8Array } {
    this.check(s, "source");
    this.check(t, "sink");
    if (s === t) throw new Error("FlowGraph: source and sink must differ");
    const n = this.nodes;
    const level = new Int32Array(n);
    const iter = new Int32Array(n);
    const queue = new Int32Array(n);
    const { to, cap, next, head } = this;
    const bfs = (): boolean => {
      level.fill(-1);
      level[s] = 0;
      let qh = 0;
      let qt = 0;
      queue[qt++] = s;
      while (qh < qt) {
        const u = queue[qh++];
        for (let e = head[u]; e !== -1; e = next[e]) {
          if (cap[e] > 0 && level[to[e]] < 0) {
            level[to[e]] = level[u] + 1;
            queue[qt++] = to[e];
          }
        }
      }
      return level[t] >= 0;
    };
    // Iterative DFS along the level graph, one augmenting path at a time.
    const stackNode = new Int32Array(n);
    const stackEdge = new Int32Array(n);
    const augment = (): number => {
      let depth = 0;
      stackNode[0] = s;
      while (depth >= 0) {
        const u = stackNode[depth];
        if (u === t) {
          let f = Infinity;
          for (let d = 0; d < depth; d++) f = Math.min(f, cap[stackEdge[d]]);
          for (let d = 0; d < depth; d++) {
            cap[stackEdge[d]] -= f;
            cap[stackEdge[d] ^ 1] += f;
          }
          return f;
        }
        let advanced = false;
        for (; iter[u] !== -1; iter[u] = next[iter[u]]) {
          const e = iter[u];
          const v = to[e];
          if (cap[e] > 0 && level[v] === level[u] + 1) {
            stackEdge[depth] = e;
            stackNode[++depth] = v;
            advanced = true;
            break;
          }
        }
        if (!advanced) {
          level[u] = -1; // dead end: prune it from this phase
          depth--;
          if (depth >= 0) iter[stackNode[depth]] = next[iter[stackNode[depth]]];
        }
      }
      return 0;
    };
    let flow = 0;
    while (bfs()) {
      for (let u = 0; u < n; u++) iter[u] = head[u];
      for (let f = augment(); f > 0; f = augment()) flow += f;
    }
    const sourceSide = new Uint8Array(n);
    // After the last BFS, level >= 0 marks exactly the nodes reachable from s.
    for (let u = 0; u < n; u++) sourceSide[u] = level[u] >= 0 ? 1 : 0;
    return { flow, sourceSide };
  }
}

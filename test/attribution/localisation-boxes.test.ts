/** Max-flow against brute force, threshold rules by hand, localisation error of perfect maps. */
import { describe, expect, test } from "vitest";
import {
  boxIoU,
  FlowGraph,
  graphCutSegment,
  localisationError,
  maskBox,
  thresholdBox,
  thresholdMap,
  tuneAlpha,
} from "../../src/attribution/localisation/index.ts";
import { Random } from "../../src/random.ts";

/** The minimum s-t cut by trying every split of the other nodes. */
function bruteForceCut(n: number, edges: [number, number, number][], s: number, t: number) {
  const others = Array.from({ length: n }, (_, i) => i).filter((i) => i !== s && i !== t);
  let best = Infinity;
  for (let bits = 0; bits < 1 << others.length; bits++) {
    const side = new Uint8Array(n);
    side[s] = 1;
    others.forEach((v, k) => {
      if (bits & (1 << k)) side[v] = 1;
    });
    let c = 0;
    for (const [u, v, cap] of edges) if (side[u] && !side[v]) c += cap;
    best = Math.min(best, c);
  }
  return best;
}

describe("max flow (Dinic)", () => {
  test("equals the brute-force minimum cut on 200 random tiny graphs, and its cut attains it", () => {
    const rng = new Random(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + rng.int(7);
      const edges: [number, number, number][] = [];
      const m = rng.int(3 * n);
      for (let e = 0; e < m; e++) {
        const u = rng.int(n);
        const v = rng.int(n);
        if (u !== v) edges.push([u, v, rng.int(10)]);
      }
      const g = new FlowGraph(n);
      for (const [u, v, c] of edges) g.addEdge(u, v, c);
      const { flow, sourceSide } = g.maxFlow(0, n - 1);
      expect(flow).toBe(bruteForceCut(n, edges, 0, n - 1));
      expect(sourceSide[0]).toBe(1);
      expect(sourceSide[n - 1]).toBe(0);
      let cut = 0;
      for (const [u, v, c] of edges) if (sourceSide[u] && !sourceSide[v]) cut += c;
      expect(cut).toBe(flow);
    }
  });

  test("a textbook network: CLRS figure 26.6 has maximum flow 23", () => {
    const g = new FlowGraph(6);
    const e: [number, number, number][] = [
      [0, 1, 16],
      [0, 2, 13],
      [2, 1, 4],
      [1, 3, 12],
      [3, 2, 9],
      [2, 4, 14],
      [4, 3, 7],
      [3, 5, 20],
      [4, 5, 4],
    ];
    for (const [u, v, c] of e) g.addEdge(u, v, c);
    expect(g.maxFlow(0, 5).flow).toBe(23);
  });

  test("bad graphs are refused", () => {
    expect(() => new FlowGraph(1)).toThrow(/at least 2 nodes/);
    const g = new FlowGraph(3);
    expect(() => g.addEdge(0, 3, 1)).toThrow(/target end 3 is not a node/);
    expect(() => g.addEdge(0, 1, -1)).toThrow(/capacities must be >= 0/);
  });
});

describe("threshold rules and boxes", () => {
  // 4 x 5 map (row-major), values chosen so each rule's answer is easy by hand.
  const map = [0, 0, 0, 0, 0, 0, 8, 4, 0, 0, 0, 2, 6, 0, 1, 0, 0, 0, 0, 0];
  test("value, mean and energy select what the definitions say", () => {
    // max 8: alpha 0.5 keeps values >= 4: 8, 4, 6.
    expect(Array.from(thresholdMap(map, 4, 5, "value", 0.5))).toEqual(
      map.map((v) => (v >= 4 ? 1 : 0)),
    );
    // mean 21 / 20 = 1.05: alpha 1 keeps values >= 1.05: 8, 4, 2, 6.
    expect(Array.from(thresholdMap(map, 4, 5, "mean", 1))).toEqual(
      map.map((v) => (v >= 1.05 ? 1 : 0)),
    );
    // total 21: 8 + 6 = 14 < 0.7 * 21 = 14.7, so energy 0.7 needs 8, 6 and 4.
    expect(Array.from(thresholdMap(map, 4, 5, "energy", 0.7))).toEqual(
      map.map((v) => (v >= 4 ? 1 : 0)),
    );
  });

  test("the box is the largest 8-connected component's (or all pixels')", () => {
    // Value >= 1/8 of max keeps 8, 4, 2, 6 (one diagonal blob) and the lone 1 at (x 4, y 2).
    expect(thresholdBox(map, 4, 5, "value", 0.1)).toEqual([1, 1, 2, 2]);
    expect(thresholdBox(map, 4, 5, "value", 0.1, { component: "all" })).toEqual([1, 1, 4, 2]);
    expect(maskBox(new Array(20).fill(0), 4, 5)).toBeNull();
  });

  test("box IoU by hand", () => {
    // [0,0,1,1] has 4 pixels, [1,1,2,2] 4, they share 1: 1 / 7.
    expect(boxIoU([0, 0, 1, 1], [1, 1, 2, 2])).toBeCloseTo(1 / 7, 12);
    expect(boxIoU([0, 0, 3, 3], [0, 0, 3, 3])).toBe(1);
  });

  test("a perfect map (the object's own mask) has localisation error 0 under every rule", () => {
    const rng = new Random(3);
    const examples = Array.from({ length: 10 }, () => {
      const h = 16;
      const w = 16;
      const x0 = rng.int(8);
      const y0 = rng.int(8);
      const bw = 3 + rng.int(6);
      const bh = 3 + rng.int(6);
      const m = new Float32Array(h * w);
      for (let y = y0; y < y0 + bh; y++) for (let x = x0; x < x0 + bw; x++) m[y * w + x] = 1;
      return { map: m, height: h, width: w, boxes: [[x0, y0, x0 + bw - 1, y0 + bh - 1]] as const };
    });
    for (const rule of ["value", "mean", "energy"] as const) {
      const alpha = rule === "energy" ? 1 : 0.5;
      const boxes = examples.map((e) => thresholdBox(e.map, e.height, e.width, rule, alpha));
      expect(
        localisationError(
          boxes,
          examples.map((e) => e.boxes.map((b) => [...b])),
        ),
        rule,
      ).toBe(0);
    }
    const tuned = tuneAlpha(
      examples.map((e) => ({
        ...e,
        boxes: e.boxes.map((b) => [...b] as [number, number, number, number]),
      })),
      "value",
    );
    expect(tuned.error).toBe(0);
  });

  test("a missing or misplaced box is an error", () => {
    expect(localisationError([null, [0, 0, 1, 1]], [[[0, 0, 1, 1]], [[5, 5, 6, 6]]])).toBe(1);
    expect(() => localisationError([], [])).toThrow(/no predictions/);
  });
});

describe("graph-cut segmentation", () => {
  test("segments a bright square seeded by a map peaking inside it", () => {
    // 20 x 20 dark image with a bright 8 x 8 square at (6, 6); the map is a bump at its centre,
    // so only the square's centre seeds the foreground but the colour model recovers all of it.
    const h = 20;
    const w = 20;
    const img = new Float32Array(h * w);
    const sal = new Float32Array(h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (y >= 6 && y < 14 && x >= 6 && x < 14) img[y * w + x] = 0.9;
        sal[y * w + x] = Math.exp(-((y - 9.5) ** 2 + (x - 9.5) ** 2) / 8);
      }
    }
    const r = graphCutSegment(img, sal, h, w);
    expect(r.box).toEqual([6, 6, 13, 13]);
    let area = 0;
    for (const v of r.segment) area += v;
    expect(area).toBe(64);
  });
});

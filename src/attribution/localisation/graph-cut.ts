/**
 * Object segmentation from a saliency map (Simonyan et al. 2013, section 3.1): pixels above the
 * 95% quantile of saliency seed the foreground, pixels below the 30% quantile the background; a
 * colour model of each seed set gives every pixel a cost per label, a contrast-sensitive Potts
 * term (GrabCut's: gamma exp(-beta |I_p - I_q|^2), beta = 1 / (2 mean |I_p - I_q|^2), gamma 50,
 * 8-neighbours with 1 / distance weights) keeps the segment coherent, and an s-t minimum cut
 * (Boykov & Jolly) labels the pixels with the seeds as hard constraints. The segment is the largest
 * 8-connected foreground component and the box its bounding box. Where the paper fits Gaussian
 * mixtures as colour models, this uses smoothed colour histograms (16 levels per channel, add-one
 * smoothing), which need no iterative fitting and suit the grey canvases it is evaluated on.
 */
import { type Box, components, maskBox } from "./boxes.ts";
import { FlowGraph } from "./max-flow.ts";

/**
 * Seeds, smoothness and colour model of `graphCutSegment` (defaults after Simonyan et al. 2013 and
 * GrabCut).
 */
export interface GraphCutOptions {
  /** Saliency quantile above which pixels seed the foreground (default 0.95). */
  foregroundQuantile?: number;
  /** Saliency quantile below which pixels seed the background (default 0.3). */
  backgroundQuantile?: number;
  /** Weight gamma of the pairwise term (default 50). */
  smoothness?: number;
  /** Histogram levels per channel (default 16). */
  bins?: number;
}

/** The segmentation `graphCutSegment` finds, as [H * W] masks and a box. */
export interface GraphCutResult {
  /** 1 on the segment (the largest foreground component), [H * W]. */
  segment: Uint8Array;
  /** Every pixel the cut labels foreground, before keeping the largest component. */
  foreground: Uint8Array;
  /** Bounding box of `segment`; null when the segment is empty. */
  box: Box | null;
  /** The minimum cut's cost. */
  energy: number;
}

/** Forward offsets of the 8-neighbourhood: each unordered neighbour pair is visited once. */
const FORWARD_OFFSETS = [
  [0, 1],
  [1, -1],
  [1, 0],
  [1, 1],
] as const;

/** Calls `visit(p, q, distance)` once per pair of 8-neighbours p, q of an h x w grid (row-major). */
function forEachNeighbourPair(
  h: number,
  w: number,
  visit: (p: number, q: number, distance: number) => void,
): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (const [dy, dx] of FORWARD_OFFSETS) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy >= h || xx < 0 || xx >= w) continue;
        visit(y * w + x, yy * w + xx, Math.hypot(dy, dx));
      }
    }
  }
}

function quantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * Graph-cut segmentation of `image` ([C, H, W] values in [0, 1], C = 1 or 3) seeded by `saliency`
 * ([H, W]).
 */
export function graphCutSegment(
  image: ArrayLike<number>,
  saliency: ArrayLike<number>,
  h: number,
  w: number,
  o: GraphCutOptions = {},
): GraphCutResult {
  const api = "graphCutSegment";
  const n = h * w;
  if (saliency.length !== n)
    throw new Error(`${api}: the saliency map has ${saliency.length} values, expected ${h} x ${w}`);
  const c = image.length / n;
  if (!(c === 1 || c === 3))
    throw new Error(
      `${api}: the image must be [1 or 3, ${h}, ${w}] (${n} or ${3 * n} values), got ${image.length}`,
    );
  const fq = o.foregroundQuantile ?? 0.95;
  const bq = o.backgroundQuantile ?? 0.3;
  if (!(bq >= 0 && fq <= 1 && bq < fq))
    throw new Error(
      `${api}: need 0 <= backgroundQuantile < foregroundQuantile <= 1, got ${bq} and ${fq}`,
    );
  const gamma = o.smoothness ?? 50;
  const bins = o.bins ?? 16;
  const hiT = quantile(saliency, fq);
  const loT = quantile(saliency, bq);
  const fgSeed = new Uint8Array(n);
  const bgSeed = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    if (saliency[p] >= hiT) fgSeed[p] = 1;
    else if (saliency[p] <= loT) bgSeed[p] = 1;
  }
  // A flat map ties every pixel at both thresholds: then only the top quantile seeds anything.
  const binOf = (p: number) => {
    let b = 0;
    for (let ch = 0; ch < c; ch++) {
      const v = Math.min(bins - 1, Math.max(0, Math.floor(image[ch * n + p] * bins)));
      b = b * bins + v;
    }
    return b;
  };
  const levels = bins ** c;
  const histFg = new Float64Array(levels).fill(1);
  const histBg = new Float64Array(levels).fill(1);
  let nf = levels;
  let nb = levels;
  const bin = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    bin[p] = binOf(p);
    if (fgSeed[p]) {
      histFg[bin[p]]++;
      nf++;
    } else if (bgSeed[p]) {
      histBg[bin[p]]++;
      nb++;
    }
  }
  // beta from the mean squared colour difference of 8-neighbours.
  const diff2 = (p: number, q: number) => {
    let d = 0;
    for (let ch = 0; ch < c; ch++) {
      const e = image[ch * n + p] - image[ch * n + q];
      d += e * e;
    }
    return d;
  };
  let sum = 0;
  let count = 0;
  forEachNeighbourPair(h, w, (p, q) => {
    sum += diff2(p, q);
    count++;
  });
  const beta = sum > 0 ? count / (2 * sum) : 0;
  const g = new FlowGraph(n + 2);
  const S = n;
  const T = n + 1;
  // Seeds are hard constraints: their terminal edge can never be cut.
  const hard = Infinity;
  for (let p = 0; p < n; p++) {
    const costFg = -Math.log(histFg[bin[p]] / nf);
    const costBg = -Math.log(histBg[bin[p]] / nb);
    // Cutting S -> p labels p background (pays costBg); cutting p -> T labels it foreground.
    const toS = fgSeed[p] ? hard : bgSeed[p] ? 0 : costBg;
    const toT = bgSeed[p] ? hard : fgSeed[p] ? 0 : costFg;
    g.addEdge(S, p, toS);
    g.addEdge(p, T, toT);
  }
  forEachNeighbourPair(h, w, (p, q, distance) => {
    const wgt = (gamma / distance) * Math.exp(-beta * diff2(p, q));
    g.addEdge(p, q, wgt, wgt);
  });
  const { flow, sourceSide } = g.maxFlow(S, T);
  const foreground = sourceSide.subarray(0, n).slice();
  const { labels, sizes } = components(foreground, h, w);
  const segment = new Uint8Array(n);
  if (sizes.length > 1) {
    let best = 1;
    for (let k = 2; k < sizes.length; k++) if (sizes[k] > sizes[best]) best = k;
    for (let p = 0; p < n; p++) segment[p] = labels[p] === best ? 1 : 0;
  }
  return { segment, foreground, box: maskBox(segment, h, w, { component: "all" }), energy: flow };
}

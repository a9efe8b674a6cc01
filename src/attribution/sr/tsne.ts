/**
 * Exact t-SNE (van der Maaten & Hinton 2008) for small point sets (n <= a few hundred: it is
 * O(n^2) per iteration): Gaussian conditionals whose precision is found by binary search so that
 * each row's entropy is log(perplexity), symmetrised joint P, Student-t Q in 2-D, gradient descent
 * with early exaggeration, momentum and per-coordinate gains, as in the reference implementation.
 * Deterministic for a given seed. Also trustworthiness (Venna & Kaski), to judge an embedding.
 */
import { Random } from "../../random.ts";

/** Squared Euclidean distances [n * n] between rows. */
export function squaredDistances(rows: readonly ArrayLike<number>[]): Float64Array {
  const n = rows.length;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < rows[i].length; k++) s += (rows[i][k] - rows[j][k]) ** 2;
      d[i * n + j] = s;
      d[j * n + i] = s;
    }
  return d;
}

/**
 * Row-conditional p(j | i) [n * n] with each row's entropy (nats) = log(perplexity), by binary
 * search on the precision beta_i of exp(-beta_i d_ij).
 */
export function conditionalProbabilities(
  dist2: Float64Array,
  n: number,
  perplexity: number,
  tolerance = 1e-5,
): Float64Array {
  if (!(perplexity > 1 && perplexity < n))
    throw new Error(`t-SNE: perplexity must be in (1, ${n}) for ${n} points, got ${perplexity}`);
  const target = Math.log(perplexity);
  const p = new Float64Array(n * n);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let beta = 1;
    let lo = 0;
    let hi = Number.POSITIVE_INFINITY;
    // distances shifted by the row's smallest so exp() cannot underflow to all zeros
    let dmin = Number.POSITIVE_INFINITY;
    for (let j = 0; j < n; j++) if (j !== i) dmin = Math.min(dmin, dist2[i * n + j]);
    for (let it = 0; it < 200; it++) {
      let sum = 0;
      let dot = 0;
      for (let j = 0; j < n; j++) {
        const dj = dist2[i * n + j] - dmin;
        row[j] = j === i ? 0 : Math.exp(-beta * dj);
        sum += row[j];
        dot += row[j] * dj;
      }
      // H = log(sum) + beta * E[d]
      const h = Math.log(sum) + (beta * dot) / sum;
      for (let j = 0; j < n; j++) p[i * n + j] = row[j] / sum;
      if (Math.abs(h - target) < tolerance) break;
      if (h > target) {
        lo = beta;
        beta = hi === Number.POSITIVE_INFINITY ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
  }
  return p;
}

/** Options of `tsne` (exact t-SNE; the perplexity default shrinks for sets under 91 points). */
export interface TsneOptions {
  /** Effective neighbours per point (default min(30, (n - 1) / 3)). */
  perplexity?: number;
  /** Gradient-descent iterations (default 1000). */
  iterations?: number;
  /** Seed of the random initial layout (default 0). */
  seed?: number;
  /** Step size (default max(n / 12, 50)). */
  learningRate?: number;
  /** Factor on P for the first 100 iterations (default 12). */
  exaggeration?: number;
}

/** 2-D embedding of the rows; returns [n] points [x, y]. */
export function tsne(rows: readonly ArrayLike<number>[], o: TsneOptions = {}): [number, number][] {
  const n = rows.length;
  if (n < 3) throw new Error(`t-SNE: needs at least 3 points, got ${n}`);
  const perplexity = o.perplexity ?? Math.min(30, (n - 1) / 3);
  const iterations = o.iterations ?? 1000;
  const eta = o.learningRate ?? Math.max(n / 12, 50);
  const exaggeration = o.exaggeration ?? 12;
  const cond = conditionalProbabilities(squaredDistances(rows), n, perplexity);
  const P = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      P[i * n + j] = Math.max((cond[i * n + j] + cond[j * n + i]) / (2 * n), 1e-12);
  const rng = new Random(o.seed ?? 0);
  const Y = Float64Array.from({ length: 2 * n }, () => 1e-4 * rng.normal());
  const update = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const num = new Float64Array(n * n);
  const grad = new Float64Array(2 * n);
  for (let it = 0; it < iterations; it++) {
    const ex = it < 100 ? exaggeration : 1;
    let z = 0;
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const dx = Y[2 * i] - Y[2 * j];
        const dy = Y[2 * i + 1] - Y[2 * j + 1];
        const q = 1 / (1 + dx * dx + dy * dy);
        num[i * n + j] = q;
        num[j * n + i] = q;
        z += 2 * q;
      }
    grad.fill(0);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const q = num[i * n + j];
        const m = 4 * (ex * P[i * n + j] - Math.max(q / z, 1e-12)) * q;
        grad[2 * i] += m * (Y[2 * i] - Y[2 * j]);
        grad[2 * i + 1] += m * (Y[2 * i + 1] - Y[2 * j + 1]);
      }
    const momentum = it < 250 ? 0.5 : 0.8;
    for (let k = 0; k < 2 * n; k++) {
      gains[k] = Math.sign(grad[k]) !== Math.sign(update[k]) ? gains[k] + 0.2 : gains[k] * 0.8;
      gains[k] = Math.max(gains[k], 0.01);
      update[k] = momentum * update[k] - eta * gains[k] * grad[k];
      Y[k] += update[k];
    }
    // keep the embedding centred
    for (const a of [0, 1]) {
      let s = 0;
      for (let i = 0; i < n; i++) s += Y[2 * i + a];
      for (let i = 0; i < n; i++) Y[2 * i + a] -= s / n;
    }
  }
  return Array.from({ length: n }, (_, i) => [Y[2 * i], Y[2 * i + 1]] as [number, number]);
}

/** Ranks of every point's neighbours by distance (row i: indices sorted nearest first, i excluded). */
function neighbourOrder(d: Float64Array, n: number): number[][] {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i)
      .sort((a, b) => d[i * n + a] - d[i * n + b]),
  );
}

/**
 * Trustworthiness T(k) in [0, 1]: 1 when every point's k nearest neighbours in the embedding are
 * among its k nearest in the original space; penalises intruders by their original rank.
 */
export function trustworthiness(
  high: readonly ArrayLike<number>[],
  low: readonly ArrayLike<number>[],
  k: number,
): number {
  const n = high.length;
  if (low.length !== n)
    throw new Error(`trustworthiness: ${n} original but ${low.length} embedded points`);
  if (!(k >= 1 && k < n / 2))
    throw new Error(`trustworthiness: k must be in [1, ${n / 2}), got ${k}`);
  const hOrder = neighbourOrder(squaredDistances(high), n);
  const lOrder = neighbourOrder(squaredDistances(low), n);
  let penalty = 0;
  for (let i = 0; i < n; i++) {
    const rank = new Map(hOrder[i].map((j, r) => [j, r + 1]));
    for (const j of lOrder[i].slice(0, k)) penalty += Math.max(0, rank.get(j)! - k);
  }
  return 1 - (2 / (n * k * (2 * n - 3 * k - 1))) * penalty;
}

/** Fraction of points whose nearest neighbour (by `points`) carries the same label. */
export function nearestNeighbourAgreement(
  points: readonly ArrayLike<number>[],
  labels: readonly string[],
): number {
  const n = points.length;
  const order = neighbourOrder(squaredDistances(points), n);
  let same = 0;
  for (let i = 0; i < n; i++) if (labels[order[i][0]] === labels[i]) same++;
  return same / n;
}

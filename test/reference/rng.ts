/**
 * A small seeded generator (mulberry32) for test values. fast-check draws shapes and one integer
 * seed per run; the values come from here, so shrinking acts on shapes and a failing run is
 * reproduced by its seed. All draws are float32-representable (Math.fround), so the float64
 * reference sees exactly the values the engine sees.
 */
import { type Nd, sizeOf } from "./nd.ts";

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Float32 uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return Math.fround(lo + (hi - lo) * this.next());
  }

  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }

  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** A random permutation of 0..n-1. */
  perm(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }

  /** Float32 values uniform in [lo, hi). */
  nd(shape: readonly number[], lo = -1, hi = 1): Nd {
    const data = new Float64Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) data[i] = this.uniform(lo, hi);
    return { shape: [...shape], data };
  }

  /** Magnitudes uniform in [lo, hi) with a random sign: keeps values away from 0. */
  ndAwayFromZero(shape: readonly number[], lo: number, hi: number): Nd {
    const x = this.nd(shape, lo, hi);
    for (let i = 0; i < x.data.length; i++) if (this.bool()) x.data[i] = -x.data[i];
    return x;
  }

  /**
   * Pairwise distinct float32 values spread over [lo, hi]: a random permutation of an evenly
   * spaced grid, jittered by less than a quarter step. Neighbours differ by at least half a step,
   * so max/min and max-pooling have no ties and finite differences stay on one side of every kink.
   */
  ndDistinct(shape: readonly number[], lo = -2, hi = 2): Nd {
    const n = sizeOf(shape);
    const step = n > 1 ? (hi - lo) / (n - 1) : 0;
    const p = this.perm(n);
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      data[i] = Math.fround(lo + p[i] * step + (this.next() - 0.5) * 0.5 * step);
    }
    return { shape: [...shape], data };
  }
}

/**
 * A () => number source of float32 values uniform in [lo, hi) (default [-0.5, 0.5)) from
 * Rng(seed), for filling typed arrays: `Float32Array.from({ length: n }, uniformSource(7))`.
 */
export function uniformSource(seed: number, lo = -0.5, hi = 0.5): () => number {
  const r = new Rng(seed);
  return () => r.uniform(lo, hi);
}

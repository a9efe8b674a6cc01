/**
 * Quadrature rules on [0, 1] for path integrals. Every rule's weights sum to 1, so a constant
 * integrand (a linear model) is integrated exactly at any n: Captum's trapezoid, whose weights sum
 * to (n - 1)/n, is deliberately not reproduced.
 */

export type QuadratureRule =
  | "gausslegendre"
  | "riemann-left"
  | "riemann-right"
  | "riemann-middle"
  | "riemann-trapezoid"
  | "linspace";

/** Every quadrature rule by name. */
export const QUADRATURE_RULES: readonly QuadratureRule[] = [
  "gausslegendre",
  "riemann-left",
  "riemann-right",
  "riemann-middle",
  "riemann-trapezoid",
  "linspace",
];

/** Nodes in [0, 1] and weights summing to 1. */
export interface Quadrature {
  readonly rule: QuadratureRule;
  /** Nodes in [0, 1], ascending. */
  readonly nodes: Float64Array;
  /** Weights, summing to 1. */
  readonly weights: Float64Array;
}

/**
 * Gauss-Legendre nodes and weights on [-1, 1] (Newton on P_n from the Chebyshev guess), in
 * float64: exact for polynomials of degree 2n - 1.
 */
export function gaussLegendre(n: number): { nodes: Float64Array; weights: Float64Array } {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      // P_n(x) by the three-term recurrence, and its derivative.
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? x : p1;
      const pn1 = n === 1 ? 1 : p0;
      dp = (n * (x * pn - pn1)) / (x * x - 1);
      const dx = pn / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    const w = 2 / ((1 - x * x) * dp * dp);
    nodes[i] = -x;
    nodes[n - 1 - i] = x;
    weights[i] = w;
    weights[n - 1 - i] = w;
  }
  if (n % 2 === 1) nodes[(n - 1) / 2] = 0;
  return { nodes, weights };
}

/**
 * n nodes and weights on [0, 1]:
 * - gausslegendre: (1 + t_k)/2, W_k/2 (Captum's default rule);
 * - riemann-left / right / middle: k/n, (k+1)/n, (k+1/2)/n, each 1/n;
 * - riemann-trapezoid: linspace(0, 1, n), 1/(n-1) halved at both ends (n >= 2);
 * - linspace: linspace(0, 1, n) with weights 1/n (PAIR's and LAM_Demo's IG; not a proper trapezoid).
 */
export function quadrature(rule: QuadratureRule, n: number): Quadrature {
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`quadrature: the number of steps must be a positive integer, got ${n}`);
  }
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n).fill(1 / n);
  switch (rule) {
    case "gausslegendre": {
      const g = gaussLegendre(n);
      for (let k = 0; k < n; k++) {
        nodes[k] = (1 + g.nodes[k]) / 2;
        weights[k] = g.weights[k] / 2;
      }
      break;
    }
    case "riemann-left":
      for (let k = 0; k < n; k++) nodes[k] = k / n;
      break;
    case "riemann-right":
      for (let k = 0; k < n; k++) nodes[k] = (k + 1) / n;
      break;
    case "riemann-middle":
      for (let k = 0; k < n; k++) nodes[k] = (k + 0.5) / n;
      break;
    case "riemann-trapezoid":
      if (n < 2) throw new Error("quadrature: riemann-trapezoid needs at least 2 steps");
      for (let k = 0; k < n; k++) {
        nodes[k] = k / (n - 1);
        weights[k] = k === 0 || k === n - 1 ? 0.5 / (n - 1) : 1 / (n - 1);
      }
      break;
    case "linspace":
      for (let k = 0; k < n; k++) nodes[k] = n === 1 ? 0 : k / (n - 1);
      break;
    default:
      throw new Error(
        `quadrature: unknown rule "${rule as string}" (expected one of ${QUADRATURE_RULES.join(", ")})`,
      );
  }
  return { rule, nodes, weights };
}

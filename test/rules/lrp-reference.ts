/**
 * A float64 LRP reference for small networks written as dense layers (a conv becomes its dense
 * matrix), with each rule written out from its definition, independent of the engine.
 */
export interface DenseLayer {
  /** [out][in] */
  W: number[][];
  b: number[];
  relu: boolean;
  /** [out][in]: 1 where the layer connects (a conv's receptive fields), for the flat rule. */
  mask: number[][];
}

export type RefRule =
  | { kind: "epsilon"; eps: number }
  | { kind: "zplus" }
  | { kind: "alphabeta"; alpha: number; beta: number }
  | { kind: "gamma"; gamma: number }
  | { kind: "box"; low: number; high: number }
  | { kind: "flat" }
  | { kind: "wsquare" };

const pos = (v: number) => Math.max(v, 0);
const neg = (v: number) => Math.min(v, 0);
/** Zennit's stabilizer z + eps * sign(z), sign(0) = +1; then r / that (0 when it is 0). */
const divStab = (r: number, z: number, eps: number) => {
  const d = z + eps * (z >= 0 ? 1 : -1);
  return d === 0 ? 0 : r / d;
};

/** Relevance of a layer's input from its output relevance R (eps = 1e-6 stabiliser, as the engine). */
export function refRule(rule: RefRule, L: DenseLayer, a: number[], R: number[]): number[] {
  const eps = rule.kind === "epsilon" ? rule.eps : 1e-6;
  const out = L.W.length;
  const n = a.length;
  const res = new Array<number>(n).fill(0);
  // contribution c(k, j) and denominator z(k) per rule; R_j = sum_k c(k, j) * R_k / z(k)
  const terms: [(k: number, j: number) => number, number, number[]][] = [];
  const add = (c: (k: number, j: number) => number, bias: (k: number) => number, f = 1) => {
    const z = Array.from({ length: out }, (_, k) => {
      let s = bias(k);
      for (let j = 0; j < n; j++) s += c(k, j);
      return s;
    });
    terms.push([c, f, z]);
  };
  const W = L.W;
  switch (rule.kind) {
    case "epsilon":
      add(
        (k, j) => a[j] * W[k][j],
        (k) => L.b[k],
      );
      break;
    case "gamma":
      add(
        (k, j) => a[j] * (W[k][j] + rule.gamma * pos(W[k][j])),
        (k) => L.b[k] + rule.gamma * pos(L.b[k]),
      );
      break;
    case "zplus":
      add(
        (k, j) => pos(a[j]) * pos(W[k][j]) + neg(a[j]) * neg(W[k][j]),
        () => 0,
      );
      break;
    case "alphabeta":
      add(
        (k, j) => pos(a[j]) * pos(W[k][j]) + neg(a[j]) * neg(W[k][j]),
        () => 0,
        rule.alpha,
      );
      add(
        (k, j) => pos(a[j]) * neg(W[k][j]) + neg(a[j]) * pos(W[k][j]),
        () => 0,
        -rule.beta,
      );
      break;
    case "box":
      add(
        (k, j) => a[j] * W[k][j] - rule.low * pos(W[k][j]) - rule.high * neg(W[k][j]),
        (k) => L.b[k],
      );
      break;
    case "flat":
      add(
        (k, j) => L.mask[k][j],
        () => 0,
      );
      break;
    case "wsquare":
      add(
        (k, j) => W[k][j] ** 2,
        () => 0,
      );
      break;
  }
  for (const [c, f, z] of terms) {
    for (let k = 0; k < out; k++) {
      const s = divStab(R[k], z[k], eps);
      for (let j = 0; j < n; j++) res[j] += f * c(k, j) * s;
    }
  }
  return res;
}

/** Forward through the layers; returns each layer's input and the output. */
export function refForward(
  layers: DenseLayer[],
  x: number[],
): { inputs: number[][]; out: number[] } {
  const inputs: number[][] = [];
  let a = x;
  for (const L of layers) {
    inputs.push(a);
    a = L.W.map((row, k) => {
      const z = row.reduce((s, w, j) => s + w * a[j], L.b[k]);
      return L.relu ? Math.max(z, 0) : z;
    });
  }
  return { inputs, out: a };
}

/** LRP of output `target` with one rule per layer (activations pass relevance unchanged). */
export function refLrp(layers: DenseLayer[], rules: RefRule[], x: number[], target: number) {
  const { inputs, out } = refForward(layers, x);
  let R = out.map((v, k) => (k === target ? v : 0));
  for (let l = layers.length - 1; l >= 0; l--) R = refRule(rules[l], layers[l], inputs[l], R);
  return { relevance: R, score: out[target] };
}

/** A stride-1 'same' conv [O, C, k, k] on C x H x W as a dense [O*H*W][C*H*W] layer. */
export function convAsDense(
  w: number[][][][],
  b: number[],
  C: number,
  H: number,
  Wd: number,
  relu: boolean,
): DenseLayer {
  const O = w.length;
  const k = w[0][0].length;
  const p = (k - 1) / 2;
  const W: number[][] = [];
  const mask: number[][] = [];
  const bias: number[] = [];
  for (let o = 0; o < O; o++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < Wd; j++) {
        const row = new Array<number>(C * H * Wd).fill(0);
        const m = new Array<number>(C * H * Wd).fill(0);
        for (let c = 0; c < C; c++)
          for (let di = 0; di < k; di++)
            for (let dj = 0; dj < k; dj++) {
              const ii = i + di - p;
              const jj = j + dj - p;
              if (ii < 0 || jj < 0 || ii >= H || jj >= Wd) continue;
              row[(c * H + ii) * Wd + jj] = w[o][c][di][dj];
              m[(c * H + ii) * Wd + jj] = 1;
            }
        W.push(row);
        mask.push(m);
        bias.push(b[o]);
      }
  return { W, b: bias, relu, mask };
}

/** A dense layer [out][in] with its full connectivity mask. */
export function dense(W: number[][], b: number[], relu: boolean): DenseLayer {
  return { W, b, relu, mask: W.map((r) => r.map(() => 1)) };
}

/** Deterministic values in [lo, hi) (a small LCG), for test weights. */
export function seeded(seed: number) {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  };
}

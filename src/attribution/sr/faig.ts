/**
 * FAIG, filter attribution by integrated gradients (Xie et al., NeurIPS 2021): integrated
 * gradients in parameter space along the straight path from a baseline network to a target
 * network of the same architecture, summed per conv filter as sum |integrated grad * delta theta|.
 * Filters with large scores are the ones whose change from baseline to target matters most for
 * the loss on the given images (e.g. the filters that make a blind SR model handle noise).
 */
import { variableGrads } from "../../autodiff/grad.ts";
import type { Tensor, Variable } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import type { Module } from "../../models/nn/module.ts";
import { mse } from "../../models/train/losses.ts";
import { tensor } from "../../ops/creation.ts";
import { Random } from "../../random.ts";

/** One training-style pair: the model input and the output it should produce. */
export interface FaigSample {
  input: Tensor;
  target: Tensor;
}

/** Options of `faig`. */
export interface FaigOptions {
  /** Riemann steps along the parameter path (midpoint rule; default 100, the paper's). */
  steps?: number;
  /** Loss of an output against its target (MSE, as in the paper, by default). */
  loss?: (output: Tensor, target: Tensor) => Tensor;
  /** Called after each (step, sample) gradient, with total = steps * samples. */
  onProgress?: (done: number, total: number) => void;
}

/** Scores of one conv layer's output filters (weight [out, in, kh, kw]: one score per out). */
export interface LayerFilterScores {
  layer: string;
  weightShape: number[];
  scores: Float32Array;
}

/** One filter's place in a ranking (`rankFilters`). */
export interface FilterScore {
  /** The conv layer: its weight's state-dict name without ".weight". */
  layer: string;
  /** Output channel (row of the weight). */
  filter: number;
  /** Its FAIG score. */
  score: number;
}

/** FAIG scores of every conv filter between a baseline and a target network. */
export interface FaigResult {
  /** Scores per conv layer, in `convWeightNames` order. */
  layers: LayerFilterScores[];
  /** Mean loss of the baseline and of the target network over the samples. */
  lossBaseline: number;
  lossTarget: number;
  /**
   * Completeness check: the signed integrated gradients of all parameters summed, minus
   * (lossTarget - lossBaseline); near zero when there are enough steps.
   */
  delta: number;
}

/** The parameter and buffer values of a module by name, copied to host memory. */
async function snapshot(m: Module): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, v] of m.stateDict()) out.set(k, Float32Array.from(await v.data()));
  return out;
}

function assignValues(m: Module, values: ReadonlyMap<string, Float32Array>): void {
  for (const [k, v] of m.stateDict()) {
    const x = values.get(k);
    if (x) tidy(() => v.assign(tensor(x, v.shape)));
  }
}

/** Checks that two modules have the same parameter names and shapes. */
function checkSameArchitecture(target: Module, baseline: Module): void {
  const t = target.stateDict();
  const b = baseline.stateDict();
  const problems: string[] = [];
  for (const [k, v] of t) {
    const w = b.get(k);
    if (!w) problems.push(`"${k}" is missing from the baseline`);
    else if (w.shape.join() !== v.shape.join())
      problems.push(`"${k}": target [${v.shape}], baseline [${w.shape}]`);
  }
  for (const k of b.keys()) if (!t.has(k)) problems.push(`"${k}" is missing from the target`);
  if (problems.length)
    throw new Error(
      `faig: the baseline and target networks must have the same architecture: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? "; ..." : ""}`,
    );
}

/** The rank-4 (conv) weights of a module, whose first axis is the output filter. */
export function convWeightNames(m: Module): string[] {
  return m
    .namedParameters()
    .filter(([k, p]) => p.rank === 4 && k.endsWith("weight"))
    .map(([k]) => k);
}

/**
 * FAIG scores of every conv filter of `target` relative to `baseline` on `samples`, averaged over
 * the samples. `run` is the network's forward pass on `target` (its parameters are moved along
 * the path during the call and restored afterwards, so `run` must read them from `target`).
 */
export async function faig(
  target: Module,
  baseline: Module,
  run: (x: Tensor) => Tensor,
  samples: readonly FaigSample[],
  options: FaigOptions = {},
): Promise<FaigResult> {
  const steps = options.steps ?? 100;
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`faig: steps must be a positive integer, got ${steps}`);
  if (samples.length === 0) throw new Error("faig: needs at least one sample");
  checkSameArchitecture(target, baseline);
  const loss = options.loss ?? mse;
  const thetaT = await snapshot(target);
  const thetaB = await snapshot(baseline);
  const params = target.namedParameters();
  const diff = new Map<string, Float32Array>();
  for (const [k] of params) {
    const t = thetaT.get(k)!;
    const b = thetaB.get(k)!;
    diff.set(
      k,
      t.map((v, i) => v - b[i]),
    );
  }
  const convNames = convWeightNames(target);
  const perSample = new Map<string, Float32Array>(
    convNames.map((k) => [k, new Float32Array(thetaT.get(k)!.length)]),
  );
  const scores = new Map<string, Float32Array>(
    convNames.map((k) => [k, new Float32Array(target.stateDict().get(k)!.shape[0])]),
  );
  const vars: Variable[] = params.map(([, p]) => p);
  let signedTotal = 0;
  const meanLoss = async (values: ReadonlyMap<string, Float32Array>) => {
    assignValues(target, values);
    let s = 0;
    for (const { input, target: y } of samples) {
      const l = tidy(() => loss(run(input), y));
      s += (await l.data())[0];
      l.dispose();
    }
    return s / samples.length;
  };
  try {
    const lossBaseline = await meanLoss(thetaB);
    const lossTarget = await meanLoss(thetaT);
    const total = steps * samples.length;
    let done = 0;
    for (const { input, target: y } of samples) {
      for (const acc of perSample.values()) acc.fill(0);
      for (let s = 0; s < steps; s++) {
        const alpha = (s + 0.5) / steps;
        const point = new Map<string, Float32Array>();
        for (const [k, b] of thetaB) {
          const t = thetaT.get(k)!;
          point.set(
            k,
            b.map((v, i) => v + alpha * (t[i] - v)),
          );
        }
        assignValues(target, point);
        const { value, grads } = variableGrads(() => loss(run(input), y), vars);
        value.dispose();
        for (const [k, p] of params) {
          const g = await grads.get(p)!.data();
          const d = diff.get(k)!;
          let dot = 0;
          for (let i = 0; i < g.length; i++) dot += g[i] * d[i];
          signedTotal += dot / steps / samples.length;
          const acc = perSample.get(k);
          if (acc) for (let i = 0; i < g.length; i++) acc[i] += g[i] / steps;
        }
        for (const g of grads.values()) g.dispose();
        options.onProgress?.(++done, total);
      }
      for (const [k, acc] of perSample) {
        const d = diff.get(k)!;
        const out = scores.get(k)!;
        const per = acc.length / out.length;
        for (let f = 0; f < out.length; f++) {
          let s = 0;
          for (let i = f * per; i < (f + 1) * per; i++) s += Math.abs(acc[i] * d[i]);
          out[f] += s / samples.length;
        }
      }
    }
    return {
      layers: convNames.map((k) => ({
        layer: k.replace(/\.weight$/, ""),
        weightShape: [...target.stateDict().get(k)!.shape],
        scores: scores.get(k)!,
      })),
      lossBaseline,
      lossTarget,
      delta: signedTotal - (lossTarget - lossBaseline),
    };
  } finally {
    assignValues(target, thetaT);
  }
}

/** Per-filter scores of `a` minus those of `b` (e.g. one degradation's images minus another's). */
export function contrastScores(a: FaigResult, b: FaigResult): LayerFilterScores[] {
  return a.layers.map((l, i) => ({
    ...l,
    scores: l.scores.map((v, f) => v - b.layers[i].scores[f]),
  }));
}

/** Every filter, highest score first. */
export function rankFilters(layers: readonly LayerFilterScores[]): FilterScore[] {
  const all: FilterScore[] = [];
  for (const l of layers)
    l.scores.forEach((score, filter) => {
      all.push({ layer: l.layer, filter, score });
    });
  return all.sort((p, q) => q.score - p.score);
}

/**
 * Sets the given filters of `target` (rows along the first axis of the rank-4 weight, and their
 * bias entries) to the baseline's values; returns a function that undoes it.
 */
export async function maskFilters(
  target: Module,
  baseline: Module,
  filters: readonly { layer: string; filter: number }[],
): Promise<() => void> {
  const own = target.stateDict();
  const base = baseline.stateDict();
  const saved = new Map<string, Float32Array>();
  const edited = new Map<string, Float32Array>();
  const edit = async (key: string) => {
    if (!edited.has(key)) {
      const v = Float32Array.from(await own.get(key)!.data());
      saved.set(key, v.slice());
      edited.set(key, v);
    }
    return edited.get(key)!;
  };
  for (const { layer, filter } of filters) {
    for (const suffix of ["weight", "bias"]) {
      const key = `${layer}.${suffix}`;
      const p = own.get(key);
      if (!p) {
        if (suffix === "weight") throw new Error(`maskFilters: no conv weight "${key}"`);
        continue;
      }
      const filters = own.get(`${layer}.weight`)!.shape[0];
      // A bias that is not one per weight row (a transposed conv's) is left alone.
      if (suffix === "bias" && p.shape[0] !== filters) continue;
      const per = p.size / p.shape[0];
      if (!Number.isInteger(filter) || filter < 0 || filter >= filters)
        throw new Error(`maskFilters: ${layer} has ${filters} filters, got filter ${filter}`);
      const b = await base.get(key)!.data();
      const v = await edit(key);
      v.set(b.subarray(filter * per, (filter + 1) * per), filter * per);
    }
  }
  assignValues(target, edited);
  return () => assignValues(target, saved);
}

export interface MaskEffect {
  fraction: number;
  filters: number;
  /** Mean squared change of the output when the top-scored filters are masked. */
  topMse: number;
  /** The same with as many filters chosen at random (seeded), for comparison. */
  randomMse: number;
}

/**
 * How much the target's output moves when its top `fraction` of filters (by `ranking`) take the
 * baseline's values, against as many random filters: the paper's check that FAIG finds the
 * filters that matter.
 */
export async function maskEffects(
  target: Module,
  baseline: Module,
  run: (x: Tensor) => Tensor,
  inputs: readonly Tensor[],
  ranking: readonly FilterScore[],
  fractions: readonly number[] = [0.01, 0.05, 0.1],
  seed = 0,
): Promise<MaskEffect[]> {
  const reference = inputs.map((x) => tidy(() => run(x)));
  const outputChange = async () => {
    let s = 0;
    for (let i = 0; i < inputs.length; i++) {
      const l = tidy(() => mse(run(inputs[i]), reference[i]));
      s += (await l.data())[0];
      l.dispose();
    }
    return s / inputs.length;
  };
  const rng = new Random(seed);
  const out: MaskEffect[] = [];
  try {
    for (const fraction of fractions) {
      const n = Math.max(1, Math.round(fraction * ranking.length));
      const shuffled = [...ranking];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
      }
      const measure = async (filters: readonly FilterScore[]) => {
        const undo = await maskFilters(target, baseline, filters);
        try {
          return await outputChange();
        } finally {
          undo();
        }
      };
      out.push({
        fraction,
        filters: n,
        topMse: await measure(ranking.slice(0, n)),
        randomMse: await measure(shuffled.slice(0, n)),
      });
    }
  } finally {
    for (const r of reference) r.dispose();
  }
  return out;
}

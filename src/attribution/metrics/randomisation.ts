/**
 * The model-randomisation sanity check (Adebayo et al. 2018): re-initialise the model's layers
 * top to bottom (cascading) or one at a time (independent) and compare each explanation with the
 * original by Spearman rank correlation, of the maps and of their absolute values. A method that
 * depends on the model's parameters decorrelates; one that stays high (e.g. an edge detector)
 * fails the check. The model's parameters are restored afterwards.
 */
import { type EngineContext, type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor, Variable } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import type { Module } from "../../models/nn/module.ts";
import { add } from "../../ops/binary.ts";
import { tensor } from "../../ops/creation.ts";
import { Random } from "../../random.ts";
import { spearman } from "./rank-correlation.ts";

/**
 * Options of the model-randomisation check: cascading or independent, which layers, and the
 * correlation threshold.
 */
/**
 * Redraws every parameter from N(0, its own standard deviation) (0.1 for a constant one), drawing
 * from `rng` in order: the randomisation the MPRT variants apply.
 */
export async function redrawFromOwnStd(
  params: readonly (readonly [string, Variable])[],
  rng: Random,
  ctx: EngineContext,
): Promise<void> {
  for (const [, p] of params) {
    const v = await p.data();
    let mean = 0;
    for (const x of v) mean += x;
    mean /= v.length;
    let sd = 0;
    for (const x of v) sd += (x - mean) ** 2;
    sd = Math.sqrt(sd / v.length) || 0.1;
    const fresh = ctx.run(() =>
      tensor(
        Float32Array.from(v, () => sd * rng.normal()),
        p.shape,
      ),
    );
    p.assign(fresh);
    fresh.dispose();
  }
}

export interface RandomisationOptions extends EngineOptions {
  mode?: "cascading" | "independent";
  /** Dotted paths of the modules to randomise, top (output side) first; default every module owning parameters, output side first. */
  layers?: readonly string[];
  seed?: number;
  /** The check passes when the fully randomised (cascading) or every (independent) |Spearman| is below this (default 0.5). */
  threshold?: number;
}

/**
 * One randomised layer: the Spearman correlations of the maps and of their absolute values with the
 * original.
 */
export interface RandomisationStep {
  layer: string;
  spearman: number;
  spearmanAbs: number;
}

/** The correlation after each layer is randomised, and whether the explanation passed the check. */
export interface RandomisationResult {
  steps: RandomisationStep[];
  /** True when the explanation changed enough: its correlation fell below the threshold. */
  passed: boolean;
}

function ownParams(root: Module, path: string): [string, Variable][] {
  const prefix = path ? `${path}.` : "";
  return root
    .namedParameters()
    .filter(([name]) => name.startsWith(prefix) || (path === "" && !name.includes(".")));
}

/** Modules that directly own parameters, in forward (registration) order. */
function parameterisedLayers(root: Module): string[] {
  const names = root.namedParameters().map(([n]) => n.slice(0, Math.max(0, n.lastIndexOf("."))));
  return [...new Set(names)];
}

/**
 * The model-randomisation sanity check (Adebayo et al. 2018): re-initialises `root`'s layers and
 * compares `explain()`'s map with the original by rank correlation; parameters are restored
 * afterwards.
 */
export async function modelRandomisation(
  root: Module,
  explain: () => Promise<Tensor>,
  o: RandomisationOptions = {},
): Promise<RandomisationResult> {
  // explain() runs after awaits: re-enter the caller's rules and backend for each call.
  const ctx = engineContext(o);
  const mode = o.mode ?? "cascading";
  const layers = o.layers ? [...o.layers] : parameterisedLayers(root).reverse();
  if (layers.length === 0)
    throw new Error("modelRandomisation: the model has no parameters to randomise");
  for (const l of layers) {
    if (ownParams(root, l).length === 0)
      throw new Error(`modelRandomisation: layer "${l}" owns no parameters`);
  }
  const rng = new Random(o.seed ?? 0);
  const originals = new Map(
    root.namedParameters().map(([n, p]) => [n, tidy(() => keep(add(p, 0)))]),
  );
  const read = async () => {
    const m = await ctx.run(() => explain());
    const v = Float64Array.from(await m.data());
    m.dispose();
    return v;
  };
  const restore = (names?: Set<string>) => {
    for (const [n, p] of root.namedParameters())
      if (!names || names.has(n)) p.assign(originals.get(n)!);
  };
  try {
    const reference = await read();
    const absRef = reference.map(Math.abs);
    const steps: RandomisationStep[] = [];
    for (const layer of layers) {
      const params = ownParams(root, layer);
      await redrawFromOwnStd(params, rng, ctx);
      const m = await read();
      steps.push({
        layer,
        spearman: spearman(reference, m),
        spearmanAbs: spearman(absRef, m.map(Math.abs)),
      });
      if (mode === "independent") restore(new Set(params.map(([n]) => n)));
    }
    const threshold = o.threshold ?? 0.5;
    const below = (st: RandomisationStep) => Math.abs(st.spearman) < threshold;
    const passed = mode === "cascading" ? below(steps[steps.length - 1]) : steps.every(below);
    return { steps, passed };
  } finally {
    restore();
    for (const t of originals.values()) t.dispose();
  }
}

/**
 * Running the model for attribution: target scores with their input gradient (under an optional
 * gradient-rule set), scores alone in bounded batches, and input checks shared by every method.
 */
import { type EngineContext, engineContext } from "../autodiff/context.ts";
import { valueAndGrads } from "../autodiff/grad.ts";
import { type RuleSet, withRules } from "../autodiff/rule-set.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { tidy } from "../autodiff/tidy.ts";
import { concat } from "../ops/concat.ts";
import { ones } from "../ops/creation.ts";
import { slice } from "../ops/slice.ts";
import { chunks } from "./batching.ts";
import { targetScores, validateTarget } from "./target.ts";
import type { Model, Target } from "./types.ts";

/** Rejects non-float, scalar or non-finite inputs with a message naming the method. */
export async function checkInput(x: Tensor, api: string): Promise<void> {
  if (x.dtype !== "float32") {
    throw new Error(`${api}: the input must be a float32 tensor [N, ...], got ${x.dtype}`);
  }
  if (x.rank < 2 || x.shape[0] < 1) {
    throw new Error(`${api}: the input must be a batch [N, ...] with N >= 1, got [${x.shape}]`);
  }
  await checkFinite(x, api, "input");
}

/** Rejects a tensor with NaN or +-Infinity, naming `what` (input, baseline) and the first index. */
export async function checkFinite(t: Tensor, api: string, what: string): Promise<void> {
  const v = await t.data();
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw new Error(
        `${api}: the ${what} contains ${v[i]} at flat index ${i} of [${t.shape}]; attributions need a finite ${what}`,
      );
    }
  }
}

/**
 * Reads target scores back and refuses NaN or infinite ones: a gradient or a perturbation
 * difference taken there is meaningless (a NaN map), so the error names the example instead.
 */
export async function readScores(
  scores: Tensor,
  api: string,
  rowOffset = 0,
): Promise<Float32Array> {
  const v = (await scores.data()) as Float32Array;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw new Error(
        `${api}: the model output for the target is ${v[i]} for batch row ${rowOffset + i}; attributions need a finite score (look for overflow, 0/0 or NaN weights in the model)`,
      );
    }
  }
  return v;
}

/** Input checks plus the target check most methods start with. */
export async function checkCall(x: Tensor, target: Target, api: string): Promise<void> {
  await checkInput(x, api);
  validateTarget(target, x.shape[0]);
}

/** {@link checkCall} for the methods that need an image batch [N, C, H, W]. */
export async function checkImageCall(x: Tensor, target: Target, api: string): Promise<void> {
  await checkCall(x, target, api);
  if (x.rank !== 4) throw new Error(`${api}: expected an [N, C, H, W] input, got [${x.shape}]`);
}

/** Per-row target scores [B] and d(sum of scores)/dx, i.e. each row's own input gradient. */
export function scoresAndGrad(
  model: Model,
  x: Tensor,
  target: Target,
  rules?: RuleSet,
  rowOffset = 0,
): { scores: Tensor; grad: Tensor } {
  const run = () => {
    const rows = x.shape[0];
    const { value, grads } = valueAndGrads((v: Tensor) =>
      targetScores(model(v), target, rowOffset),
    )([x], ones([rows]));
    return { scores: value, grad: grads[0] };
  };
  return rules ? withRules(rules, run) : run();
}

/**
 * Target scores of every row of `x`, evaluated `batchSize` rows at a time in the engine context
 * `ctx` (by default the one active when called); non-finite scores are refused.
 */
export function evalScores(
  model: Model,
  x: Tensor,
  target: Target,
  batchSize: number,
  ctx: EngineContext = engineContext(),
  api = "evalScores",
): Promise<Float64Array> {
  return evalScoresOf(
    model,
    x.shape[0],
    (a, b) => slice(x, [a], [b - a]),
    target,
    batchSize,
    ctx,
    api,
  );
}

/**
 * {@link evalScores} of a perturbed batch, which is disposed afterwards (also on error), then of the
 * clean input x.
 */
export async function perturbedAndCleanScores(
  model: Model,
  perturbed: Tensor,
  x: Tensor,
  target: Target,
  batchSize: number,
  ctx: EngineContext,
  api: string,
): Promise<{ perturbed: Float64Array; clean: Float64Array }> {
  try {
    return {
      perturbed: await evalScores(model, perturbed, target, batchSize, ctx, api),
      clean: await evalScores(model, x, target, batchSize, ctx, api),
    };
  } finally {
    perturbed.dispose();
  }
}

/** Scores of inputs produced lazily per chunk: `make(a, b)` builds rows [a, b). */
export async function evalScoresOf(
  model: Model,
  count: number,
  make: (a: number, b: number) => Tensor,
  target: Target,
  batchSize: number,
  ctx: EngineContext = engineContext(),
  api = "evalScoresOf",
): Promise<Float64Array> {
  const out = new Float64Array(count);
  for (const [a, b] of chunks(count, batchSize)) {
    const s = ctx.run(() => tidy(() => targetScores(model(make(a, b)), target, a)));
    try {
      out.set(await readScores(s, api, a), a);
    } finally {
      s.dispose();
    }
  }
  return out;
}

/** Sum over all but the first axis, in float64 on the host: [N, ...] -> N numbers. */
export async function perExampleSums(t: Tensor): Promise<number[]> {
  const v = await t.data();
  const n = t.shape[0];
  const per = t.size / n;
  return Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = i * per; j < (i + 1) * per; j++) s += v[j];
    return s;
  });
}

/** Stacks `k` copies of x along the batch axis (replica-major: row r is example r mod N). */
export function replicate(x: Tensor, k: number): Tensor {
  return k === 1
    ? x
    : concat(
        Array.from({ length: k }, () => x),
        0,
      );
}

/**
 * Running the model for attribution: target scores with their input gradient (under an optional
 * gradient-rule set), scores alone in bounded batches, and input checks shared by every method.
 */
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
  const v = await x.data();
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw new Error(
        `${api}: the input contains ${v[i]} at flat index ${i} of [${x.shape}]; attributions need finite inputs`,
      );
    }
  }
}

/** Input checks plus the target check most methods start with. */
export async function checkCall(x: Tensor, target: Target, api: string): Promise<void> {
  await checkInput(x, api);
  validateTarget(target, x.shape[0]);
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

/** Target scores of every row of `x`, evaluated `batchSize` rows at a time. */
export async function evalScores(
  model: Model,
  x: Tensor,
  target: Target,
  batchSize: number,
): Promise<Float64Array> {
  const out = new Float64Array(x.shape[0]);
  for (const [a, b] of chunks(x.shape[0], batchSize)) {
    const s = tidy(() => targetScores(model(slice(x, [a], [b - a])), target, a));
    const v = await s.data();
    s.dispose();
    out.set(v, a);
  }
  return out;
}

/** Scores of inputs produced lazily per chunk: `make(a, b)` builds rows [a, b). */
export async function evalScoresOf(
  model: Model,
  count: number,
  make: (a: number, b: number) => Tensor,
  target: Target,
  batchSize: number,
): Promise<Float64Array> {
  const out = new Float64Array(count);
  for (const [a, b] of chunks(count, batchSize)) {
    const s = tidy(() => targetScores(model(make(a, b)), target, a));
    const v = await s.data();
    s.dispose();
    out.set(v, a);
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

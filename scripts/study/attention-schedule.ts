/**
 * The attention study's learning-rate schedule and snapshot steps. Both depend only on the step
 * and the run's total, so a resumed run follows exactly the schedule an unbroken one would.
 */

export interface CosineSchedule {
  kind: "cosine";
  /** Learning rate at step 0. */
  max: number;
  /** Learning rate at the last step. */
  min: number;
  /** Steps of the whole run (the schedule is stretched over these). */
  total: number;
}

export function cosineSchedule(max: number, min: number, total: number): CosineSchedule {
  if (!(max > 0) || !(min > 0) || min > max)
    throw new Error(`cosineSchedule: need 0 < min <= max, got min ${min}, max ${max}`);
  if (!Number.isInteger(total) || total < 1)
    throw new Error(`cosineSchedule: total steps must be a positive integer, got ${total}`);
  return { kind: "cosine", max, min, total };
}

/**
 * Learning rate for the update that takes the weights from `step` to `step + 1`
 * (step counts from 0): min + (max - min) (1 + cos(pi step / (total - 1))) / 2, so the first
 * update uses max and the last uses min.
 */
export function learningRate(s: CosineSchedule, step: number): number {
  if (!Number.isInteger(step) || step < 0 || step >= s.total)
    throw new Error(`learningRate: step must be an integer in [0, ${s.total}), got ${step}`);
  const progress = s.total === 1 ? 1 : step / (s.total - 1);
  return s.min + ((s.max - s.min) * (1 + Math.cos(Math.PI * progress))) / 2;
}

/** Whether a checkpoint's schedule is the one this run would use (resume must not change it). */
export function sameSchedule(a: CosineSchedule, b: CosineSchedule): boolean {
  return a.kind === b.kind && a.max === b.max && a.min === b.min && a.total === b.total;
}

/**
 * Steps (after that many updates) at which weights are snapshotted for evaluation: the given
 * fractions of the run, rounded, deduplicated and ascending.
 */
export function snapshotSteps(total: number, fractions: readonly number[]): number[] {
  for (const f of fractions)
    if (!(f > 0 && f <= 1))
      throw new Error(`snapshotSteps: fractions must lie in (0, 1], got ${f}`);
  const steps = fractions.map((f) => Math.max(1, Math.round(f * total)));
  return [...new Set(steps)].sort((a, b) => a - b);
}

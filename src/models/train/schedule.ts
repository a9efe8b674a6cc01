/** Learning-rate schedules: functions of the (0-based) step, applied by setting `optimizer.lr`. */

export type Schedule = (step: number) => number;

/** Linear warm-up over `warmup` steps, then cosine decay from `base` to `floor` at `total`. */
export function cosineSchedule(
  base: number,
  total: number,
  o: { warmup?: number; floor?: number } = {},
): Schedule {
  const warmup = o.warmup ?? 0;
  const floor = o.floor ?? 0;
  if (!(total > warmup))
    throw new Error(`cosineSchedule: total ${total} must exceed warmup ${warmup}`);
  return (step) => {
    if (step < warmup) return (base * (step + 1)) / warmup;
    const t = Math.min(1, (step - warmup) / (total - warmup));
    return floor + 0.5 * (base - floor) * (1 + Math.cos(Math.PI * t));
  };
}

/** torch.optim.lr_scheduler.StepLR: multiply by `gamma` every `every` steps. */
export function stepSchedule(base: number, every: number, gamma = 0.1): Schedule {
  if (!(every > 0)) throw new Error(`stepSchedule: every must be positive, got ${every}`);
  return (step) => base * gamma ** Math.floor(step / every);
}

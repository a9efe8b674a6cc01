/**
 * Which share of the items this process takes: shard i of n holds the items at positions
 * i, i + n, i + 2n, ... (0-based). Given by --shard i/n, or read from the scheduler: a Slurm job
 * array (SLURM_ARRAY_TASK_ID, counted from SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT) or
 * a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with --shards n since the pod is not told n).
 */
import { UsageError } from "../args.ts";
import { parseWholeNumber } from "../whole-number.ts";

export interface Shard {
  index: number;
  count: number;
  /** Where it came from, for the log. */
  source: string;
}

const whole = (n: string | undefined, what: string): number => {
  const v = parseWholeNumber(n);
  if (v === undefined) throw new UsageError(`${what} must be a whole number, got "${n}"`);
  return v;
};

function checked(index: number, count: number, source: string): Shard {
  if (count < 1) throw new UsageError(`${source}: the shard count must be >= 1, got ${count}`);
  if (index >= count)
    throw new UsageError(
      `${source}: shard ${index} does not exist among ${count} (shards are numbered 0 to ${count - 1})`,
    );
  return { index, count, source };
}

export function resolveShard(
  shard: string | undefined,
  shards: string | undefined,
  env: NodeJS.ProcessEnv,
): Shard {
  if (shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(shard.trim());
    if (!m) throw new UsageError(`--shard must be i/n (e.g. 0/4, shards 0 to n-1), got "${shard}"`);
    return checked(Number(m[1]), Number(m[2]), `--shard ${shard}`);
  }
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const id = whole(env.SLURM_ARRAY_TASK_ID, "SLURM_ARRAY_TASK_ID");
    const min =
      env.SLURM_ARRAY_TASK_MIN === undefined
        ? 0
        : whole(env.SLURM_ARRAY_TASK_MIN, "SLURM_ARRAY_TASK_MIN");
    const count =
      shards !== undefined
        ? whole(shards, "--shards")
        : whole(env.SLURM_ARRAY_TASK_COUNT, "SLURM_ARRAY_TASK_COUNT");
    if (id < min)
      throw new UsageError(`SLURM_ARRAY_TASK_ID ${id} is below SLURM_ARRAY_TASK_MIN ${min}`);
    return checked(id - min, count, `Slurm array task ${id}`);
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    if (shards === undefined)
      throw new UsageError(
        "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not --shards N: give the Job's completions as --shards",
      );
    const index = whole(env.JOB_COMPLETION_INDEX, "JOB_COMPLETION_INDEX");
    return checked(index, whole(shards, "--shards"), `Kubernetes completion index ${index}`);
  }
  if (shards !== undefined)
    throw new UsageError(
      "--shards N needs the shard index from the scheduler (JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID); use --shard i/n otherwise",
    );
  return { index: 0, count: 1, source: "all items" };
}

export const inShard = <T>(items: readonly T[], s: Shard): T[] =>
  items.filter((_, i) => i % s.count === s.index);

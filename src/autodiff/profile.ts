/**
 * A per-op profile: wall time, by op name, of every top-level op's forward (the kernels it runs)
 * and of every tape node's gradient rule in the backward sweep, plus the engine's own time around
 * each forward (tape bookkeeping, scopes, tensor creation), so the fixed cost per op is visible.
 * Ops an op runs inside its forward or its gradient rule count towards that op, not their own
 * name. CPU kernels run synchronously, so the times are theirs; on WebGPU they are dispatch times.
 */

export type ProfilePhase = "forward" | "backward" | "engine";

export interface ProfileRow {
  /** The op name; with `byShape`, followed by its input shapes, e.g. "conv2d [8,64,16,16] [64,64,3,3]". */
  op: string;
  /** forward: the op's kernels; backward: its gradient rule; engine: runOp around the forward. */
  phase: ProfilePhase;
  count: number;
  ms: number;
}

export interface OpProfile {
  /** Rows by total time, largest first. */
  rows: ProfileRow[];
  /** Wall time of the profiled function. */
  totalMs: number;
}

export interface ProfileOptions {
  /** One row per op name and input shapes instead of per op name. */
  byShape?: boolean;
}

class Profiler {
  private readonly byKey = new Map<string, ProfileRow>();
  constructor(readonly byShape: boolean) {}

  /** The row name of an op run on inputs of these shapes. */
  label(op: string, inputs: readonly { shape: readonly number[] }[]): string {
    return this.byShape ? `${op} ${inputs.map((t) => `[${t.shape}]`).join(" ")}` : op;
  }
  /** >0 while a profiled op or rule runs: the ops it calls belong to it. */
  depth = 0;

  add(op: string, phase: ProfilePhase, ms: number): void {
    const key = `${phase}\u0000${op}`;
    const row = this.byKey.get(key);
    if (row) {
      row.count++;
      row.ms += ms;
    } else this.byKey.set(key, { op, phase, count: 1, ms });
  }

  rows(): ProfileRow[] {
    return [...this.byKey.values()].sort((a, b) => b.ms - a.ms);
  }
}

let active: Profiler | null = null;

/** The profiler collecting now, if any, for runOp and the backward sweep. */
export function activeProfiler(): Profiler | null {
  return active;
}

/** Runs fn (synchronous or async) and returns its value with the profile of the ops it ran. */
export async function profileOps<T>(
  fn: () => T | Promise<T>,
  o: ProfileOptions = {},
): Promise<{ value: T; profile: OpProfile }> {
  if (active)
    throw new Error("profileOps: a profile is already being collected (they do not nest)");
  const p = new Profiler(o.byShape ?? false);
  active = p;
  const t0 = performance.now();
  try {
    const value = await fn();
    return { value, profile: { rows: p.rows(), totalMs: performance.now() - t0 } };
  } finally {
    active = null;
  }
}

/** Profile rows as a Markdown table with each row's share of the total. */
export function formatProfile(profile: OpProfile): string {
  const lines = [
    `| op | phase | count | total ms | mean us | share |`,
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of profile.rows) {
    lines.push(
      `| ${r.op} | ${r.phase} | ${r.count} | ${r.ms.toFixed(1)} | ${((1e3 * r.ms) / r.count).toFixed(1)} | ${((100 * r.ms) / profile.totalMs).toFixed(1)}% |`,
    );
  }
  const covered = profile.rows.reduce((a, r) => a + r.ms, 0);
  lines.push(
    `| (outside ops) | - | - | ${(profile.totalMs - covered).toFixed(1)} | - | ${((100 * (profile.totalMs - covered)) / profile.totalMs).toFixed(1)}% |`,
  );
  return lines.join("\n");
}

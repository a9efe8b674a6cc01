/**
 * Suite options from environment variables, for runners (pass process.env under Node,
 * Deno.env.toObject() under Deno): SALIENT_SUITE_RUNS=k scales every case's fast-check run
 * count, SALIENT_SUITE_SEED=n replaces the per-case seeds.
 */
import type { SuiteContext } from "./harness.ts";

export function suiteOptions(
  env: Record<string, string | undefined>,
): Pick<SuiteContext, "numRunsScale" | "seed"> {
  const runs = env.SALIENT_SUITE_RUNS === undefined ? undefined : Number(env.SALIENT_SUITE_RUNS);
  const seed = env.SALIENT_SUITE_SEED === undefined ? undefined : Number(env.SALIENT_SUITE_SEED);
  for (const [name, v] of [
    ["SALIENT_SUITE_RUNS", runs],
    ["SALIENT_SUITE_SEED", seed],
  ] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
      throw new Error(`${name} must be a positive number, got ${env[name]}`);
    }
  }
  return { numRunsScale: runs, seed: seed === undefined ? undefined : Math.trunc(seed) };
}

/**
 * The op suite (test/suites) on the CPU backend. SALIENT_SUITE_RUNS=k multiplies every case's
 * fast-check run count (deeper fuzzing); SALIENT_SUITE_SEED=n replaces the per-case seeds.
 */
import { describe, test } from "vitest";
import { CpuBackend } from "../src/index.ts";
import { opCases } from "./suites/ops.ts";
import { suiteOptions } from "./suites/runner-options.ts";

describe("ops on cpu", () => {
  const backend = new CpuBackend();
  const options = suiteOptions(process.env);
  for (const c of opCases) test(c.name, () => c.run({ backend, ...options }));
});

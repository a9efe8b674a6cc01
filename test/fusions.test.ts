/**
 * Fused paths equal their composed form (test/suites/fusions.ts) on the CPU backend;
 * SALIENT_SUITE_RUNS / SALIENT_SUITE_SEED as in test/ops.test.ts.
 */
import { describe, test } from "vitest";
import { CpuBackend } from "../src/index.ts";
import { fusionCases, reluNanCase } from "./suites/fusions.ts";
import { suiteOptions } from "./suites/runner-options.ts";

describe("fusions on cpu", () => {
  const backend = new CpuBackend();
  const options = suiteOptions(process.env);
  for (const c of [reluNanCase, ...fusionCases]) test(c.name, () => c.run({ backend, ...options }));
});

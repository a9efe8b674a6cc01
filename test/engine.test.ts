/**
 * The engine-level suite (test/suites/engine.ts) on the CPU backend; SALIENT_SUITE_RUNS and
 * SALIENT_SUITE_SEED as in ops.test.ts.
 */
import { describe, test } from "vitest";
import { CpuBackend } from "../src/index.ts";
import { engineCases } from "./suites/engine.ts";
import { suiteOptions } from "./suites/runner-options.ts";

describe("engine on cpu", () => {
  const backend = new CpuBackend();
  const options = suiteOptions(process.env);
  for (const c of engineCases) test(c.name, () => c.run({ backend, ...options }));
});

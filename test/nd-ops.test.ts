/** 3-D conv / transposed conv and N-D pooling (test/suites/nd-ops.ts) on the CPU backend. */
import { describe, test } from "vitest";
import { CpuBackend } from "../src/index.ts";
import { ndOpCases } from "./suites/nd-ops.ts";
import { suiteOptions } from "./suites/runner-options.ts";

describe("N-D conv and pooling on cpu", () => {
  const backend = new CpuBackend();
  const options = suiteOptions(process.env);
  for (const c of ndOpCases) test(c.name, () => c.run({ backend, ...options }));
});

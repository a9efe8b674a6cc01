/**
 * The ONNX backend test suite (Debian's libonnx-testdata): one test per case, so the closing total
 * counts cases. A case whose ops are outside the supported set, or that uses an unsupported
 * attribute or element type, is reported as skipped with its reason; a supported case must match
 * the reference outputs (atol 1e-4, rtol 1e-3).
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type CaseResult,
  listCases,
  ONNX_TESTDATA,
  runCaseSafely,
  summary,
} from "./onnx-conformance.ts";

if (!existsSync(ONNX_TESTDATA)) {
  console.warn(
    `ONNX conformance skipped: ${ONNX_TESTDATA} is missing (apt-get install libonnx-testdata)`,
  );
}

describe.skipIf(!existsSync(ONNX_TESTDATA))("ONNX conformance (libonnx-testdata)", () => {
  const results: CaseResult[] = [];
  for (const { name, dir } of listCases()) {
    it(name, (ctx) => {
      const outcome = runCaseSafely(dir);
      results.push({ name, outcome });
      if (outcome.status === "failed") throw new Error(outcome.reason);
      if (outcome.status !== "passed") ctx.skip(outcome.reason);
    });
  }

  it("keeps at least 603 cases passing (a regression that quietly turns passes into skips)", () => {
    console.log(summary(results));
    // 603 at writing: 3-D conv, transposed conv and pooling, dilated pooling, training-mode
    // BatchNormalization, MaxPool's Indices output and uint8 inputs run.
    expect(results.filter((r) => r.outcome.status === "passed").length).toBeGreaterThanOrEqual(603);
  });
});

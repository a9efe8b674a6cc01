/**
 * Every op suite, in one list: the cases a backend runner iterates, e.g.
 *   for (const c of opCases) test(c.name, () => c.run({ backend }));
 * Each case checks one op (or a family) forward against a float64 reference and backward against
 * central finite differences, on fast-check-drawn shapes and values; see harness.ts.
 */
import { elementwiseCases } from "./elementwise.ts";
import type { SuiteCase } from "./harness.ts";
import { layoutCases } from "./layout.ts";
import { nnCases } from "./nn.ts";
import { normCases } from "./norm.ts";
import { randomCases } from "./random.ts";
import { reductionCases } from "./reductions.ts";
import { resampleCases } from "./resample.ts";

export type { SuiteCase, SuiteContext } from "./harness.ts";

export const opCases: SuiteCase[] = [
  ...elementwiseCases,
  ...reductionCases,
  ...layoutCases,
  ...nnCases,
  ...resampleCases,
  ...normCases,
  ...randomCases,
];

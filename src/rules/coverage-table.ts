/**
 * What a rule set does with every op: replaces it, passes it through by definition, passes it
 * through with a warning, or refuses it. Built from the set's entries and its declared coverage.
 */
import type { OpName } from "../autodiff/op-attrs.ts";
import type { RuleSet } from "../autodiff/rule-set.ts";
import { ops } from "../ops/registry.ts";

/** Every op sorted by what a rule set does with it; each op appears in exactly one list. */
export interface CoverageTable {
  /** Ops the set gives a rule of its own. */
  changes: OpName[];
  /** Ops that keep their gradient by the method's definition. */
  passThrough: OpName[];
  /** Ops that keep their gradient with a warning (and why). */
  warns: { op: OpName; reason: string }[];
  /** Ops whose recording fails under the set. */
  fails: OpName[];
}

/** The coverage of a rule set over every op (a set without declared coverage fails nothing). */
export function coverageTable(set: RuleSet): CoverageTable {
  const all = Object.keys(ops) as OpName[];
  const changes = all.filter((op) => set[op] !== undefined);
  const rest = all.filter((op) => set[op] === undefined);
  const c = set.coverage;
  if (!c) return { changes, passThrough: rest, warns: [], fails: [] };
  const passThrough = rest.filter((op) => c.passThrough.includes(op));
  const warns = rest
    .filter((op) => !c.passThrough.includes(op) && c.warn?.[op] !== undefined)
    .map((op) => ({ op, reason: c.warn?.[op] as string }));
  const fails = rest.filter((op) => !c.passThrough.includes(op) && c.warn?.[op] === undefined);
  return { changes, passThrough, warns, fails };
}

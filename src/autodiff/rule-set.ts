/**
 * Gradient-rule sets: partial tables that replace the default VJP of the named ops while a scope
 * is active. Gradient, Deconvnet and Guided Backprop differ in one entry (`relu`); LRP rules
 * replace `conv2d` and `linear`. Rules are looked up when an op is recorded, so a rule set must
 * be active while the forward pass runs (wrap the whole `grad(...)` call).
 */

import type { Vjp } from "./op.ts";
import type { OpName } from "./op-attrs.ts";
import { state } from "./state.ts";

export type RuleSet = { readonly [K in OpName]?: Vjp<K> };

export function withRules<T>(rules: RuleSet, fn: () => T): T {
  const saved = state.rules;
  state.rules = [...saved, rules];
  try {
    return fn();
  } finally {
    state.rules = saved;
  }
}

/** The rule for `name` in a snapshot of the rule stack (innermost wins), if any overrides it. */
export function ruleFor<K extends OpName>(rules: readonly RuleSet[], name: K): Vjp<K> | undefined {
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i][name];
    if (r) return r as Vjp<K>;
  }
  return undefined;
}

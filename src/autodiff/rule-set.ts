/**
 * Gradient-rule sets: partial tables that replace the default VJP of the named ops while a scope
 * is active. Gradient, Deconvnet and Guided Backprop differ in one entry (`relu`); LRP rules
 * replace `conv2d` and `linear`. Rules are looked up when an op is recorded, so a rule set must
 * be active while the forward pass runs (wrap the whole `grad(...)` call).
 */

import { runInScope } from "./context.ts";
import type { Vjp } from "./op.ts";
import type { OpName } from "./op-attrs.ts";
import { state } from "./state.ts";

/**
 * Gradient rules by op name, replacing those ops' default VJPs inside withRules (guided backprop,
 * deconvnet, LRP).
 */
export type RuleSet = { readonly [K in OpName]?: Vjp<K> };

/**
 * Runs fn with `rules` active (innermost over any enclosing rule sets).
 *
 * The scope covers the code that runs synchronously inside fn, including every salient
 * attribution method called there: a method captures the scope when called and keeps it until
 * its promise settles, so `await withRules(rules.guidedBackprop, () => gradient(model, x, t))`
 * is guided backprop, and concurrent calls under different scopes each keep their own.
 *
 * Code of your own after an `await` inside fn is no longer in the scope (no portable JavaScript
 * feature carries it there). When fn is async and starts no method before its first await,
 * gradient recording or starting a method outside every scope throws until fn's promise settles,
 * rather than silently use the outer rules. Not detected: fn starts a method, awaits it, then does
 * more engine work, which gets the outer rules. Call methods before the first await, pass
 * `{ rules }` to a method, or capture `const ctx = engineContext()` first and use
 * `ctx.run(() => grad(f)(x))` after the await.
 */
export function withRules<T>(rules: RuleSet, fn: () => T): T {
  return runInScope([...state.activeRules, rules], state.activeBackend, ["rules"], fn);
}

/** The rule for `name` in a snapshot of the rule stack (innermost wins), if any overrides it. */
export function ruleFor<K extends OpName>(rules: readonly RuleSet[], name: K): Vjp<K> | undefined {
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i][name];
    if (r) return r as Vjp<K>;
  }
  return undefined;
}

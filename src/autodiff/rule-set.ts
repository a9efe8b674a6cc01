/**
 * Gradient-rule sets: partial tables that replace the default VJP of the named ops while a scope
 * is active. Gradient, Deconvnet and Guided Backprop differ in the rectifier entries; LRP and
 * DeepLIFT replace the linear layers or the nonlinearities. Rules are looked up when an op is
 * recorded, so a rule set must be active while the forward pass runs (wrap the whole `grad(...)`
 * call).
 *
 * A rule set may declare its coverage: which ops keep their default gradient by the method's
 * definition. An op that the set neither replaces nor passes through then fails when recorded
 * (or warns, where the definition passes it through with a caveat), so a method never silently
 * turns into the plain gradient on a layer it does not know.
 */

import { runInScope } from "./context.ts";
import type { OpContext, Vjp } from "./op.ts";
import type { OpName } from "./op-attrs.ts";
import { state } from "./state.ts";

/** Which ops keep their default gradient under a rule set, by its method's definition. */
export interface RuleCoverage {
  /** The method, as messages name it ("guided backprop"). */
  readonly name: string;
  /** Ops that keep their default gradient by definition (silently). */
  readonly passThrough: readonly OpName[];
  /** Ops that keep their default gradient with a caveat: recording one warns once, with the reason. */
  readonly warn?: { readonly [K in OpName]?: string };
}

/**
 * Gradient rules by op name, replacing those ops' default VJPs inside withRules (guided backprop,
 * deconvnet, LRP, DeepLIFT), plus optional coverage, rules for named customGrad ops, and a
 * record-time selector.
 */
export type RuleSet = { readonly [K in OpName]?: Vjp<K> } & {
  /** Declared coverage; without it the set is partial and every other op keeps its gradient. */
  readonly coverage?: RuleCoverage;
  /** Rules for customGrad ops, by the name given to customGrad. */
  readonly customRules?: { readonly [name: string]: Vjp<"custom"> };
  /**
   * Picks a rule when an op is recorded, from its inputs and attributes (LRP composites assign
   * rules by layer position); undefined falls back to the by-name entry.
   */
  readonly chooseRule?: (name: OpName, ctx: OpContext) => Vjp | undefined;
  /**
   * The set's linear-layer rules expect an eval-mode BatchNorm folded into the conv before it
   * (LRP's canonizer); without this, a set that replaces conv2d keeps the two layers apart.
   */
  readonly foldBatchNorm?: boolean;
};

/** Whether a conv + BatchNorm pair may run folded under these rules (see RuleSet.foldBatchNorm). */
export function batchNormFoldable(rules: readonly RuleSet[]): boolean {
  for (let i = rules.length - 1; i >= 0; i--) {
    const set = rules[i];
    if (set.conv2d || set.chooseRule) return set.foldBatchNorm === true;
  }
  return true;
}

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

/** The by-name rule for `name` in a snapshot of the rule stack (innermost wins), if any. */
export function ruleFor<K extends OpName>(rules: readonly RuleSet[], name: K): Vjp<K> | undefined {
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i][name];
    if (r) return r as Vjp<K>;
  }
  return undefined;
}

/** How messages name an op: customGrad ops by their own name. */
function opLabel(name: OpName, ctx: OpContext): string {
  if (name !== "custom") return name;
  const n = (ctx.attrs as { name?: string }).name;
  return n ? `custom op "${n}"` : "an unnamed customGrad op";
}

const warned = new WeakMap<RuleCoverage, Set<string>>();

function checkCoverage(set: RuleSet, name: OpName, ctx: OpContext): void {
  const c = set.coverage;
  if (!c || c.passThrough.includes(name)) return;
  const label = opLabel(name, ctx);
  const reason = c.warn?.[name];
  if (reason === undefined) {
    throw new Error(
      `${c.name}: the recorded graph contains ${label}, which the ${c.name} rule set neither replaces nor passes through by definition; add a rule for it (withRules({ ${name === "custom" ? "customRules: { name: rule }" : `${name}: rule`} }, ...)) or use a model without it`,
    );
  }
  const seen = warned.get(c) ?? new Set<string>();
  warned.set(c, seen);
  if (seen.has(label)) return;
  seen.add(label);
  console.warn(`${c.name}: ${label} keeps its plain gradient (${reason})`);
}

/**
 * The rule recorded for an op: the innermost set's chooseRule, named customGrad rule or by-name
 * entry. When no set replaces the op, every set that declares coverage must pass it through
 * (else this throws, or warns once where its definition allows it).
 */
export function resolveRule(
  rules: readonly RuleSet[],
  name: OpName,
  ctx: OpContext,
): Vjp | undefined {
  for (let i = rules.length - 1; i >= 0; i--) {
    const set = rules[i];
    const picked = set.chooseRule?.(name, ctx);
    if (picked) return picked;
    if (name === "custom") {
      const n = (ctx.attrs as { name?: string }).name;
      const r = n ? set.customRules?.[n] : undefined;
      if (r) return r as Vjp;
    }
    const r = set[name];
    if (r) return r as Vjp;
  }
  for (const set of rules) checkCoverage(set, name, ctx);
  return undefined;
}

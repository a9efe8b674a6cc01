/**
 * The engine context: the stack of gradient-rule sets and the default backend for new tensors.
 *
 * JavaScript has no portable way to carry a value across `await` (browsers have no
 * AsyncContext), so a scope cannot follow async code by itself. Instead:
 * - a scope (withRules, withBackend, EngineContext.run) sets the context for the code that runs
 *   synchronously inside its callback;
 * - every attribution method captures the context when it is called (`engineContext()`) and
 *   re-enters it (`ctx.run`) for each synchronous stretch of engine work after an `await`, so
 *   `withRules(rules, () => method(...))` holds for the whole method and concurrent calls under
 *   different scopes each keep their own;
 * - while a scope's async callback that started no method before its first await is pending,
 *   scope-dependent work outside every scope (recording for gradients, making tensors on the
 *   default backend, starting a method) throws rather than silently use the outer context (see
 *   EngineState.pendingAsync). Not detected: a callback that starts a method, awaits it, then does
 *   more engine work; that work runs in the outer context.
 */
import type { Backend } from "../kernels/backend.ts";
import type { RuleSet } from "./rule-set.ts";
import { type ScopeKind, state } from "./state.ts";

/** Explicit context for a method call, instead of (or on top of) an enclosing scope. */
export interface EngineOptions {
  /** A gradient-rule set, innermost (over any active ones) for this call. */
  rules?: RuleSet;
  /** The backend new tensors are made on during this call (an instance or a registered name). */
  backend?: Backend | string;
}

/** A captured engine context; `run` re-enters it for synchronous work. */
export interface EngineContext {
  /** Rule sets, innermost last. */
  readonly rules: readonly RuleSet[];
  readonly backend: Backend;
  /** Runs fn with this context active; as with withRules, it covers fn's synchronous part. */
  run<T>(fn: () => T): T;
}

/** A backend instance, or the registered backend of that name. */
export function resolveBackend(backend: Backend | string, api: string): Backend {
  if (typeof backend !== "string") return backend;
  const b = state.backends.get(backend);
  if (!b) {
    throw new Error(
      `${api}: no backend named "${backend}" (registered: ${[...state.backends.keys()].join(", ")})`,
    );
  }
  return b;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === "object" || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function"
  );
}

/**
 * Runs fn with the given rules and backend active, restoring the previous ones when fn returns.
 * If fn returns a promise, the scope still ends there; if fn captured no context (started no
 * method), `kinds` are marked pending until the promise settles, so that work that lost the
 * scope fails loudly (see EngineState.pendingAsync).
 */
export function runInScope<T>(
  rules: readonly RuleSet[],
  backend: Backend,
  kinds: readonly ScopeKind[],
  fn: () => T,
): T {
  const savedRules = state.activeRules;
  const savedBackend = state.activeBackend;
  state.activeRules = rules;
  state.activeBackend = backend;
  state.scopeDepth++;
  const captures = state.captures;
  let result: T;
  try {
    result = fn();
  } finally {
    state.scopeDepth--;
    state.activeRules = savedRules;
    state.activeBackend = savedBackend;
  }
  if (isThenable(result) && state.captures === captures && kinds.length > 0) {
    for (const k of kinds) state.pendingAsync[k]++;
    const settle = () => {
      for (const k of kinds) state.pendingAsync[k]--;
    };
    result.then(settle, settle);
  }
  return result;
}

/**
 * The current engine context (rules and backend), with `o`'s explicit rules (innermost) and
 * backend applied. Attribution methods call it synchronously on entry, so it sees the scope the
 * method was called in.
 */
export function engineContext(o: EngineOptions = {}): EngineContext {
  state.checkScope("rules");
  state.checkScope("backend");
  state.captures++;
  const rules = o.rules ? [...state.activeRules, o.rules] : state.activeRules;
  const backend =
    o.backend === undefined ? state.activeBackend : resolveBackend(o.backend, "engineContext");
  return {
    rules,
    backend,
    run: (fn) => runInScope(rules, backend, ["rules", "backend"], fn),
  };
}

/**
 * The engine's global state: the active backend, the tidy scopes, the active tapes and the stack
 * of gradient-rule sets. Kept in one small module so every layer sees the same state.
 */
import type { Backend } from "../kernels/backend.ts";
import { CpuBackend } from "../kernels/cpu/cpu-backend.ts";
import type { RuleSet } from "./rule-set.ts";
import type { Tape } from "./tape.ts";
import type { Tensor } from "./tensor.ts";

interface Scope {
  tensors: Tensor[];
}

export interface EngineFlags {
  /** Check every op's output for NaN and throw naming the op (CPU only; slows things down). */
  checkNaN: boolean;
}

/** Which part of the engine context a scope sets. */
export type ScopeKind = "rules" | "backend";

const SCOPE_LOST: Record<ScopeKind, string> = {
  rules: "withRules",
  backend: "withBackend",
};

class EngineState {
  /** The default backend for new tensors; read it through `backend` outside the engine's scopes. */
  activeBackend: Backend = new CpuBackend();
  readonly backends = new Map<string, Backend>([["cpu", this.activeBackend]]);
  readonly scopes: Scope[] = [];
  tapes: Tape[] = [];
  /** Innermost last; replaced (not mutated) so tape nodes can keep a snapshot. */
  activeRules: readonly RuleSet[] = [];
  /** >0 while a scope (withRules, withBackend, EngineContext.run) runs its callback. */
  scopeDepth = 0;
  /**
   * Scopes, by kind, whose callback returned a promise that has not settled yet and started no
   * salient method before returning it (captured no context): user async code that will do its
   * engine work after an `await`, where the scope no longer applies. While one is pending,
   * scope-dependent work outside every scope (reading the rules or the default backend, capturing
   * a context) may be that code, so it throws instead of silently using the outer context. A
   * callback that started a method (`() => gradient(...)`) is not counted: the method carries the
   * scope itself, and unrelated concurrent work stays free.
   */
  readonly pendingAsync: Record<ScopeKind, number> = { rules: 0, backend: 0 };
  /** Contexts captured so far (engineContext calls), to tell whether a scope's callback made one. */
  captures = 0;
  /** >0 while an op's forward runs: the sub-ops it calls are not recorded. */
  recordingPaused = 0;
  liveTensors = 0;
  /**
   * High-water mark of liveBytes() since the last reset (trackPeakBytes). Sampled whenever a
   * tensor is made: backend bytes only grow when a kernel's output is wrapped, and every output
   * becomes a tensor right away, so the samples see every maximum.
   */
  peakBytes = 0;
  flags: EngineFlags = { checkNaN: false };

  /** The default backend for new tensors (checked: see pendingAsync). */
  get backend(): Backend {
    this.checkScope("backend");
    return this.activeBackend;
  }
  set backend(b: Backend) {
    this.activeBackend = b;
  }

  /** The active rule sets, innermost last (checked: see pendingAsync). */
  get rules(): readonly RuleSet[] {
    this.checkScope("rules");
    return this.activeRules;
  }
  set rules(r: readonly RuleSet[]) {
    this.activeRules = r;
  }

  /** Throws if `kind` is read outside every scope while an async scope of that kind is pending. */
  checkScope(kind: ScopeKind): void {
    if (this.scopeDepth > 0 || this.pendingAsync[kind] === 0) return;
    const api = SCOPE_LOST[kind];
    throw new Error(
      `${api}: engine work that depends on the ${kind === "rules" ? "active rule set" : "default backend"} ran outside every scope while an async ${api} callback is still pending. A scope covers the code that runs synchronously inside its callback, and the salient methods called there (they keep it until they settle); code after an \`await\` inside the callback is no longer in the scope. Call the method before awaiting, pass { ${kind} } to it, or capture \`const ctx = engineContext()\` before the await and run the work in \`ctx.run(() => ...)\`.`,
    );
  }

  /** Bytes held by live buffers on every registered backend. */
  liveBytes(): number {
    let bytes = 0;
    for (const b of this.backends.values()) bytes += b.liveBytes();
    return bytes;
  }

  onCreate(t: Tensor): void {
    this.liveTensors++;
    const bytes = this.liveBytes();
    if (bytes > this.peakBytes) this.peakBytes = bytes;
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.tensors.push(t);
  }

  dispose(t: Tensor): void {
    if (t.isDisposed) return;
    if (t.holds > 0) {
      t.disposeRequested = true;
      return;
    }
    t.isDisposed = true;
    t.storage.release();
    this.liveTensors--;
  }
}

export const state = new EngineState();

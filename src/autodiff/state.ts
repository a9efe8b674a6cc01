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

class EngineState {
  backend: Backend = new CpuBackend();
  readonly backends = new Map<string, Backend>([["cpu", this.backend]]);
  readonly scopes: Scope[] = [];
  tapes: Tape[] = [];
  /** Innermost last; replaced (not mutated) so tape nodes can keep a snapshot. */
  rules: readonly RuleSet[] = [];
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

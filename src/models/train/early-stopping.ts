/**
 * Early stopping as PyTorch Lightning's EarlyStopping(mode="min"): a check improves when the
 * monitored value drops below best - minDelta; after `patience` checks without improvement
 * training stops (at once on a non-finite value). It also keeps a copy of the weights at the best check so they can be restored.
 */

import { tensor } from "../../ops/creation.ts";
import type { Module } from "../nn/module.ts";

/** The counters and best-weights copy of an `EarlyStopping`. */
export interface EarlyStoppingState {
  best: number;
  bestCheck: number;
  waited: number;
  checks: number;
  snapshot: Map<string, { shape: number[]; values: Float32Array }> | null;
}

export class EarlyStopping {
  best = Infinity;
  bestCheck = -1;
  private waited = 0;
  private checks = 0;
  private snapshot: Map<string, { shape: number[]; values: Float32Array }> | null = null;

  constructor(
    readonly patience = 5,
    readonly minDelta = 0.001,
  ) {
    if (!(Number.isInteger(patience) && patience >= 1)) {
      throw new Error(`EarlyStopping: patience must be a positive integer, got ${patience}`);
    }
    if (!(minDelta >= 0)) throw new Error(`EarlyStopping: minDelta must be >= 0, got ${minDelta}`);
  }

  /** Records a check; returns true when training should stop. */
  update(value: number, model?: Module): boolean {
    const check = this.checks++;
    // Lightning's check_finite: a NaN or infinite loss ends training at once.
    if (!Number.isFinite(value)) return true;
    if (value < this.best - this.minDelta) {
      this.best = value;
      this.bestCheck = check;
      this.waited = 0;
      if (model) {
        this.snapshot = new Map(
          [...model.stateDict()].map(([k, v]) => [
            k,
            { shape: [...v.shape], values: Float32Array.from(v.dataSync() as Float32Array) },
          ]),
        );
      }
      return false;
    }
    this.waited++;
    return this.waited >= this.patience;
  }

  /** Everything `update` depends on, for checkpoints (the snapshot is shared, not copied). */
  state(): EarlyStoppingState {
    return {
      best: this.best,
      bestCheck: this.bestCheck,
      waited: this.waited,
      checks: this.checks,
      snapshot: this.snapshot,
    };
  }

  /** Restores what `state` returned. */
  loadState(s: EarlyStoppingState): void {
    this.best = s.best;
    this.bestCheck = s.bestCheck;
    this.waited = s.waited;
    this.checks = s.checks;
    this.snapshot = s.snapshot;
  }

  /** Puts the weights of the best check back into `model` (no-op if none was taken). */
  restoreBest(model: Module): void {
    if (!this.snapshot) return;
    for (const [k, v] of model.stateDict()) {
      const s = this.snapshot.get(k);
      if (!s) throw new Error(`EarlyStopping: the snapshot has no "${k}"`);
      const t = tensor(s.values, s.shape);
      v.assign(t);
      t.dispose();
    }
  }
}

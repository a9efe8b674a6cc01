/**
 * Checkpoints of `trainExplainer`, so a long run can stop and continue exactly: the weights, Adam's
 * moments and step count, the early-stopping counters and best-weights copy, and the loop's step,
 * history and checks. There is no random state beyond the step: training canvases are a function
 * of (trainSeed, step), and the explainer has no dropout. Two entries in a CheckpointStore:
 * checkpoint.safetensors (float32 tensors) and checkpoint.json (the rest). The store decides where
 * they live (a folder in Node: `fileCheckpointStore` from "salient/node"; memory anywhere), so this
 * module stays platform neutral.
 */
import type { Variable } from "../../autodiff/tensor.ts";
import { tensor } from "../../ops/creation.ts";
import { type NamedArray, readSafetensors, writeSafetensors } from "../io/safetensors.ts";
import type { Module } from "../nn/module.ts";
import type { EarlyStopping } from "./early-stopping.ts";
import type { Adam } from "./optim.ts";

/** Where checkpoints are kept: named byte blobs, each replaced whole by `write`. */
export interface CheckpointStore {
  /** Names the store in messages (e.g. its folder). */
  readonly where: string;
  has(name: string): boolean;
  /** The bytes stored under `name`; throws when there are none. */
  read(name: string): Uint8Array;
  write(name: string, bytes: Uint8Array): void;
}

/** A store in memory (tests, browsers, or a caller that persists the blobs itself). */
export function memoryCheckpointStore(where = "memory"): CheckpointStore {
  const blobs = new Map<string, Uint8Array>();
  return {
    where,
    has: (name) => blobs.has(name),
    read: (name) => {
      const b = blobs.get(name);
      if (!b) throw new Error(`checkpoint store ${where}: nothing stored under "${name}"`);
      return b;
    },
    write: (name, bytes) => void blobs.set(name, Uint8Array.from(bytes)),
  };
}

const BIN = "checkpoint.safetensors";
const META = "checkpoint.json";

/** The loop's own state, saved next to the tensors. */
export interface LoopState<H> {
  step: number;
  bestStep: number;
  history: H[];
  checks: [number, number][];
  /** What the run was started with; a resume with other values is refused. */
  trainSeed: number;
  batchSize: number;
}

interface JsonState<H> extends LoopState<H> {
  adamT: number;
  stopper: { best: number | null; bestCheck: number; waited: number; checks: number };
  hasSnapshot: boolean;
}

const copy = (v: Float32Array) => Float32Array.from(v);

/** Writes the checkpoint of `model`, `optimizer` and `stopper` at `loop.step` into `store`. */
export function saveCheckpoint<H>(
  store: CheckpointStore,
  model: Module,
  optimizer: Adam,
  stopper: EarlyStopping,
  loop: LoopState<H>,
): void {
  const tensors = new Map<string, NamedArray>();
  const names = new Map<Variable, string>();
  for (const [k, v] of model.stateDict()) {
    names.set(v, k);
    tensors.set(`weights.${k}`, {
      shape: [...v.shape],
      values: copy(v.dataSync() as Float32Array),
    });
  }
  const adam = optimizer.state();
  for (const [which, moments] of [
    ["m", adam.m],
    ["v", adam.v],
  ] as const) {
    for (const [p, values] of moments) {
      const k = names.get(p);
      if (k === undefined) throw new Error("saveCheckpoint: Adam holds a variable the model lacks");
      tensors.set(`adam.${which}.${k}`, { shape: [...p.shape], values });
    }
  }
  const s = stopper.state();
  for (const [k, v] of s.snapshot ?? []) tensors.set(`best.${k}`, v);
  const json: JsonState<H> = {
    ...loop,
    adamT: adam.t,
    // JSON has no Infinity: null stands for "no check yet".
    stopper: {
      best: Number.isFinite(s.best) ? s.best : null,
      bestCheck: s.bestCheck,
      waited: s.waited,
      checks: s.checks,
    },
    hasSnapshot: s.snapshot !== null,
  };
  store.write(BIN, writeSafetensors(tensors, { step: String(loop.step) }));
  store.write(META, new TextEncoder().encode(JSON.stringify(json)));
}

/** True when `store` holds a checkpoint. */
export function hasCheckpoint(store: CheckpointStore): boolean {
  return store.has(META) && store.has(BIN);
}

/** Loads the checkpoint in `store` into `model`, `optimizer` and `stopper`; returns the loop state. */
export function loadCheckpoint<H>(
  store: CheckpointStore,
  model: Module,
  optimizer: Adam,
  stopper: EarlyStopping,
): LoopState<H> {
  const dir = store.where;
  if (!hasCheckpoint(store)) {
    throw new Error(`loadCheckpoint: no ${META} + ${BIN} in ${dir}`);
  }
  const json = JSON.parse(new TextDecoder().decode(store.read(META))) as JsonState<H>;
  const t = readSafetensors(store.read(BIN), `${dir}/${BIN}`);
  const get = (k: string, shape: readonly number[]) => {
    const a = t.get(k);
    if (!a) throw new Error(`loadCheckpoint: ${dir} has no tensor "${k}"`);
    if (a.shape.join() !== shape.join()) {
      throw new Error(`loadCheckpoint: "${k}" is [${a.shape}], the model needs [${shape}]`);
    }
    return a;
  };
  const m = new Map<Variable, Float32Array>();
  const v = new Map<Variable, Float32Array>();
  const snapshot = new Map<string, NamedArray>();
  for (const [k, p] of model.stateDict()) {
    const w = get(`weights.${k}`, p.shape);
    const x = tensor(w.values, w.shape);
    p.assign(x);
    x.dispose();
    if (t.has(`adam.m.${k}`)) {
      m.set(p, get(`adam.m.${k}`, p.shape).values);
      v.set(p, get(`adam.v.${k}`, p.shape).values);
    }
    if (json.hasSnapshot) snapshot.set(k, get(`best.${k}`, p.shape));
  }
  optimizer.loadState({ t: json.adamT, m, v });
  const s = json.stopper;
  stopper.loadState({
    best: s.best ?? Infinity,
    bestCheck: s.bestCheck,
    waited: s.waited,
    checks: s.checks,
    snapshot: json.hasSnapshot ? snapshot : null,
  });
  return {
    step: json.step,
    bestStep: json.bestStep,
    history: json.history,
    checks: json.checks,
    trainSeed: json.trainSeed,
    batchSize: json.batchSize,
  };
}

/**
 * Resumable explainer training: N steps in one run give the same weights, loss history and checks
 * as N/2 steps, a checkpoint, and a resumed run of the other N/2 (tiny explainer, synthetic items).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { matmul, reshape, type Tensor, tensor } from "../../src/index.ts";
import { sourcePool } from "../../src/models/data/multi-fashion.ts";
import { fileCheckpointStore } from "../../src/models/train/checkpoint-files.ts";
import {
  type CheckpointStore,
  memoryCheckpointStore,
} from "../../src/models/train/explainer-checkpoint.ts";
import { Adam, SGD } from "../../src/models/train/optim.ts";
import { trainExplainer } from "../../src/models/train/train-explainer.ts";
import { ExplainerNet } from "../../src/models/unet/explainer-net.ts";

// 40 synthetic 8 x 8 "items" of 10 classes: a class-dependent stripe pattern.
const count = 40;
const images = new Uint8Array(count * 64);
const labels = new Uint8Array(count);
for (let i = 0; i < count; i++) {
  labels[i] = i % 10;
  for (let p = 0; p < 64; p++) images[i * 64 + p] = (p * (labels[i] + 1) + i) % 7 < 3 ? 220 : 30;
}
const pool = sourcePool({ images, labels, count, height: 8, width: 8 });
// A fixed linear "classifier" on the 64 x 64 canvas.
const w = tensor(
  Float32Array.from({ length: 4096 * 10 }, (_, i) => Math.sin(i * 0.37) * 0.05),
  [4096, 10],
);
const classifier = (x: Tensor) => matmul(reshape(x, [x.shape[0], 4096]), w);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(steps: number, dir: string | CheckpointStore, resume: boolean) {
  const store = typeof dir === "string" ? fileCheckpointStore(dir) : dir;
  const net = new ExplainerNet({ channels: [2, 2, 2, 2], seed: 5 });
  const result = trainExplainer(net, classifier, pool, {
    steps,
    batchSize: 2,
    optimizer: new Adam(1e-2),
    trainSeed: 11,
    val: { pool, seed: 12, count: 2 },
    checkEvery: 1,
    patience: 50,
    loss: { perClass: 1, perClassDelete: 1 },
    checkpoint: { store, every: 2, resume },
  });
  const weights = [...net.stateDict()].map(([k, v]) => [k, Array.from(v.dataSync())] as const);
  return { result, weights };
}

describe("trainExplainer checkpoints", () => {
  it("continues exactly: 4 steps = 2 steps + resume + 2 steps", () => {
    const once = mkdtempSync(join(tmpdir(), "explainer-once-"));
    const split = mkdtempSync(join(tmpdir(), "explainer-split-"));
    dirs.push(once, split);
    const whole = run(4, once, false);
    const first = run(2, split, false);
    // A fresh network and optimiser: everything must come from the checkpoint.
    const rest = run(4, split, true);
    expect(first.result.steps).toBe(2);
    expect(rest.result.steps).toBe(4);
    expect(rest.result.history).toEqual(whole.result.history);
    expect(rest.result.checks).toEqual(whole.result.checks);
    expect(rest.result.bestStep).toBe(whole.result.bestStep);
    expect(rest.weights).toEqual(whole.weights);
    // And the resumed run really trained: its weights moved away from the step-2 ones.
    expect(rest.weights).not.toEqual(first.weights);
  });

  it("a memory store (browsers) continues the same way as a folder", () => {
    const folder = mkdtempSync(join(tmpdir(), "explainer-folder-"));
    dirs.push(folder);
    const whole = run(4, folder, false);
    const memory = memoryCheckpointStore();
    run(2, memory, false);
    expect(memory.has("checkpoint.json") && memory.has("checkpoint.safetensors")).toBe(true);
    const rest = run(4, memory, true);
    expect(rest.result.history).toEqual(whole.result.history);
    expect(rest.weights).toEqual(whole.weights);
  });

  it("refuses a non-Adam optimiser and a checkpoint of another run", () => {
    const dir = mkdtempSync(join(tmpdir(), "explainer-bad-"));
    dirs.push(dir);
    const net = new ExplainerNet({ channels: [2, 2, 2, 2], seed: 5 });
    const base = { steps: 1, batchSize: 2, trainSeed: 11 } as const;
    expect(() =>
      trainExplainer(net, classifier, pool, {
        ...base,
        optimizer: new SGD(0.1),
        checkpoint: { store: fileCheckpointStore(dir), every: 1 },
      }),
    ).toThrow(/checkpoints need an Adam optimizer/);
    trainExplainer(net, classifier, pool, {
      ...base,
      optimizer: new Adam(1e-3),
      checkpoint: { store: fileCheckpointStore(dir), every: 1 },
    });
    expect(() =>
      trainExplainer(net, classifier, pool, {
        ...base,
        steps: 2,
        trainSeed: 99,
        optimizer: new Adam(1e-3),
        checkpoint: { store: fileCheckpointStore(dir), every: 1, resume: true },
      }),
    ).toThrow(/trainSeed 11, batch 2; got 99, 2/);
  });
});

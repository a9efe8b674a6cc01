/**
 * The integer hash that test/models/fixtures/make_sr_zoo_fixtures.py fills PyTorch state dicts
 * with, reproduced bit for bit: same keys, same values, no weights stored in the fixture.
 */
import type { Module } from "../../src/models/nn/module.ts";

/** Values in [-1, 1) for element i of stream k (float64, exact on both sides). */
export function hashValues(n: number, k: number): Float64Array {
  const kk = Math.imul(k + 1, 0x85ebca77) >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let h = (Math.imul(i, 0x9e3779b1) + kk) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
    h ^= h >>> 12;
    h = Math.imul(h, 0x297a2d39) >>> 0;
    h ^= h >>> 15;
    out[i] = ((h >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

/**
 * Every state-dict entry except mean shifts, as the Python script fills them (BatchNorm running
 * variances 1 + 0.5 * hash, so they stay positive).
 */
export function hashedStateDict(
  model: Module,
): Map<string, { shape: number[]; values: Float32Array }> {
  const keys = [...model.stateDict().keys()].sort();
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  keys.forEach((key, k) => {
    if (key.includes("mean.")) return;
    const shape = [...model.stateDict().get(key)!.shape];
    const n = shape.reduce((a, b) => a * b, 1);
    const amp = shape.length >= 2 ? 1 / Math.sqrt(n / shape[0]) : 0.05;
    const h = hashValues(n, k);
    const values = new Float32Array(n);
    const variance = key.endsWith("running_var");
    for (let i = 0; i < n; i++) values[i] = variance ? 1 + 0.5 * h[i] : h[i] * amp;
    out.set(key, { shape, values });
  });
  return out;
}

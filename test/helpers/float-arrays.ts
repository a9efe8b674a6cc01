/** Seeded test data and a float64-reference comparison shared by the conv kernel tests. */
import { expect } from "vitest";
import { uniformSource } from "../reference/rng.ts";

/** n floats uniform in [-1, 1), from `seed`. */
export function randomSigned(n: number, seed: number): Float32Array {
  const r = uniformSource(seed);
  return Float32Array.from({ length: n }, () => 2 * r() - 1);
}

/** Largest |got - want| within `rel` of the largest |want| (want from a float64 reference). */
export function expectRelClose(got: ArrayLike<number>, want: Float64Array, rel: number): void {
  expect(got.length).toBe(want.length);
  let top = 0;
  for (const v of want) top = Math.max(top, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst / top).toBeLessThan(rel);
}

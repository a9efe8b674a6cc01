import { describe, expect, it } from "vitest";
import { select } from "../../src/kernels/cpu/elementwise.ts";

/** cond[i] != 0 ? a[i] : b[i], element by element (the definition, with NaN counting as set). */
function reference(cond: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>) {
  return Array.from(cond, (c, i) => (c !== 0 ? a[i] : b[i]));
}

describe("select (CPU)", () => {
  const shape = [2, 3, 5];
  const n = 30;
  const a = Float32Array.from({ length: n }, (_, i) => i + 0.5);
  const b = Float32Array.from({ length: n }, (_, i) => -i - 0.25);

  it("picks a where a float32 cond is nonzero (NaN, +-Inf, tiny values), b where it is +-0", () => {
    const values = [0, -0, 1, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    values.push(1e-45, -1e-45, 0.5);
    const cond = Float32Array.from({ length: n }, (_, i) => values[i % values.length]);
    const got = select(cond, shape, a, shape, b, shape, shape);
    expect(Array.from(got)).toEqual(reference(cond, a, b));
  });

  it("picks a where an int32 cond is nonzero, INT32_MIN included", () => {
    const values = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 7];
    const cond = Int32Array.from({ length: n }, (_, i) => values[i % values.length]);
    const got = select(cond, shape, a, shape, b, shape, shape);
    expect(Array.from(got)).toEqual(reference(cond, a, b));
  });

  it("broadcasts a scalar b and a row of cond", () => {
    const cond = Float32Array.from([1, 0, 1, 0, 0]);
    const got = select(cond, [5], a, shape, new Float32Array([9]), [], shape);
    const want = Array.from({ length: n }, (_, i) => (cond[i % 5] !== 0 ? a[i] : 9));
    expect(Array.from(got)).toEqual(want);
  });
});

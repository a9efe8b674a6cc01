/** The batched matmul's shape arithmetic: transposes swap the roles of the last two axes. */
import { describe, expect, test } from "vitest";
import { matmulGeometry } from "../../src/kernels/matmul-geometry.ts";

describe("matmulGeometry", () => {
  test("plain: a [B, M, K] b [B, K, N]", () => {
    expect(matmulGeometry([2, 3, 4], [2, 4, 5], false, false)).toEqual({
      batch: 2,
      m: 3,
      k: 4,
      n: 5,
    });
  });

  test("transposed operands: a [1, K, M] b [B, N, K], a's batch of 1 broadcast", () => {
    expect(matmulGeometry([1, 4, 3], [6, 5, 4], true, true)).toEqual({
      batch: 6,
      m: 3,
      k: 4,
      n: 5,
    });
  });
});

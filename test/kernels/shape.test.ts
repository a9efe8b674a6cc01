import { describe, expect, it } from "vitest";
import {
  broadcastShapes,
  broadcastStrides,
  coalesceAxes,
  shapeEq,
  sizeOf,
  stridesOf,
} from "../../src/kernels/shape.ts";

/** Offsets each operand reads at every output element, by walking all axes (no coalescing). */
function offsets(shape: readonly number[], strides: readonly (readonly number[])[]): number[][] {
  const out: number[][] = strides.map(() => []);
  const n = sizeOf(shape);
  for (let flat = 0; flat < n; flat++) {
    let rest = flat;
    const idx = new Array<number>(shape.length);
    for (let ax = shape.length - 1; ax >= 0; ax--) {
      idx[ax] = rest % shape[ax];
      rest = Math.floor(rest / shape[ax]);
    }
    strides.forEach((s, k) => {
      out[k].push(idx.reduce((acc, i, ax) => acc + i * s[ax], 0));
    });
  }
  return out;
}

describe("shape arithmetic", () => {
  it("sizes and row-major strides", () => {
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([2, 3, 4])).toBe(24);
    expect(stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
    expect(stridesOf([])).toEqual([]);
  });

  it("broadcast strides are 0 on broadcast and missing leading axes", () => {
    expect(broadcastStrides([3, 1], [2, 3, 5])).toEqual([0, 1, 0]);
    expect(broadcastStrides([2, 3, 5], [2, 3, 5])).toEqual([15, 5, 1]);
  });

  it("broadcastShapes follows NumPy and names the axis that disagrees", () => {
    expect(broadcastShapes("t", [4, 1, 3], [5, 1])).toEqual([4, 5, 3]);
    expect(() => broadcastShapes("add", [2, 3], [4, 3])).toThrow(
      "add: shapes [2,3] and [4,3] cannot be broadcast together (axis 0: 2 vs 4)",
    );
  });

  it("shapeEq compares rank and every length", () => {
    expect(shapeEq([2, 3], [2, 3])).toBe(true);
    expect(shapeEq([2, 3], [3, 2])).toBe(false);
    expect(shapeEq([2, 3], [2, 3, 1])).toBe(false);
  });

  it("coalesceAxes merges [N, C, H, W] against a [C, 1, 1] operand to [N, C, H*W]", () => {
    const out = [2, 3, 4, 5];
    const got = coalesceAxes(out, [stridesOf(out), broadcastStrides([3, 1, 1], out)]);
    expect(got.shape).toEqual([2, 3, 20]);
    expect(got.strides).toEqual([
      [60, 20, 1],
      [0, 1, 0],
    ]);
  });

  it("coalesceAxes keeps every operand's offsets (checked element by element)", () => {
    const cases: [number[], number[][]][] = [
      [
        [2, 1, 3, 4],
        [
          [1, 1, 3, 1],
          [2, 1, 1, 4],
          [2, 1, 3, 4],
        ],
      ],
      [
        [5, 6],
        [
          [1, 6],
          [5, 1],
        ],
      ],
      [[1, 1, 1], [[1, 1, 1]]],
      [
        [3, 2, 2, 2],
        [
          [3, 2, 2, 2],
          [1, 2, 1, 2],
        ],
      ],
    ];
    for (const [out, shapes] of cases) {
      const strides = shapes.map((s) => broadcastStrides(s, out));
      const c = coalesceAxes(out, strides);
      expect(sizeOf(c.shape)).toBe(sizeOf(out));
      expect(offsets(c.shape, c.strides)).toEqual(offsets(out, strides));
    }
  });

  it("coalesceAxes merges a transposed walk only where it is contiguous", () => {
    // x [2, 3, 4] read as its transpose [0, 2, 1]: strides (12, 1, 4) over shape (2, 4, 3).
    const got = coalesceAxes([2, 4, 3], [[12, 1, 4]]);
    expect(got.shape).toEqual([2, 4, 3]);
    // A contiguous [2, 3, 4] walk is one run of 24.
    expect(coalesceAxes([2, 3, 4], [[12, 4, 1]])).toEqual({ shape: [24], strides: [[1]] });
  });
});

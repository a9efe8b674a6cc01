/** Shared pieces of the methods and metrics: the image-call check, removal groups and drops. */
import { describe, expect, test } from "vitest";
import { checkImageCall } from "../../src/attribution/evaluate.ts";
import { drops, stepGroups } from "../../src/attribution/metrics/quantus-common.ts";
import { tensor } from "../../src/ops/creation.ts";

describe("checkImageCall", () => {
  test("accepts an [N, C, H, W] batch and rejects other ranks, naming the method and the shape", async () => {
    const image = tensor(new Float32Array(2 * 1 * 2 * 2), [2, 1, 2, 2]);
    await expect(checkImageCall(image, 0, "someMethod")).resolves.toBeUndefined();
    const flat = tensor(new Float32Array(6), [2, 3]);
    await expect(checkImageCall(flat, 0, "someMethod")).rejects.toThrow(
      "someMethod: expected an [N, C, H, W] input, got [2,3]",
    );
    image.dispose();
    flat.dispose();
  });
});

describe("removal groups", () => {
  test("stepGroups cuts the order into consecutive groups, the last one short", () => {
    const order = Int32Array.from([6, 4, 2, 0, 1, 3, 5]);
    expect(stepGroups(order, 3).map((g) => Array.from(g))).toEqual([[6, 4, 2], [0, 1, 3], [5]]);
    // An explicit count keeps only the first groups.
    expect(stepGroups(order, 2, 2).map((g) => Array.from(g))).toEqual([
      [6, 4],
      [2, 0],
    ]);
  });

  test("drops are the clean score minus each perturbed one", () => {
    expect(drops(2, Float64Array.from([2, 1.5, -1]))).toEqual([0, 0.5, 3]);
  });
});

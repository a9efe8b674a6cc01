import { expect, test } from "vitest";
import * as s from "../src/index.ts";

test("smoke", async () => {
  const x = s.tensor([
    [1, 2],
    [3, 4],
  ]);
  const g = s.grad((x) => s.sum(s.mul(x, x)))(x);
  expect(Array.from(g.dataSync())).toEqual([2, 4, 6, 8]);
  const w = s.randomNormal([4, 3, 3, 3], { seed: 1 });
  const img = s.randomNormal([1, 3, 8, 8], { seed: 2 });
  const gi = s.grad((v) => s.sum(s.conv2d(v, w, { padding: 1, relu: true })))(img);
  expect(gi.shape).toEqual([1, 3, 8, 8]);
  console.log(s.memory());
});

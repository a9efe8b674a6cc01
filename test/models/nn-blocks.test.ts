/** Building blocks against closed forms (the full networks are checked against PyTorch elsewhere). */
import { describe, expect, test } from "vitest";
import { tidy } from "../../src/autodiff/tidy.ts";
import { DIV2K_RGB_MEAN, MeanShift } from "../../src/models/nn/mean-shift.ts";
import { covariancePool, newtonSchulzSqrt } from "../../src/models/nn/second-order.ts";
import { tensor } from "../../src/ops/creation.ts";
import { matmul } from "../../src/ops/matmul.ts";

describe("second-order pooling", () => {
  test("covariancePool is the population covariance of the channels over positions", () => {
    tidy(() => {
      // two channels over three positions: x = (1, 2, 6), y = (0, 3, 3)
      const c = covariancePool(tensor([1, 2, 6, 0, 3, 3], [1, 2, 1, 3])).dataSync();
      // means 3 and 2; var x = (4 + 1 + 9) / 3, var y = (4 + 1 + 1) / 3, cov = (4 - 1 + 3) / 3
      const want = [14 / 3, 2, 2, 2];
      c.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    });
  });

  test("Newton-Schulz: the root squares back to the matrix, and diag(4, 9) gives diag(2, 3)", () => {
    tidy(() => {
      const a = tensor([5, 2, 1, 2, 6, 1, 1, 1, 4], [1, 3, 3]); // symmetric positive definite
      const r = newtonSchulzSqrt(a, 20);
      const sq = matmul(r, r).dataSync();
      a.dataSync().forEach((v, i) => expect(sq[i]).toBeCloseTo(v, 4));
      const d = newtonSchulzSqrt(tensor([4, 0, 0, 9], [1, 2, 2]), 20).dataSync();
      [2, 0, 0, 3].forEach((v, i) => expect(d[i]).toBeCloseTo(v, 4));
      expect(() => newtonSchulzSqrt(a, 1)).toThrow(/iterations must be an integer >= 2/);
    });
  });
});

describe("MeanShift", () => {
  test("subtracts and adds rgbRange * DIV2K mean per channel", () => {
    tidy(() => {
      const x = tensor([100, 100, 100], [1, 3, 1, 1]);
      const sub = new MeanShift(255, DIV2K_RGB_MEAN, -1).call(x).dataSync();
      DIV2K_RGB_MEAN.forEach((m, c) => expect(sub[c]).toBeCloseTo(100 - 255 * m, 4));
      const back = new MeanShift(255, DIV2K_RGB_MEAN, 1).call(tensor(sub, [1, 3, 1, 1])).dataSync();
      back.forEach((v) => expect(v).toBeCloseTo(100, 4));
    });
  });
});

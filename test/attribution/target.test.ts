/** Target scores: closed-form values and clear errors for outputs that are not class scores. */
import { describe, expect, it } from "vitest";
import { probabilityOf, targetScores } from "../../src/attribution/target.ts";
import { tensor } from "../../src/ops/creation.ts";

describe("target scores", () => {
  it("an index picks that entry per row; a list picks one per row", async () => {
    const y = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(Array.from(await targetScores(y, 2).data())).toEqual([3, 6]);
    expect(Array.from(await targetScores(y, [0, 1]).data())).toEqual([1, 5]);
  });

  it("probabilityOf is the softmax probability: logits (0, ln 3) give 0.75 for class 1", async () => {
    const y = tensor([0, Math.log(3)], [1, 2]);
    const [p] = await probabilityOf(1)(y).data();
    expect(p).toBeCloseTo(0.75, 6);
  });

  it("a scalar model output is refused by name, not as a reshape of [,-1]", () => {
    const s = tensor([1], []);
    expect(() => targetScores(s, 0)).toThrow(/returned a scalar; expected \[N, \.\.\.\]/);
    expect(() => probabilityOf(0)(s)).toThrow(/probabilityOf: the model returned a scalar/);
  });
});

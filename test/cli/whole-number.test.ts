import { describe, expect, test } from "vitest";
import { isWholeNumber, parseWholeNumber } from "../../src/cli/whole-number.ts";

describe("whole numbers as the CLI reads them", () => {
  test("integers >= 0 are whole; negatives, fractions and non-finite values are not", () => {
    for (const n of [0, 1, 7, 2 ** 40]) expect(isWholeNumber(n)).toBe(true);
    for (const n of [-1, 0.5, 2.25, Number.NaN, Number.POSITIVE_INFINITY])
      expect(isWholeNumber(n)).toBe(false);
  });

  test("text: surrounding blanks are allowed; absent, blank and non-whole text give undefined", () => {
    expect(parseWholeNumber("3")).toBe(3);
    expect(parseWholeNumber(" 12 ")).toBe(12);
    expect(parseWholeNumber("0")).toBe(0);
    // Number("") and Number("  ") are 0: blank text must not read as class 0.
    for (const t of [undefined, "", "   ", "-2", "1.5", "three", "1,2"])
      expect(parseWholeNumber(t)).toBeUndefined();
  });
});

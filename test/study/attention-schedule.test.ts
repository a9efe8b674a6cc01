import { describe, expect, it } from "vitest";
import { mean, sampleSd, separated } from "../../scripts/study/attention-report.ts";
import {
  cosineSchedule,
  learningRate,
  sameSchedule,
  snapshotSteps,
} from "../../scripts/study/attention-schedule.ts";

describe("attention study: cosine learning-rate schedule", () => {
  const s = cosineSchedule(1e-3, 1e-5, 101);

  it("starts at max, ends at min, and is halfway at the middle step", () => {
    expect(learningRate(s, 0)).toBeCloseTo(1e-3, 15);
    expect(learningRate(s, 100)).toBeCloseTo(1e-5, 15);
    // cos(pi/2) = 0: the midpoint of max and min
    expect(learningRate(s, 50)).toBeCloseTo((1e-3 + 1e-5) / 2, 15);
    // a quarter of the way: min + (max - min)(1 + cos(pi/4))/2
    expect(learningRate(s, 25)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) * (1 + Math.SQRT1_2) * 0.5, 15);
  });

  it("decreases monotonically", () => {
    for (let t = 1; t < 101; t++) expect(learningRate(s, t)).toBeLessThan(learningRate(s, t - 1));
  });

  it("rejects steps outside the run and bad parameters, naming them", () => {
    expect(() => learningRate(s, 101)).toThrow(/step must be an integer in \[0, 101\)/);
    expect(() => cosineSchedule(1e-5, 1e-3, 10)).toThrow(/min <= max/);
    expect(() => cosineSchedule(1e-3, 1e-5, 0)).toThrow(/total steps/);
  });

  it("tells a checkpoint's schedule apart from another total", () => {
    expect(sameSchedule(s, cosineSchedule(1e-3, 1e-5, 101))).toBe(true);
    expect(sameSchedule(s, cosineSchedule(1e-3, 1e-5, 102))).toBe(false);
  });
});

describe("attention study: snapshots and spread", () => {
  it("puts snapshots at rounded fractions of the run, deduplicated", () => {
    expect(snapshotSteps(1500, [0.8, 0.9, 1])).toEqual([1200, 1350, 1500]);
    expect(snapshotSteps(2, [0.8, 0.9, 1])).toEqual([2]);
    expect(() => snapshotSteps(10, [1.5])).toThrow(/\(0, 1\]/);
  });

  it("computes the sample sd and separation by hand", () => {
    // 1, 2, 3: mean 2, squared deviations 1 + 0 + 1 over n - 1 = 2 -> sd 1
    expect(mean([1, 2, 3])).toBe(2);
    expect(sampleSd([1, 2, 3])).toBeCloseTo(1, 15);
    expect(sampleSd([7])).toBe(0);
    // means 2 and 4.5 differ by 2.5 > 1 + 1: separated; 2 and 3.5 (1.5 < 2): not
    expect(separated([1, 2, 3], [3.5, 4.5, 5.5])).toBe(true);
    expect(separated([1, 2, 3], [2.5, 3.5, 4.5])).toBe(false);
  });
});

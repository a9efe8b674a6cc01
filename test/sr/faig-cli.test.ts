/** `salient faig` end to end on two FSRCNN checkpoints that differ in one known filter. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { UsageError } from "../../src/cli/args.ts";
import { runFaig } from "../../src/cli/faig.ts";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import type { Module } from "../../src/models/nn/module.ts";
import { Fsrcnn } from "../../src/models/zoo/fsrcnn.ts";
import { Random } from "../../src/random.ts";
import { writePng } from "../../src/viz/image-io-node.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-faig-"));

function save(m: Module, name: string, edit?: (k: string, v: Float32Array) => void): string {
  const path = join(dir, name);
  const entries = [...m.stateDict()].map(([k, v]) => {
    const values = Float32Array.from(v.dataSync());
    edit?.(k, values);
    return [k, { values, shape: [...v.shape] }] as [
      string,
      { values: Float32Array; shape: number[] },
    ];
  });
  writeFileSync(path, writeSafetensors(new Map(entries)));
  return path;
}

const net = new Fsrcnn(2, { seed: 5 });
const base = save(net, "base.safetensors");
// the target differs only in filter 7 of the first conv (first_part.0, weight [56, 1, 5, 5])
const changed = save(net, "target.safetensors", (k, v) => {
  if (k === "first_part.0.weight") for (let i = 7 * 25; i < 8 * 25; i++) v[i] += 0.2;
});
const img = join(dir, "hr.png");
const rng = new Random(2);
writePng(img, {
  width: 20,
  height: 20,
  data: Uint8Array.from({ length: 20 * 20 * 3 }, () => Math.floor(rng.uniform() * 256)),
});

describe("salient faig", () => {
  test("ranks the one changed filter first and writes every filter's score", async () => {
    const lines: string[] = [];
    const out = join(dir, "scores");
    await runFaig(
      ["--baseline-model", base, "--model", changed, "--arch", "fsrcnn", "--image", img].concat([
        "--steps",
        "4",
        "--crop",
        "16",
        "--out",
        out,
      ]),
      (l) => lines.push(l),
    );
    const summary = JSON.parse(lines[lines.length - 1]);
    expect(summary.top[0]).toMatchObject({ layer: "first_part.0", filter: 7 });
    expect(summary.top[1].score).toBe(0);
    // Only filter 7 changes, so its score (a sum of |IG * delta theta|) bounds the signed path
    // integral, which is the loss change up to the reported delta.
    expect(summary.top[0].score).toBeGreaterThanOrEqual(
      Math.abs(summary.loss_target - summary.loss_baseline + summary.delta) * (1 - 1e-6),
    );
    expect(Math.abs(summary.loss_target - summary.loss_baseline)).toBeGreaterThan(0);
    const file = JSON.parse(readFileSync(`${out}.json`, "utf8"));
    const first = file.layers.find((l: { layer: string }) => l.layer === "first_part.0");
    expect(first.weight_shape).toEqual([56, 1, 5, 5]);
    expect(first.scores).toHaveLength(56);
    expect(first.scores[7]).toBeCloseTo(summary.top[0].score, 6);
    // masking the top 1% includes the changed filter, so the output moves (to the baseline's);
    // the other filters are equal in both networks, so masking them alone moves nothing
    expect(summary.mask[0].filters).toBe(Math.max(1, Math.round(0.01 * summary.filters)));
    const moved = summary.mask[0].mse_top;
    expect(moved).toBeGreaterThan(0);
    // Every larger top set adds only unchanged filters: the same output, the same MSE. A random
    // set either contains filter 7 (the same MSE) or not (no change at all).
    expect(summary.mask.map((m: { fraction: number }) => m.fraction)).toEqual([0.01, 0.05, 0.1]);
    for (const m of summary.mask) {
      expect(m.mse_top).toBeCloseTo(moved, 12);
      if (m.mse_random !== 0) expect(m.mse_random).toBeCloseTo(moved, 12);
    }
  });

  test("bad input names what was wrong", async () => {
    const run = (a: string[]) => runFaig(a, () => {});
    const common = ["--baseline-model", base, "--model", changed, "--arch", "fsrcnn", "--out", "x"];
    await expect(run([...common, "--image", img, "--images", dir])).rejects.toThrow(
      /exactly one of --image FILE and --images DIR/,
    );
    await expect(run([...common, "--image", img, "--degradation", "fog:2"])).rejects.toThrow(
      UsageError,
    );
    await expect(run([...common, "--image", img, "--steps", "0"])).rejects.toThrow(/--steps/);
  });
});

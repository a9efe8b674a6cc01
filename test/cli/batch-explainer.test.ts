/**
 * `salient batch --explainer-eval` + `salient merge`: the CLI in separate processes, three shards
 * against one unsharded run and against a run resumed after one shard, and the merged table
 * against `evaluateMethod` computed here in one process on the same canvases.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadExplainerPair } from "../../src/attribution/explainer/bundled.ts";
import { SEEDS } from "../../src/attribution/explainer/data.ts";
import { type EvaluationRow, evaluateMethod } from "../../src/attribution/explainer/evaluate.ts";
import { comparisonMethods, explainerMethod } from "../../src/attribution/explainer/methods.ts";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { runBatch } from "../../src/cli/batch.ts";
import { mergeTable, runMerge } from "../../src/cli/merge.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { multiFashionSample, sourcePool } from "../../src/models/data/multi-fashion.ts";
import { tensor } from "../../src/ops/creation.ts";
import { decodeNpy } from "../../src/viz/npy.ts";
import { buildCli, lastJson, recordsOf, spawnCli, tableWithoutTiming } from "./batch-helpers.ts";

let tmp: string;
let cli: string;
const salient = (args: string[]) => spawnCli(cli, tmp, args);

const CANVASES = 4;
const CURVES = 2;
const RUN = [
  "batch",
  "--explainer-eval",
  "--model",
  "multi-fashion",
  "--canvases",
  String(CANVASES),
  "--curve-canvases",
  String(CURVES),
  "--methods",
  "explainer,Grad-CAM,gradient-saliency",
];

/** A record without its timings. */
const untimed = ({ seconds, ...r }: Record<string, unknown>) => {
  const e = r.evaluation as Record<string, unknown> | undefined;
  return e ? { ...r, evaluation: { ...e, seconds: 0 } } : r;
};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "salient-batch-explainer-"));
  cli = await buildCli(tmp);
}, 60_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("salient batch --explainer-eval", () => {
  it("three shards merged equal one unsharded run and evaluateMethod's rows", async () => {
    const results = await Promise.all([
      salient([...RUN, "--out", "whole"]).done,
      ...[0, 1, 2].map((i) => salient([...RUN, "--out", "sharded", "--shard", `${i}/3`]).done),
    ]);
    for (const r of results) expect(r.code, r.err).toBe(0);
    expect(results.slice(1).map((r) => lastJson(r.out).items)).toEqual([2, 1, 1]);
    const a = recordsOf(join(tmp, "whole"), untimed);
    const b = recordsOf(join(tmp, "sharded"), untimed);
    expect(a.size).toBe(CANVASES * 3);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k), k).toEqual(v);
    for (const dir of ["whole", "sharded"]) await runMerge([join(tmp, dir)], () => {});
    expect(tableWithoutTiming(join(tmp, "sharded"))).toBe(tableWithoutTiming(join(tmp, "whole")));

    // The reference: the table's evaluation in this process, one method at a time.
    const pair = loadExplainerPair("multi-fashion");
    const f = (x: Tensor) => pair.classifier.call(x);
    const pool = sourcePool(loadFashionMnist("test"));
    const library = comparisonMethods(f, pair.classifier.gradCamLayer);
    const options = { images: CANVASES, seed: SEEDS.test, curveImages: CURVES, batchSize: 64 };
    const untimedRow = (r: EvaluationRow) => ({ ...r, secondsPerImage: 0 });
    const expected = [
      await evaluateMethod(
        "explainer",
        explainerMethod((x) => pair.explainer.call(x)),
        f,
        pool,
        options,
      ),
      await evaluateMethod("Grad-CAM", library["Grad-CAM"], f, pool, options),
      await evaluateMethod("gradient saliency", library["gradient saliency"], f, pool, options),
    ];
    const merged = mergeTable(join(tmp, "sharded"));
    expect(merged.evaluations!.map(untimedRow)).toEqual(expected.map(untimedRow));
    const written = JSON.parse(readFileSync(join(tmp, "sharded", "table.json"), "utf8"));
    expect(written.rows.map(untimedRow)).toEqual(expected.map(untimedRow));
    // The CSV row: name, n, failed, then accuracy and its interval.
    const csv = readFileSync(join(tmp, "sharded", "table.csv"), "utf8")
      .trim()
      .split("\n");
    expect(csv[0].split(",").slice(0, 5)).toEqual([
      "method",
      "n",
      "failed",
      "acc (masked) mean",
      "acc (masked) ci95",
    ]);
    const explainerRow = csv[1].split(",");
    expect(explainerRow.slice(0, 3)).toEqual(["explainer", String(CANVASES), "0"]);
    expect(Number(explainerRow[3])).toBeCloseTo(expected[0].maskedAccuracy, 3);
    expect(merged.missing).toEqual([]);

    // The explainer's maps are sigmoid of its logits for the canvas's true classes.
    const s = multiFashionSample(pool, SEEDS.test, 1);
    const classes = [...s.labels.keys()].filter((c) => s.labels[c] === 1);
    const npy = decodeNpy(
      new Uint8Array(readFileSync(join(tmp, "whole", "items", "canvas-000001", "explainer.npy"))),
    );
    expect(npy.shape).toEqual([classes.length, 64, 64]);
    const logits = pair.explainer.call(tensor(s.image, [1, 1, 64, 64])).dataSync();
    classes.forEach((c, k) => {
      for (const p of [0, 777, 2080, 4095])
        expect(npy.values[k * 4096 + p]).toBeCloseTo(1 / (1 + Math.exp(-logits[c * 4096 + p])), 6);
    });
  }, 120_000);

  it("resumes a folder one shard filled, and merge names the canvases still missing", async () => {
    const first = await salient([...RUN, "--out", "resumed", "--shard", "0/3"]).done;
    expect(first.code, first.err).toBe(0);
    const partial = mergeTable(join(tmp, "resumed"));
    // Shard 0 of 3 holds canvases 0 and 3; 1 and 2 have no records for any of the 3 methods.
    expect([...new Set(partial.missing.map((m) => m.id))]).toEqual([
      "canvas-000001",
      "canvas-000002",
    ]);
    expect(partial.rows.map((r) => r[1])).toEqual([2, 2, 2]);
    const again = await salient([...RUN, "--out", "resumed"]).done;
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/pass --resume/);
    const rest = await salient([...RUN, "--out", "resumed", "--resume"]).done;
    expect(rest.code, rest.err).toBe(0);
    expect(lastJson(rest.out)).toMatchObject({ items: 4, ran: 2, skipped: 2, failed: 0 });
    const a = recordsOf(join(tmp, "whole"), untimed);
    const b = recordsOf(join(tmp, "resumed"), untimed);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k), k).toEqual(v);
  }, 120_000);

  it("names what is wrong in the flags", async () => {
    const run = (args: string[]) => runBatch(["--out", join(tmp, "bad"), ...args], () => {}, {});
    const base = ["--explainer-eval", "--model", "multi-fashion"];
    await expect(run(base)).rejects.toThrow(/needs --canvases N/);
    await expect(run([...base, "--canvases", "0"])).rejects.toThrow(/--canvases must be/);
    await expect(run([...base, "--canvases", "2", "--methods", "grad-cma"])).rejects.toThrow(
      /"grad-cma" is not a row of the explainer table.*"grad-cam"/,
    );
    await expect(
      run([...base, "--canvases", "2", "--methods", "Grad-CAM,grad-cam"]),
    ).rejects.toThrow(/names a row twice/);
    await expect(
      run(["--explainer-eval", "--model", "fashion-cnn", "--canvases", "2"]),
    ).rejects.toThrow(/bundled classifier \+ explainer pair/);
    await expect(run([...base, "--canvases", "2", "--images", tmp])).rejects.toThrow(
      /not --images or --manifest/,
    );
  });
});

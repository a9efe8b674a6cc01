/**
 * `salient batch` as users run it: the CLI in separate processes (bundled from src/cli/main.ts),
 * sharded three ways, killed with SIGKILL and resumed, on a folder with a corrupt image. The
 * reference for every comparison is an independent run: one unsharded, uninterrupted process, and
 * `salient attribute` for the maps themselves.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveShard } from "../../src/cli/batch/shard.ts";
import { runBatch } from "../../src/cli/batch.ts";
import { runMerge } from "../../src/cli/merge.ts";
import { encodePng, readImage } from "../../src/viz/image-io-node.ts";
import { decodeNpy } from "../../src/viz/npy.ts";
import { toRgb } from "../../src/viz/overlay.ts";
import {
  buildCli,
  lastJson,
  recordsOf as recordsOfRun,
  spawnCli,
  tableWithoutTiming,
} from "./batch-helpers.ts";

const ROOT = join(import.meta.dirname, "..", "..");
let tmp: string;
let cli: string;
let images: string;

const salient = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnCli(cli, tmp, args, env);

// Random methods and metrics (smoothgrad, infidelity) are included on purpose: their seeds must
// follow the item, not the process.
const RUN = [
  "batch",
  "--images",
  "imgs",
  "--model",
  "fashion-cnn",
  "--methods",
  "gradient,integrated-gradients,smoothgrad",
  "--steps",
  "4",
  "--samples",
  "3",
  "--metrics",
  "deletion,sparseness,infidelity",
];

/** Every record of a run folder by item/key, without the timings, plus its map bytes. */
const recordsOf = (dir: string) =>
  recordsOfRun(dir, ({ seconds, metric_seconds, ...record }) => record);

const leftovers = (dir: string) =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => /\.(tmp|old)$/.test(f));

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "salient-batch-"));
  cli = await buildCli(tmp);
  // Six 28x28 Fashion-MNIST items (three test images and their negatives) and a corrupt file.
  images = join(tmp, "imgs");
  rmSync(images, { recursive: true, force: true });
  const { mkdirSync } = await import("node:fs");
  mkdirSync(images);
  for (const n of [0, 9, 19]) {
    const img = readImage(join(ROOT, "assets", "fashion-mnist", `test-${n}.png`), 1);
    const inv = img.data.map((v) => 1 - v);
    writeFileSync(join(images, `a-${n}.png`), encodePng(toRgb(img.data, 1, 28, 28)));
    writeFileSync(join(images, `b-${n}.png`), encodePng(toRgb(inv, 1, 28, 28)));
  }
  writeFileSync(join(images, "c-corrupt.png"), "this is not an image");
}, 60_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("salient batch", () => {
  it("three shards in separate processes, merged, equal one unsharded run item by item and in the table", async () => {
    const whole = salient([...RUN, "--out", "whole"]);
    const shards = [0, 1, 2].map((i) => salient([...RUN, "--out", "sharded", "--shard", `${i}/3`]));
    const results = await Promise.all([whole.done, ...shards.map((s) => s.done)]);
    for (const r of results) expect(r.code, r.err).toBe(0);
    expect(lastJson(results[0].out)).toMatchObject({ items: 7, ran: 7, failed: 1 });
    // Shard i holds items i, i + 3, ...: 3, 2 and 2 of the 7.
    expect(results.slice(1).map((r) => lastJson(r.out).items)).toEqual([3, 2, 2]);
    const a = recordsOf(join(tmp, "whole"));
    const b = recordsOf(join(tmp, "sharded"));
    expect(a.size).toBe(7 * 3);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k), k).toEqual(v);

    // The corrupt image is a failed item with its error; the six others completed.
    const failed = [...a.entries()].filter(([, v]) => v.record.status === "failed");
    expect(failed.map(([k]) => k.split("/")[0])).toEqual(Array(3).fill("000006-c-corrupt"));
    expect(String(failed[0][1].record.error)).toMatch(/neither a PNG nor a JPEG/);

    for (const dir of ["whole", "sharded"]) await runMerge([join(tmp, dir)], () => {});
    expect(tableWithoutTiming(join(tmp, "sharded"))).toBe(tableWithoutTiming(join(tmp, "whole")));
  }, 60_000);

  it("gives the maps salient attribute gives, and the metric values of their definition", async () => {
    const attr = await salient([
      "attribute",
      "--model",
      "fashion-cnn",
      "--image",
      join("imgs", "b-9.png"),
      "--method",
      "integrated-gradients",
      "--steps",
      "4",
      "--out",
      "ref",
    ]).done;
    expect(attr.code, attr.err).toBe(0);
    const ref = decodeNpy(new Uint8Array(readFileSync(join(tmp, "ref.npy"))));
    const dir = join(tmp, "whole", "items", "000005-b-9");
    const mine = decodeNpy(new Uint8Array(readFileSync(join(dir, "integrated-gradients.npy"))));
    expect(mine.shape).toEqual(ref.shape);
    expect([...mine.values]).toEqual([...ref.values]);
    // Sparseness is the Gini index of |map| + 1e-7 (sorted ascending), computed here by hand.
    const v = Float64Array.from(ref.values, (x) => Math.abs(x) + 1e-7).sort();
    let num = 0;
    let sum = 0;
    v.forEach((x, i) => {
      num += (2 * (i + 1) - v.length - 1) * x;
      sum += x;
    });
    const record = JSON.parse(readFileSync(join(dir, "integrated-gradients.json"), "utf8"));
    expect(record.metrics.sparseness).toBeCloseTo(num / (v.length * sum), 6);
    expect(record.target).toBe(lastJson(attr.out).target);
  }, 30_000);

  it("a run killed with SIGKILL part-way and resumed equals an uninterrupted run, with no partial file left", async () => {
    const run = salient([...RUN, "--out", "killed"]);
    await new Promise<void>((resolve) => {
      run.done.then(() => resolve());
      const poll = setInterval(() => {
        if (/\[2\/7\]/.test(run.output())) {
          run.child.kill("SIGKILL");
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    const killed = await run.done;
    expect(killed.code).toBe(null);
    // Every record that exists is whole (written atomically).
    for (const f of readdirSync(join(tmp, "killed"), { recursive: true }).map(String))
      if (f.endsWith(".json") && !f.startsWith("."))
        expect(() => JSON.parse(readFileSync(join(tmp, "killed", f), "utf8")), f).not.toThrow();

    const again = await salient([...RUN, "--out", "killed"]).done;
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/pass --resume/);
    const resumed = await salient([...RUN, "--out", "killed", "--resume"]).done;
    expect(resumed.code, resumed.err).toBe(0);
    const s = lastJson(resumed.out);
    expect(s.skipped).toBeGreaterThanOrEqual(2);
    expect(s.ran).toBeGreaterThanOrEqual(1);
    expect(s.skipped + s.ran).toBe(7);
    expect(leftovers(join(tmp, "killed"))).toEqual([]);
    const a = recordsOf(join(tmp, "whole"));
    const b = recordsOf(join(tmp, "killed"));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k), k).toEqual(v);
  }, 60_000);

  it("takes its shard from Slurm job arrays and Kubernetes Indexed Jobs", async () => {
    const ids = async (out: string, env: NodeJS.ProcessEnv, extra: string[] = []) => {
      await runBatch(
        [
          "--images",
          images,
          "--model",
          "fashion-cnn",
          "--methods",
          "gradient",
          "--metrics",
          "",
          "--out",
          join(tmp, out),
          ...extra,
        ],
        () => {},
        env,
      );
      return readdirSync(join(tmp, out, "items")).sort();
    };
    // Items by name: a-0, a-19, a-9, b-0, b-19, b-9, c-corrupt. Task 3 of an array numbered 1..3
    // is shard 2 of 3: items 2 and 5.
    expect(
      await ids("slurm", {
        SLURM_ARRAY_TASK_ID: "3",
        SLURM_ARRAY_TASK_MIN: "1",
        SLURM_ARRAY_TASK_COUNT: "3",
      }),
    ).toEqual(["000002-a-9", "000005-b-9"]);
    // Completion index 1 of 2: items 1, 3, 5.
    expect(await ids("k8s", { JOB_COMPLETION_INDEX: "1" }, ["--shards", "2"])).toEqual([
      "000001-a-19",
      "000003-b-0",
      "000005-b-9",
    ]);
    expect(
      resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "4" }),
    ).toMatchObject({ index: 0, count: 4 });
    expect(() => resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: "1" })).toThrow(
      /--shards N/,
    );
    expect(() => resolveShard("3/3", undefined, {})).toThrow(/numbered 0 to 2/);
    expect(() => resolveShard("1-3", undefined, {})).toThrow(/must be i\/n/);
    // --shard wins over the environment.
    expect(
      resolveShard("1/5", undefined, { SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "2" }),
    ).toMatchObject({ index: 1, count: 5 });
  }, 30_000);

  it("reads a CSV manifest with targets and refuses a folder holding another run", async () => {
    writeFileSync(join(tmp, "list.csv"), 'image,target\nimgs/a-0.png,3\n"imgs/b-9.png",\n');
    await runBatch(
      [
        "--manifest",
        join(tmp, "list.csv"),
        "--model",
        "fashion-cnn",
        "--methods",
        "gradient",
        "--metrics",
        "",
        "--out",
        join(tmp, "man"),
      ],
      () => {},
      {},
    );
    const rec = (id: string) =>
      JSON.parse(readFileSync(join(tmp, "man", "items", id, "gradient.json"), "utf8"));
    expect(rec("000000-a-0").target).toBe(3);
    expect(rec("000001-b-9").target).toBe(rec("000001-b-9").predicted);
    await expect(
      runBatch(
        [
          "--manifest",
          join(tmp, "list.csv"),
          "--model",
          "fashion-cnn",
          "--methods",
          "saliency",
          "--out",
          join(tmp, "man"),
          "--resume",
        ],
        () => {},
        {},
      ),
    ).rejects.toThrow(/other settings/);
  });
});

describe("salient batch --lam", () => {
  it("gives the map and DI that salient lam gives for the same window", async () => {
    const photos = join(tmp, "photos");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(photos, { recursive: true });
    // A 48x48 crop of a bundled photo keeps the LAM runs short.
    const full = readImage(join(ROOT, "assets", "photos", "coffee.png"), 3);
    const crop = new Uint8Array(48 * 48 * 3);
    for (let y = 0; y < 48; y++)
      for (let x = 0; x < 48; x++)
        for (let c = 0; c < 3; c++)
          crop[(y * 48 + x) * 3 + c] = Math.round(
            255 * full.data[c * full.height * full.width + (y + 100) * full.width + x + 100],
          );
    writeFileSync(join(photos, "coffee.png"), encodePng({ width: 48, height: 48, data: crop }));
    const lamArgs = ["--model", "bicubic", "--scale", "2", "--fold", "3"];
    const [batch, ref] = await Promise.all([
      salient([
        "batch",
        "--lam",
        "--images",
        "photos",
        ...lamArgs,
        "--windows",
        "edge=20,24,16",
        "--out",
        "lam",
      ]).done,
      salient([
        "lam",
        "--image",
        join("photos", "coffee.png"),
        ...lamArgs,
        "--window",
        "20,24,16",
        "--out",
        "lam-ref",
      ]).done,
    ]);
    expect(batch.code, batch.err).toBe(0);
    expect(ref.code, ref.err).toBe(0);
    const dir = join(tmp, "lam", "items", "000000-coffee");
    const rec = JSON.parse(readFileSync(join(dir, "bicubic.edge.json"), "utf8"));
    expect(rec.di).toBe(lastJson(ref.out).diffusion_index);
    expect(readFileSync(join(dir, "bicubic.edge.npy"))).toEqual(
      readFileSync(join(tmp, "lam-ref.npy")),
    );
  }, 60_000);
});

describe("batch manifests", () => {
  it("reads JSON Lines with windows and ids, and names what is wrong in a bad one", async () => {
    const { itemsFromManifest } = await import("../../src/cli/batch/items.ts");
    const f = join(tmp, "m.jsonl");
    writeFileSync(
      f,
      '{"image": "a.png", "window": [1, 2, 16], "id": "first"}\n\n{"image": "/abs/b.jpg", "target": 2}\n',
    );
    expect(itemsFromManifest(f)).toEqual([
      { id: "first", image: join(tmp, "a.png"), window: [1, 2, 16] },
      { id: "000001-b", image: "/abs/b.jpg", target: 2 },
    ]);
    writeFileSync(f, '{"image": "a.png", "id": "x"}\n{"image": "b.png", "id": "x"}\n');
    expect(() => itemsFromManifest(f)).toThrow(/items 1 and 2 have the same id "x"/);
    writeFileSync(f, '{"image": "a.png", "target": -1}\n');
    expect(() => itemsFromManifest(f)).toThrow(/m.jsonl:1: target must be a class index/);
    const c = join(tmp, "m.csv");
    writeFileSync(c, "path,target\na.png,1\n");
    expect(() => itemsFromManifest(c)).toThrow(/must name an "image" column/);
    writeFileSync(c, 'image,window\na.png,"4,4"\n');
    expect(() => itemsFromManifest(c)).toThrow(/m.csv:2: window must be x,y,size/);
  });
});

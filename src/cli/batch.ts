/**
 * `salient batch`: attribution (or LAM) over a whole data set in one process, the model loaded
 * once and the items streamed. Per item and method it writes the map (.npy) and a JSON record
 * (scores, metrics, timing, completeness delta) under --out, each atomically. Items are split
 * into shards (--shard i/n, or the Slurm / Kubernetes index), random methods are seeded per item,
 * and --resume skips finished records, so any mix of shards, kills and restarts gives the
 * records of one uninterrupted run. `salient merge` turns the folder into one table.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SEEDS } from "../attribution/explainer/data.ts";
import { METHODS } from "../attribution/registry.ts";
import type { Model } from "../attribution/types.ts";
import {
  type CommandSpec,
  choiceFlag,
  didYouMean,
  numberFlag,
  parseFlags,
  UsageError,
} from "./args.ts";
import { checkFlags, METHOD_FLAGS } from "./attribute.ts";
import { ARCHS, resolveModel } from "./attribute-models.ts";
import { type ClassifierSetup, prepareItem, runMethod } from "./batch/classifier.ts";
import { explainerEvalPlan } from "./batch/explainer-eval.ts";
import { type BatchItem, itemSeed, loadItems } from "./batch/items.ts";
import { LAM_PATHS, type LamSetup, lamKeys, loadLamWindows, runLamItem } from "./batch/lam-run.ts";
import { BATCH_METRICS, DEFAULT_METRICS, parseMetrics } from "./batch/metrics.ts";
import {
  type BatchRecord,
  expectedKeys,
  mapPath,
  RUN_FILE,
  type RunInfo,
  readRecord,
  readRun,
  recordPath,
  removeLeftovers,
  settingsDiff,
} from "./batch/records.ts";
import { inShard, resolveShard, type Shard } from "./batch/shard.ts";
import { letSignalsIn, writeOutputs } from "./output-set.ts";
import { progressBar } from "./progress.ts";
import { SR_MODEL_NAMES } from "./sr-models.ts";
import { parseWholeNumber } from "./whole-number.ts";

export const BATCH_SPEC: CommandSpec = {
  name: "batch",
  summary:
    "attribution, LAM or the explainer evaluation over a data set: per item maps and a JSON record; sharded, resumable",
  synopsis:
    "(--images DIR | --manifest FILE) --model M (--methods a,b | --lam --windows FILE) --out DIR [--shard i/n] [--resume]\n  --explainer-eval --canvases N --model multi-fashion [--methods a,b] --out DIR [--shard i/n] [--resume]",
  flags: {
    images: { value: "DIR", help: "every PNG/JPEG in the folder, sorted by name" },
    manifest: {
      value: "FILE",
      help: "CSV (header: image[,target][,window][,id]) or JSON Lines; paths relative to it",
    },
    model: {
      value: "M",
      required: true,
      help: `a classifier (fashion-cnn | file.onnx | weights with --arch); with --explainer-eval multi-fashion; with --lam SR models a,b (${SR_MODEL_NAMES.join(", ")}, ...)`,
    },
    arch: {
      value: "NAME",
      help: `architecture of a weights file (${Object.keys(ARCHS).join(", ")})`,
    },
    channels: { value: "1|3", defaultText: "3", help: "input channels of an ONNX classifier" },
    methods: { value: "a,b", help: "attribution methods (salient methods)" },
    metrics: {
      value: "a,b",
      default: DEFAULT_METRICS,
      help: `metrics per map: ${Object.keys(BATCH_METRICS).join(", ")} ("" for none)`,
    },
    targets: {
      value: "FILE",
      defaultText: "the manifest's, else the predicted class",
      help: "one class index per line, in item order",
    },
    layer: { value: "NAME", defaultText: "the architecture's", help: "layer for CAM methods" },
    lam: { type: "boolean", help: "LAM of SR models instead of classifier attribution" },
    windows: {
      value: "FILE",
      help: 'LAM windows: a JSON file {"image": {"label": [x, y, size]}} (by image name), or "x,y,s;label=x,y,s" for all images',
    },
    scale: { value: "N", default: "2", help: "LAM: SR scale" },
    crop: { value: "N", help: "LAM: centre-crop the HR images to N x N first" },
    fold: { value: "N", default: "50", help: "LAM: path steps" },
    sigma: { value: "S", default: "1.2", help: "LAM: blur of the baseline" },
    path: { value: "KIND", default: "blur", help: `LAM: ${LAM_PATHS.join(" | ")}` },
    "explainer-eval": {
      type: "boolean",
      help: "NN-Explainer's comparison table: its methods on held-out multi-object canvases",
    },
    canvases: { value: "N", help: "explainer eval: canvases 0..N-1 of the held-out set" },
    "canvas-seed": {
      value: "S",
      defaultText: String(SEEDS.test),
      help: "explainer eval: the canvases' data-set seed (the held-out one)",
    },
    "curve-canvases": {
      value: "K",
      defaultText: "all",
      help: "explainer eval: deletion/insertion AUCs on the first K canvases only",
    },
    out: { value: "DIR", required: true, help: "the run folder (run.json, items/ID/KEY.npy|json)" },
    shard: { value: "i/n", help: "take items i, i+n, i+2n, ... (0 <= i < n)" },
    shards: {
      value: "N",
      help: "shard count when the index comes from JOB_COMPLETION_INDEX (Kubernetes)",
    },
    resume: { type: "boolean", help: "skip finished records (a killed run continues)" },
    seed: { value: "N", default: "0", help: "base seed; each item's seed mixes it with its id" },
    "batch-size": { value: "N", help: "rows per model call (memory, not results)" },
    ...METHOD_FLAGS,
  },
  notes: `Without --shard the shard comes from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (Slurm job
arrays) or JOB_COMPLETION_INDEX with --shards N (Kubernetes Indexed Jobs); otherwise all items.
An item whose image cannot be read or run gets a record with status "failed" and the error.
Prints a line per item (a progress bar on a terminal), then a JSON summary line.`,
};

type Values = Record<string, string | undefined>;

const list = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** The --targets file: one class index per line, as many as items. */
function applyTargets(items: BatchItem[], file: string): void {
  let lines: string[];
  try {
    lines = readFileSync(file, "utf8")
      .split(/\r?\n/)
      .filter((l) => l.trim() !== "");
  } catch (e) {
    throw new UsageError(`--targets ${file}: cannot read it (${(e as Error).message})`);
  }
  if (lines.length !== items.length)
    throw new UsageError(
      `--targets ${file}: ${lines.length} lines for ${items.length} items (one class index per item)`,
    );
  lines.forEach((l, i) => {
    const t = parseWholeNumber(l);
    if (t === undefined)
      throw new UsageError(`--targets ${file}:${i + 1}: not a class index: "${l.trim()}"`);
    items[i].target = t;
  });
}

/** The method options the user gave (they decide the results, so run.json keeps them). */
function givenOptions(v: Values): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...Object.keys(METHOD_FLAGS), "layer"])
    if (v[k] !== undefined && v[k] !== METHOD_FLAGS[k]?.default) out[k] = v[k]!;
  return out;
}

interface Plan {
  info: RunInfo;
  /** Runs the item's unfinished keys; returns one record per key. */
  runItem(item: BatchItem, keys: string[], seed: number, log: (s: string) => void): Promise<void>;
}

export interface BatchSummary {
  out: string;
  shard: string;
  items: number;
  ran: number;
  skipped: number;
  failed: number;
  seconds: number;
  items_per_second: number;
}

function failedRecord(item: BatchItem, key: string, e: unknown): BatchRecord {
  return { id: item.id, image: item.image, key, status: "failed", error: (e as Error).message };
}

function writeRecord(dir: string, rec: BatchRecord, npy?: Uint8Array): void {
  const files: [string, Uint8Array | string][] = [];
  if (npy) files.push([mapPath(dir, rec.id, rec.key), npy]);
  files.push([recordPath(dir, rec.id, rec.key), `${JSON.stringify(rec)}\n`]);
  writeOutputs(files);
}

function classifierPlan(v: Values, items: BatchItem[], dir: string): Plan {
  const methods = list(v.methods);
  if (!methods.length) throw new UsageError("batch needs --methods a,b (or --lam --windows FILE)");
  for (const m of methods)
    if (!Object.hasOwn(METHODS, m) || METHODS[m].noImage)
      throw new UsageError(
        `--methods: "${m}" is not an image method${didYouMean(m, Object.keys(METHODS), (s) => `"${s}"`)} (see salient methods)`,
      );
  if (new Set(methods).size !== methods.length)
    throw new UsageError(`--methods names a method twice: ${v.methods}`);
  checkFlags(v);
  const metrics = parseMetrics(v.metrics ?? "");
  const batchSize = numberFlag("batch-size", v["batch-size"], { integer: true, min: 1 });
  const info: RunInfo = {
    kind: "classifier",
    settings: {
      model: v.model,
      arch: v.arch ?? null,
      channels: v.channels ?? null,
      metrics,
      seed: Number(v.seed ?? 0),
      options: givenOptions(v),
    },
    items,
    keys: methods,
  };
  let setup: ClassifierSetup | null = null;
  const load = (): ClassifierSetup => {
    if (setup) return setup;
    const resolved = resolveModel(
      v.model!,
      v.arch,
      v.channels === undefined ? undefined : Number(v.channels),
    );
    const model: Model = (x) => resolved.module.call(x);
    setup = { resolved, model, values: v, metrics, batchSize };
    return setup;
  };
  return {
    info,
    async runItem(item, keys, seed, log) {
      const s = load();
      let input: Awaited<ReturnType<typeof prepareItem>>;
      try {
        input = await prepareItem(s, item, seed);
      } catch (e) {
        for (const k of keys) writeRecord(dir, failedRecord(item, k, e));
        return;
      }
      try {
        for (const k of keys) {
          await letSignalsIn();
          try {
            const out = await runMethod(s, input, k, seed, log);
            writeRecord(
              dir,
              { id: item.id, image: item.image, key: k, status: "ok", method: k, ...out.record },
              out.npy,
            );
          } catch (e) {
            writeRecord(dir, failedRecord(item, k, e));
          }
        }
      } finally {
        input.prepared.x.dispose();
      }
    },
  };
}

function lamPlan(v: Values, items: BatchItem[], dir: string): Plan {
  if (v.methods !== undefined) throw new UsageError("--lam runs LAM; drop --methods");
  if (!v.windows && items.some((it) => !it.window))
    throw new UsageError("--lam needs --windows FILE (or a window for every manifest row)");
  const setup: LamSetup = {
    models: list(v.model),
    arch: v.arch,
    scale: numberFlag("scale", v.scale, { integer: true, min: 2, max: 16 }, 2),
    crop: numberFlag("crop", v.crop, { integer: true, min: 2 }),
    fold: numberFlag("fold", v.fold, { integer: true, min: 1, max: 100000 }, 50),
    sigma: numberFlag("sigma", v.sigma, { min: 0, minExclusive: true, max: 100 }, 1.2),
    path: choiceFlag("path", v.path, LAM_PATHS, "blur"),
    batch: numberFlag("batch-size", v["batch-size"], { integer: true, min: 1, max: 4096 }),
    windows: v.windows ? loadLamWindows(v.windows) : null,
  };
  if (!setup.models.length) throw new UsageError("--model needs at least one SR model");
  const info: RunInfo = {
    kind: "lam",
    settings: {
      models: setup.models,
      arch: setup.arch ?? null,
      scale: setup.scale,
      crop: setup.crop ?? null,
      fold: setup.fold,
      sigma: setup.sigma,
      path: setup.path,
      windows: setup.windows,
    },
    items,
    ...lamKeys(setup, items),
  };
  return {
    info,
    runItem: (item, keys, _seed, log) =>
      runLamItem(setup, item, keys, log, (rec, npy) => writeRecord(dir, rec, npy)),
  };
}

/** The run.json of this folder, written if new; a different run there is an error. */
function claimFolder(dir: string, info: RunInfo): void {
  const existing = readRun(dir);
  if (existing) {
    const diff = settingsDiff(existing, info);
    if (diff)
      throw new UsageError(
        `${dir} holds a batch run with other settings (${diff} differs); use another --out`,
      );
    return;
  }
  writeOutputs([[join(dir, RUN_FILE), `${JSON.stringify(info, null, 1)}\n`]]);
}

export async function runBatch(
  args: string[],
  log: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BatchSummary> {
  const v = parseFlags(BATCH_SPEC, args);
  const dir = v.out!;
  const shard: Shard = resolveShard(v.shard, v.shards, env);
  numberFlag("seed", v.seed, { integer: true, min: 0 });
  let plan: Plan;
  let items: BatchItem[];
  if (v["explainer-eval"] === "true") {
    plan = explainerEvalPlan(v, (rec, npy) => writeRecord(dir, rec, npy));
    items = plan.info.items;
  } else {
    items = loadItems({ images: v.images, manifest: v.manifest });
    if (v.targets) applyTargets(items, v.targets);
    plan = v.lam === "true" ? lamPlan(v, items, dir) : classifierPlan(v, items, dir);
  }
  const mine = inShard(items, shard);
  const resume = v.resume === "true";
  const todo: { item: BatchItem; keys: string[] }[] = [];
  let started = 0;
  for (const item of mine) {
    const keys = expectedKeys(plan.info, item.id);
    const left = keys.filter((k) => readRecord(dir, item.id, k) === null);
    if (left.length < keys.length) started++;
    if (left.length) todo.push({ item, keys: left });
  }
  if (started && !resume)
    throw new UsageError(
      `${dir} already has results for ${started} of this shard's ${mine.length} items; pass --resume to continue, or use another --out`,
    );
  claimFolder(dir, plan.info);
  log(
    `batch: ${mine.length} of ${items.length} items (shard ${shard.index}/${shard.count}, ${shard.source}); ${mine.length - todo.length} finished before`,
  );
  const seed = Number(v.seed ?? 0);
  const bar = progressBar("batch", todo.length);
  const t0 = performance.now();
  let failed = 0;
  try {
    for (const [i, { item, keys }] of todo.entries()) {
      removeLeftovers(dir, item.id);
      await letSignalsIn();
      const ti = performance.now();
      await plan.runItem(item, keys, itemSeed(seed, item.id), log);
      const errors = keys
        .map((k) => readRecord(dir, item.id, k))
        .filter((r) => r?.status === "failed");
      if (errors.length) failed++;
      const rate = (i + 1) / ((performance.now() - t0) / 1000);
      bar.update(i + 1, undefined, `batch ${rate.toFixed(2)} items/s`);
      if (!process.stderr.isTTY)
        log(
          `[${i + 1}/${todo.length}] ${item.id}: ${errors.length ? `failed (${errors[0]!.error})` : "ok"} ${((performance.now() - ti) / 1000).toFixed(3)} s`,
        );
    }
  } finally {
    bar.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  const summary: BatchSummary = {
    out: dir,
    shard: `${shard.index}/${shard.count}`,
    items: mine.length,
    ran: todo.length,
    skipped: mine.length - todo.length,
    failed,
    seconds: Math.round(seconds * 1000) / 1000,
    items_per_second: todo.length ? Math.round((todo.length / seconds) * 1000) / 1000 : 0,
  };
  log(JSON.stringify(summary));
  return summary;
}

/**
 * `salient merge DIR`: the records of every shard of a batch run as one table, PREFIX.csv and
 * PREFIX.md (default DIR/table). For classifier runs a row per method: the mean and 95%
 * confidence interval (Student t) of every metric and of the completeness delta, and seconds per
 * image; for LAM runs a row per model: parameters, PSNR and DI overall and per window type; for
 * explainer-evaluation runs NN-Explainer's table (and PREFIX.json, its rows at full precision). It
 * says which items have no record yet (a shard still running or lost) and which failed.
 */
import { join } from "node:path";
import {
  aggregateEvaluations,
  type EvaluationRow,
  type ImageEvaluation,
} from "../attribution/explainer/evaluate.ts";
import { type CommandSpec, parseFlags, UsageError } from "./args.ts";
import { lamKeyPrefix } from "./batch/lam-run.ts";
import {
  type BatchRecord,
  expectedKeys,
  type RunInfo,
  readRecord,
  readRun,
} from "./batch/records.ts";
import { writeOutputs } from "./output-set.ts";

export const MERGE_SPEC: CommandSpec = {
  name: "merge",
  summary: "one table (CSV and Markdown) from the records of a batch run's shards",
  synopsis: "DIR [--out PREFIX]",
  flags: {
    out: {
      value: "PREFIX",
      defaultText: "DIR/table",
      help: "writes PREFIX.csv and PREFIX.md (and PREFIX.json for an explainer evaluation)",
    },
  },
  notes:
    "prints the Markdown table, the missing and failed items, then a JSON summary line.\nThe interval is mean +- t(0.975, n-1) s / sqrt(n) over the items with a value.",
};

/** t(0.975, df) for df = 1..30; beyond that the normal 1.96 is within 2%. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

export interface Stat {
  n: number;
  mean: number;
  /** Half-width of the 95% interval (NaN for fewer than 2 values). */
  ci: number;
}

export function meanCi(values: readonly number[]): Stat {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (!n) return { n, mean: Number.NaN, ci: Number.NaN };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, ci: Number.NaN };
  const s2 = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  const t = n - 1 <= T975.length ? T975[n - 2] : 1.96;
  return { n, mean, ci: (t * Math.sqrt(s2)) / Math.sqrt(n) };
}

export interface MergedTable {
  columns: string[];
  rows: (string | number)[][];
  missing: { id: string; key: string }[];
  failed: { id: string; key: string; error: string }[];
  /** Explainer-evaluation runs: the pooled rows at full precision (written as PREFIX.json). */
  evaluations?: EvaluationRow[];
}

/** Four significant digits; whole numbers (counts, parameters) as they are. */
const fmt = (x: number) =>
  !Number.isFinite(x) ? "" : Number.isInteger(x) ? String(x) : Number(x.toPrecision(4)).toString();

function collect(dir: string, info: RunInfo) {
  const byKey = new Map<string, BatchRecord[]>();
  const missing: MergedTable["missing"] = [];
  const failed: MergedTable["failed"] = [];
  for (const item of info.items)
    for (const key of expectedKeys(info, item.id)) {
      const r = readRecord(dir, item.id, key);
      if (!r) missing.push({ id: item.id, key });
      else if (r.status !== "ok") failed.push({ id: item.id, key, error: r.error ?? "" });
      else {
        const list = byKey.get(key) ?? [];
        list.push(r);
        byKey.set(key, list);
      }
    }
  return { byKey, missing, failed };
}

function classifierTable(dir: string, info: RunInfo): MergedTable {
  const { byKey, missing, failed } = collect(dir, info);
  const metrics = (info.settings.metrics as string[]) ?? [];
  const columns = ["method", "n", "failed"];
  for (const m of [...metrics, "delta"]) columns.push(`${m} mean`, `${m} ci95`);
  columns.push("s/image");
  const rows = info.keys.map((key) => {
    const recs = byKey.get(key) ?? [];
    const row: (string | number)[] = [key, recs.length, failed.filter((f) => f.key === key).length];
    for (const m of metrics) {
      const s = meanCi(recs.map((r) => (r.metrics as Record<string, number | null>)[m] ?? NaN));
      row.push(s.mean, s.ci);
    }
    const d = meanCi(recs.map((r) => (typeof r.delta === "number" ? Math.abs(r.delta) : NaN)));
    row.push(d.mean, d.ci);
    row.push(meanCi(recs.map((r) => r.seconds ?? NaN)).mean);
    return row;
  });
  // The delta is |completeness delta|: methods without one leave it empty.
  columns[columns.indexOf("delta mean")] = "|delta| mean";
  columns[columns.indexOf("delta ci95")] = "|delta| ci95";
  return { columns, rows, missing, failed };
}

function lamTable(dir: string, info: RunInfo): MergedTable {
  const { byKey, missing, failed } = collect(dir, info);
  const all = [...byKey.values()].flat();
  const models = info.settings.models as string[];
  const labels = [...new Set(all.map((r) => String(r.label)))].sort();
  const columns = ["model", "parameters", "n", "failed", "PSNR", "DI mean", "DI ci95"];
  for (const l of labels) columns.push(`DI ${l}`, `DI ${l} ci95`);
  columns.push("s/window");
  const rows = models.map((m) => {
    const recs = all.filter((r) => r.model === m);
    // PSNR is per image and model: one value per item, not per window.
    const psnrByItem = new Map(recs.map((r) => [r.id, r.psnr as number]));
    const di = meanCi(recs.map((r) => r.di as number));
    const row: (string | number)[] = [
      m,
      (recs[0]?.parameters as number) ?? NaN,
      recs.length,
      failed.filter((f) => f.key.startsWith(lamKeyPrefix(m))).length,
      meanCi([...psnrByItem.values()]).mean,
      di.mean,
      di.ci,
    ];
    for (const l of labels) {
      const s = meanCi(recs.filter((r) => String(r.label) === l).map((r) => r.di as number));
      row.push(s.mean, s.ci);
    }
    row.push(meanCi(recs.map((r) => r.seconds ?? NaN)).mean);
    return row;
  });
  return { columns, rows, missing, failed };
}

/**
 * NN-Explainer's table: per method the canvases' results pooled by `aggregateEvaluations` (so the
 * numbers are `evaluateMethod`'s), with 95% intervals for the per-image means (accuracy too: every
 * canvas makes the same number of class decisions) and per-pair deletion/insertion.
 */
function explainerTable(dir: string, info: RunInfo): MergedTable {
  const { byKey, missing, failed } = collect(dir, info);
  const columns = [
    "method",
    "n",
    "failed",
    "acc (masked) mean",
    "acc (masked) ci95",
    "F1 (masked)",
  ];
  for (const m of ["mean IoU", "cont. IoU", "saliency", "1-MAE"])
    columns.push(`${m} mean`, `${m} ci95`);
  columns.push("pointing", "deletion mean", "deletion ci95", "insertion mean", "insertion ci95");
  columns.push("pairs", "s/image");
  const evaluations: EvaluationRow[] = [];
  const rows = info.keys.map((key) => {
    const recs = byKey.get(key) ?? [];
    const nFailed = failed.filter((f) => f.key === key).length;
    const name = String(recs[0]?.method ?? key);
    if (!recs.length) return [name, 0, nFailed, ...columns.slice(3).map(() => NaN)];
    const per = recs.map((r) => r.evaluation as ImageEvaluation);
    const e = aggregateEvaluations(name, per);
    evaluations.push(e);
    const ci = (v: number[]) => meanCi(v).ci;
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const acc = per.map(
      (p) => (p.counts.tp + p.counts.tn) / (p.counts.tp + p.counts.tn + p.counts.fp + p.counts.fn),
    );
    return [
      name,
      per.length,
      nFailed,
      e.maskedAccuracy,
      ci(acc),
      e.maskedF1,
      e.meanIoU,
      ci(per.map((p) => mean(p.iou))),
      e.continuousIoU,
      ci(per.map((p) => p.continuousIoU)),
      e.saliency,
      ci(per.map((p) => p.saliency)),
      e.overlap,
      ci(per.map((p) => p.overlap)),
      e.pointing,
      e.deletionAuc ?? NaN,
      ci(per.flatMap((p) => p.deletionAuc ?? [])),
      e.insertionAuc ?? NaN,
      ci(per.flatMap((p) => p.insertionAuc ?? [])),
      e.curvePairs,
      e.secondsPerImage,
    ];
  });
  return { columns, rows, missing, failed, evaluations };
}

export function mergeTable(dir: string): MergedTable {
  const info = readRun(dir);
  if (!info) throw new UsageError(`${dir} has no run.json: not the --out folder of salient batch`);
  if (info.kind === "explainer-eval") return explainerTable(dir, info);
  return info.kind === "lam" ? lamTable(dir, info) : classifierTable(dir, info);
}

const cell = (v: string | number) => (typeof v === "number" ? fmt(v) : v);

export function tableCsv(t: MergedTable): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `${[t.columns, ...t.rows.map((r) => r.map(cell))].map((r) => r.map(q).join(",")).join("\n")}\n`;
}

/** The Markdown table, "mean ± ci" in one cell per metric. */
export function tableMarkdown(t: MergedTable): string {
  const head: string[] = [];
  const idx: number[][] = [];
  t.columns.forEach((c, i) => {
    if (c.endsWith(" ci95")) return;
    head.push(c.replace(/ mean$/, ""));
    idx.push(t.columns[i + 1] === `${c.replace(/ mean$/, "")} ci95` ? [i, i + 1] : [i]);
  });
  const body = t.rows.map((r) =>
    idx.map(([i, j]) => {
      const v = cell(r[i]);
      const ci = j === undefined ? "" : cell(r[j]);
      return ci ? `${v} ± ${ci}` : v;
    }),
  );
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...body.map((r) => `| ${r.join(" | ")} |`),
  ];
  return `${lines.join("\n")}\n`;
}

export async function runMerge(args: string[], log: (line: string) => void): Promise<MergedTable> {
  const [dir, ...rest] = args;
  if (dir === undefined || dir.startsWith("-"))
    throw new UsageError(
      "merge needs the batch run folder first: salient merge DIR [--out PREFIX]",
    );
  const v = parseFlags(MERGE_SPEC, rest);
  const prefix = (v.out ?? join(dir, "table")).replace(/\.(csv|md)$/i, "");
  const t = mergeTable(dir);
  const outputs: [string, string][] = [
    [`${prefix}.csv`, tableCsv(t)],
    [`${prefix}.md`, tableMarkdown(t)],
  ];
  if (t.evaluations)
    outputs.push([`${prefix}.json`, `${JSON.stringify({ rows: t.evaluations }, null, 1)}\n`]);
  const files = writeOutputs(outputs);
  log(tableMarkdown(t).trimEnd());
  const items = (list: { id: string }[]) => [...new Set(list.map((m) => m.id))];
  const missing = items(t.missing);
  if (missing.length)
    log(
      `missing: ${missing.length} items have no record yet: ${missing.slice(0, 20).join(", ")}${missing.length > 20 ? ", ..." : ""}`,
    );
  for (const f of t.failed.slice(0, 20)) log(`failed: ${f.id} ${f.key}: ${f.error}`);
  log(
    JSON.stringify({
      files,
      rows: t.rows.length,
      missing_items: missing,
      failed: t.failed.map((f) => ({ id: f.id, key: f.key })),
    }),
  );
  return t;
}

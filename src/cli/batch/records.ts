/**
 * The on-disk layout of a batch run, shared by `batch` (which writes it) and `merge` (which reads
 * it):
 *   DIR/run.json                 the settings and the full item list (identical for every shard)
 *   DIR/items/ID/KEY.npy         the map of item ID for KEY (a method, or a LAM model and window)
 *   DIR/items/ID/KEY.json        its record: scores, metrics, timing, completeness delta
 * A record's .json is written after its .npy, each atomically (temporary name, then rename), so
 * an existing .json means a finished record; a run killed part-way leaves at most temporaries,
 * which the next run of the same shard removes.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BatchItem } from "./items.ts";

export const RUN_FILE = "run.json";

export interface RunInfo {
  /** "classifier" (methods on a classifier), "lam" (SR models) or "explainer-eval" (canvases). */
  kind: "classifier" | "lam" | "explainer-eval";
  /** The settings that decide the results; a resumed or parallel shard must match them. */
  settings: Record<string, unknown>;
  items: BatchItem[];
  /** The record keys every item gets (the methods), unless item_keys names its own. */
  keys: string[];
  /** Per-item keys (LAM: model x window label, where windows differ per image). */
  item_keys?: Record<string, string[]>;
}

/** The records an item of the run should have. */
export const expectedKeys = (info: RunInfo, id: string): string[] =>
  info.item_keys?.[id] ?? info.keys;

export interface BatchRecord {
  id: string;
  image: string;
  key: string;
  status: "ok" | "failed";
  error?: string;
  seconds?: number;
  [field: string]: unknown;
}

export const itemDir = (dir: string, id: string) => join(dir, "items", id);
export const recordPath = (dir: string, id: string, key: string) =>
  join(itemDir(dir, id), `${key}.json`);
export const mapPath = (dir: string, id: string, key: string) =>
  join(itemDir(dir, id), `${key}.npy`);

/** The record, or null when it is missing (not finished). */
export function readRecord(dir: string, id: string, key: string): BatchRecord | null {
  const path = recordPath(dir, id, key);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as BatchRecord;
  } catch (e) {
    throw new Error(`${path}: not a batch record (${(e as Error).message})`);
  }
}

export function readRun(dir: string): RunInfo | null {
  const path = join(dir, RUN_FILE);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as RunInfo;
  } catch (e) {
    throw new Error(`${path}: not a batch run description (${(e as Error).message})`);
  }
}

/** Temporaries an interrupted writer left in an item's folder (".NAME.PID-N.tmp" / ".old"). */
export function removeLeftovers(dir: string, id: string): number {
  const d = itemDir(dir, id);
  if (!existsSync(d)) return 0;
  let n = 0;
  for (const f of readdirSync(d))
    if (f.startsWith(".") && /\.(tmp|old)$/.test(f)) {
      rmSync(join(d, f), { recursive: true, force: true });
      n++;
    }
  return n;
}

/** The first setting that differs between two runs, for the error message; null if none. */
export function settingsDiff(a: RunInfo, b: RunInfo): string | null {
  if (a.kind !== b.kind) return `kind (${a.kind} vs ${b.kind})`;
  const keys = new Set([...Object.keys(a.settings), ...Object.keys(b.settings)]);
  for (const k of keys) {
    const x = JSON.stringify(a.settings[k] ?? null);
    const y = JSON.stringify(b.settings[k] ?? null);
    if (x !== y) return `${k} (${x} vs ${y})`;
  }
  if (JSON.stringify(a.items) !== JSON.stringify(b.items)) return "the item list";
  if (
    JSON.stringify(a.keys) !== JSON.stringify(b.keys) ||
    JSON.stringify(a.item_keys ?? null) !== JSON.stringify(b.item_keys ?? null)
  )
    return "the methods or windows";
  return null;
}

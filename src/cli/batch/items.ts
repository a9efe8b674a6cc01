/**
 * The items of a batch run: every PNG/JPEG of a folder (sorted by name), or the rows of a
 * manifest (CSV with a header, or JSON Lines) naming an image and optionally a target class, a
 * window and an id. Paths in a manifest are relative to the manifest's folder. Each item gets an
 * id that is stable across shards and restarts (its position and file name, or the manifest's
 * id), which names its output files and seeds its random methods.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../args.ts";
import { isWholeNumber } from "../whole-number.ts";

export interface BatchItem {
  /** Safe as a file name; unique within the run. */
  id: string;
  image: string;
  target?: number;
  /** A LAM window x,y,size in SR pixels. */
  window?: [number, number, number];
  /** An explainer-evaluation canvas: its index in the seeded data set (`image` describes it). */
  canvas?: number;
}

const IMAGE = /\.(png|jpe?g)$/i;

/** A file-name-safe id from a label. */
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "_");

const defaultId = (index: number, image: string) =>
  `${String(index).padStart(6, "0")}-${safe(basename(image, extname(image)))}`;

/** Every PNG/JPEG directly in `dir`, sorted by name. */
export function itemsFromDir(dir: string): BatchItem[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new UsageError(`--images ${dir}: cannot read the folder (${(e as Error).message})`);
  }
  const images = names.filter((n) => IMAGE.test(n)).sort();
  if (!images.length)
    throw new UsageError(`--images ${dir}: the folder has no .png, .jpg or .jpeg files`);
  return images.map((n, i) => ({ id: defaultId(i, n), image: join(dir, n) }));
}

/** Splits one CSV line (RFC 4180 quoting: "a,b" and "" for a quote). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

type Row = Record<string, unknown>;

function parseWindowValue(v: unknown, where: string): [number, number, number] {
  const parts = Array.isArray(v)
    ? v.map(Number)
    : String(v)
        .split(/[\s,;:]+/)
        .filter(Boolean)
        .map(Number);
  if (parts.length !== 3 || !parts.every(isWholeNumber) || parts[2] < 1)
    throw new Error(
      `${where}: window must be x,y,size (integers, size >= 1), got ${JSON.stringify(v)}`,
    );
  return [parts[0], parts[1], parts[2]];
}

function itemOf(row: Row, index: number, base: string, where: string): BatchItem {
  const image = row.image;
  if (typeof image !== "string" || image === "")
    throw new Error(`${where}: no image (each row needs an "image" path)`);
  const path = isAbsolute(image) ? image : join(base, image);
  const item: BatchItem = {
    id: row.id === undefined || row.id === "" ? defaultId(index, image) : safe(String(row.id)),
    image: path,
  };
  if (row.target !== undefined && row.target !== "") {
    const t = Number(row.target);
    if (!isWholeNumber(t))
      throw new Error(
        `${where}: target must be a class index (integer >= 0), got ${JSON.stringify(row.target)}`,
      );
    item.target = t;
  }
  if (row.window !== undefined && row.window !== "")
    item.window = parseWindowValue(row.window, where);
  return item;
}

/** The rows of a CSV (header with an "image" column) or JSON Lines manifest. */
export function itemsFromManifest(file: string): BatchItem[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`--manifest ${file}: cannot read it (${(e as Error).message})`);
  }
  const base = dirname(resolve(file));
  const lines = text
    .split(/\r?\n/)
    .map((l, i) => ({ l, n: i + 1 }))
    .filter(({ l }) => l.trim() !== "" && !l.startsWith("#"));
  const rows: { row: Row; n: number }[] = [];
  if (/\.jsonl?$/i.test(file) || lines[0]?.l.trim().startsWith("{")) {
    for (const { l, n } of lines) {
      try {
        rows.push({ row: JSON.parse(l) as Row, n });
      } catch (e) {
        throw new Error(`${file}:${n}: not a JSON object (${(e as Error).message})`);
      }
    }
  } else {
    if (!lines.length) throw new Error(`${file}: the manifest is empty`);
    const header = csvFields(lines[0].l);
    if (!header.includes("image"))
      throw new Error(
        `${file}: the CSV header must name an "image" column (and optionally target, window, id), got ${header.join(",")}`,
      );
    for (const { l, n } of lines.slice(1)) {
      const fields = csvFields(l);
      rows.push({ row: Object.fromEntries(header.map((h, i) => [h, fields[i] ?? ""])), n });
    }
  }
  if (!rows.length) throw new Error(`${file}: the manifest has no items`);
  const items = rows.map(({ row, n }, i) => itemOf(row, i, base, `${file}:${n}`));
  const seen = new Map<string, number>();
  items.forEach((it, i) => {
    const before = seen.get(it.id);
    if (before !== undefined)
      throw new Error(`${file}: items ${before + 1} and ${i + 1} have the same id "${it.id}"`);
    seen.set(it.id, i);
  });
  return items;
}

export function loadItems(o: { images?: string; manifest?: string }): BatchItem[] {
  if (!o.images === !o.manifest)
    throw new UsageError("batch needs exactly one of --images DIR and --manifest FILE");
  if (o.images) {
    if (!statSync(o.images, { throwIfNoEntry: false })?.isDirectory())
      throw new UsageError(`--images ${o.images}: not a folder (give a manifest with --manifest)`);
    return itemsFromDir(o.images);
  }
  return itemsFromManifest(o.manifest!);
}

/** A stable 31-bit seed for an item: the run's seed mixed with the item id (FNV-1a). */
export function itemSeed(seed: number, id: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x7fffffff;
}

/**
 * `salient compare-models`: LAM and its diffusion index for several SR models on the same images
 * and windows, with each model's PSNR on those images; writes a table (Markdown and JSON) and
 * two plots (DI against model size and against PSNR), and reports the Spearman correlations
 * of DI with PSNR and with model size across models. Windows are shared by all images, or given
 * per image with labels (edge, texture, flat, ...) in a JSON file, which adds mean DI per label.
 */
import { existsSync, readFileSync } from "node:fs";
import { checkWindow, type LamWindow } from "../attribution/lam/window.ts";
import { spearman } from "../attribution/metrics/rank-correlation.ts";
import { tidy } from "../autodiff/tidy.ts";
import { psnr } from "../models/eval/psnr.ts";
import { clamp } from "../ops/unary.ts";
import { scatterSvg } from "../viz/scatter-svg.ts";
import { type CommandSpec, didYouMean, numberFlag, parseFlags, UsageError } from "./args.ts";
import { parseWindow, runLamOn } from "./lam.ts";
import { lamImagesFromHr } from "./lam-images.ts";
import { letSignalsIn, outPrefix, writeOutputs } from "./output-set.ts";
import { assetPath, BUNDLED_PHOTOS } from "./package-files.ts";
import { progressBar } from "./progress.ts";
import { resolveSrModel, SR_MODEL_NAMES, type SrModel } from "./sr-models.ts";

export const COMPARE_SPEC: CommandSpec = {
  name: "compare-models",
  summary: "LAM diffusion index against PSNR and model size, for several SR models",
  synopsis:
    "[--models a,b,...] [--images a,b,...] [--windows SPEC|FILE.json] [--fold 50] --out PREFIX",
  flags: {
    models: {
      value: "a,b,...",
      default: "bicubic,esrgan-slim,esrgan-medium",
      help: "SR models by name, or ARCH:WEIGHTS for a zoo architecture with a weights file",
    },
    arch: {
      value: "NAME",
      help: "zoo architecture of the weights files in --models that have no ARCH: prefix",
    },
    images: {
      value: "a,b,...",
      default: "astronaut,chelsea,coffee,rocket,brick",
      help: "bundled photo names or PNG/JPEG paths (HR)",
    },
    windows: {
      value: "SPEC",
      default: "24,24,16;56,56,16;88,88,16",
      help: 'HR windows "x,y,s;label=x,y,s" shared by all images, or a JSON file {"image": {"label": [x, y, size]}}',
    },
    fold: { value: "N", default: "50", help: "LAM path steps" },
    scale: { value: "N", default: "4", help: "SR scale" },
    crop: { value: "N", help: "centre-crop the HR images to N x N first" },
    out: {
      value: "PREFIX",
      required: true,
      help: "writes PREFIX.md, PREFIX.json, PREFIX-di-vs-size.svg, PREFIX-di-vs-psnr.svg",
    },
  },
  notes: "prints the Markdown table, then a JSON line with the files written.",
};

/** A LAM window with an optional label (edge, texture, flat, ...) that the table averages by. */
export interface StudyWindow extends LamWindow {
  label?: string;
}

/** Windows for every image, or per image (by the name given in --images). */
export type StudyWindows =
  | readonly StudyWindow[]
  | Readonly<Record<string, readonly StudyWindow[]>>;

/** "x,y,s;label=x,y,s" (shared by all images) or a JSON file of windows per image. */
export function parseStudyWindows(v: string): StudyWindows {
  if (v.toLowerCase().endsWith(".json")) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(v, "utf8"));
    } catch (e) {
      throw new UsageError(`--windows ${v}: ${(e as Error).message}`);
    }
    if (!data || typeof data !== "object" || Array.isArray(data))
      throw new Error(`${v}: expected {"image": {"label": [x, y, size], ...}, ...}`);
    const out: Record<string, StudyWindow[]> = {};
    for (const [image, labelled] of Object.entries(data as Record<string, unknown>)) {
      if (!labelled || typeof labelled !== "object" || Array.isArray(labelled))
        throw new Error(`${v}: windows of "${image}" must be {"label": [x, y, size], ...}`);
      out[image] = Object.entries(labelled as Record<string, unknown>).map(([label, w]) => {
        if (!Array.isArray(w)) throw new Error(`${v}: ${image}.${label} must be [x, y, size]`);
        return { ...parseWindow(w.join(",")), label };
      });
    }
    return out;
  }
  return v.split(";").map((part) => {
    const eq = part.indexOf("=");
    return eq < 0
      ? parseWindow(part)
      : { ...parseWindow(part.slice(eq + 1)), label: part.slice(0, eq).trim() };
  });
}

function windowsOf(windows: StudyWindows, image: string): readonly StudyWindow[] {
  if (Array.isArray(windows)) return windows;
  const own = (windows as Record<string, readonly StudyWindow[]>)[image];
  if (!own?.length) throw new Error(`--windows: no windows given for image "${image}"`);
  return own;
}

export interface ModelRow {
  model: string;
  parameters: number;
  psnr: number;
  di: number;
  /** Mean DI over the windows with each label (when windows are labelled). */
  diByLabel: Record<string, number>;
  perImage: { image: string; psnr: number; di: number[]; windows: StudyWindow[] }[];
}

function modelSpec(entry: string, scale: number, arch?: string): SrModel {
  const i = entry.indexOf(":");
  if (i > 0 && !existsSync(entry))
    return resolveSrModel({ model: entry.slice(i + 1), arch: entry.slice(0, i), scale });
  return resolveSrModel({ model: entry, scale, arch });
}

const PHOTOS = BUNDLED_PHOTOS;

function imagePath(name: string): string {
  if (existsSync(name)) return name;
  if (!PHOTOS.includes(name))
    throw new UsageError(
      `--images: "${name}" is neither a bundled photo (${PHOTOS.join(", ")}) nor an existing file${didYouMean(name, PHOTOS, (s) => `"${s}"`)}`,
    );
  return assetPath("photos", `${name}.png`);
}

/** A model entry that cannot resolve fails here, before any LAM run. */
function checkModelEntry(entry: string): void {
  const i = entry.indexOf(":");
  const file = i > 0 && !existsSync(entry) ? entry.slice(i + 1) : entry;
  if ((SR_MODEL_NAMES as readonly string[]).includes(file) || existsSync(file)) return;
  throw new UsageError(
    `--models: "${entry}" is neither an SR model (${SR_MODEL_NAMES.join(", ")}) nor an existing file (ARCH:WEIGHTS for a zoo architecture)${didYouMean(entry, SR_MODEL_NAMES, (s) => `"${s}"`)}`,
  );
}

export async function compareModels(o: {
  models: string[];
  images: string[];
  windows: StudyWindows;
  fold: number;
  scale: number;
  /** Zoo architecture of weights files given without an ARCH: prefix. */
  arch?: string;
  /** Centre-crop the HR images to crop x crop first. */
  crop?: number;
  log: (line: string) => void;
  /** Called before each LAM run with the runs done, the total, and what runs next. */
  onLam?: (done: number, total: number, label: string) => void;
}): Promise<{ rows: ModelRow[]; spearmanDiPsnr: number; spearmanDiSize: number }> {
  // Check every model name and image's windows before any (long) LAM run starts.
  for (const entry of o.models) checkModelEntry(entry);
  for (const name of o.images) {
    const images = lamImagesFromHr(imagePath(name), o.scale, o.crop);
    const [, , h, w] = images.lr.shape;
    images.lr.dispose();
    for (const win of windowsOf(o.windows, name)) {
      try {
        checkWindow(win, h * o.scale, w * o.scale);
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`);
      }
    }
  }
  const rows: ModelRow[] = [];
  const total =
    o.models.length * o.images.reduce((n, name) => n + windowsOf(o.windows, name).length, 0);
  let done = 0;
  for (const entry of o.models) {
    const model = modelSpec(entry, o.scale, o.arch);
    const perImage: ModelRow["perImage"] = [];
    for (const name of o.images) {
      const images = lamImagesFromHr(imagePath(name), o.scale, o.crop);
      try {
        const [, , h, w] = images.lr.shape;
        const H = h * o.scale;
        const W = w * o.scale;
        const sr = tidy(() => clamp(model.run(images.lr), 0, 1).dataSync());
        const hr = images.hr!;
        const hrPlanar = new Float64Array(3 * H * W);
        for (let p = 0; p < H * W; p++)
          for (let c = 0; c < 3; c++) hrPlanar[c * H * W + p] = hr.data[p * 3 + c];
        const p = psnr(
          Float64Array.from(sr, (v) => Math.round(255 * v)),
          hrPlanar,
          H,
          W,
          { shave: o.scale },
        );
        const dis: number[] = [];
        const windows = windowsOf(o.windows, name);
        for (const window of windows) {
          o.onLam?.(done++, total, `${model.name} on ${name}`);
          await letSignalsIn();
          const run = await runLamOn(model, images, { window, fold: o.fold });
          dis.push(run.summary.diffusion_index as number);
        }
        perImage.push({ image: name, psnr: p, di: dis, windows: windows.map((w) => ({ ...w })) });
        o.log(
          `${model.name} on ${name}: PSNR ${p.toFixed(2)} dB, DI ${dis.map((d) => d.toFixed(2)).join(", ")}`,
        );
      } finally {
        images.lr.dispose();
      }
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const byLabel = new Map<string, number[]>();
    for (const r of perImage)
      r.windows.forEach((w, i) => {
        if (w.label !== undefined) byLabel.set(w.label, [...(byLabel.get(w.label) ?? []), r.di[i]]);
      });
    rows.push({
      model: model.name,
      parameters: model.parameters,
      psnr: mean(perImage.map((r) => r.psnr)),
      di: mean(perImage.flatMap((r) => r.di)),
      diByLabel: Object.fromEntries([...byLabel].map(([k, v]) => [k, mean(v)])),
      perImage,
    });
  }
  const rho = (y: (r: ModelRow) => number) =>
    rows.length > 2
      ? spearman(
          rows.map((r) => r.di),
          rows.map(y),
        )
      : Number.NaN;
  return { rows, spearmanDiPsnr: rho((r) => r.psnr), spearmanDiSize: rho((r) => r.parameters) };
}

function comparisonMarkdown(
  rows: readonly ModelRow[],
  rho: number,
  rhoSize: number = Number.NaN,
): string {
  const labels = [...new Set(rows.flatMap((r) => Object.keys(r.diByLabel ?? {})))];
  const images = rows[0]?.perImage.map((p) => p.image) ?? [];
  const fmt = (v: number) => (Number.isNaN(v) ? "n/a (fewer than 3 models)" : v.toFixed(3));
  const lines = [
    `| model | parameters | mean PSNR (dB, Y) | mean DI |${labels.map((l) => ` DI ${l} |`).join("")}`,
    `|---|---:|---:|---:|${labels.map(() => "---:|").join("")}`,
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.parameters} | ${r.psnr.toFixed(2)} | ${r.di.toFixed(2)} |${labels.map((l) => ` ${r.diByLabel?.[l]?.toFixed(2) ?? ""} |`).join("")}`,
    ),
    "",
    `Spearman correlation between DI and PSNR across models: ${fmt(rho)}`,
  ];
  if (!Number.isNaN(rhoSize))
    lines.push("", `Spearman correlation between DI and parameters across models: ${fmt(rhoSize)}`);
  if (labels.length) {
    lines.push(
      "",
      `| model |${images.map((i) => ` PSNR ${i} |`).join("")}${images.map((i) => ` DI ${i} |`).join("")}`,
      `|---|${images.map(() => "---:|").join("")}${images.map(() => "---:|").join("")}`,
      ...rows.map(
        (r) =>
          `| ${r.model} |${r.perImage.map((p) => ` ${p.psnr.toFixed(2)} |`).join("")}${r.perImage.map((p) => ` ${p.di.map((d, i) => `${p.windows[i].label ?? ""} ${d.toFixed(2)}`.trim()).join(", ")} |`).join("")}`,
      ),
    );
  }
  return lines.join("\n");
}

export async function runCompareModels(
  args: string[],
  log: (line: string) => void,
): Promise<string[]> {
  const v = parseFlags(COMPARE_SPEC, args);
  const fold = numberFlag("fold", v.fold, { integer: true, min: 1, max: 100000 }, 50);
  const scale = numberFlag("scale", v.scale, { integer: true, min: 2, max: 16 }, 4);
  const crop = numberFlag("crop", v.crop, { integer: true, min: 2 });
  const windows = parseStudyWindows(v.windows!);
  const models = v.models!.split(",").map((s) => s.trim());
  const images = v.images!.split(",").map((s) => s.trim());
  const prefix = outPrefix(v.out!, [".md", ".json"]);
  const bar = progressBar("compare-models LAM runs", 1);
  let result: Awaited<ReturnType<typeof compareModels>>;
  try {
    result = await compareModels({
      models,
      images,
      windows,
      fold,
      scale,
      arch: v.arch,
      crop,
      log,
      onLam: (done, total, label) => bar.update(done, total, label),
    });
  } finally {
    bar.stop();
  }
  const { rows, spearmanDiPsnr, spearmanDiSize } = result;
  const md = comparisonMarkdown(rows, spearmanDiPsnr, spearmanDiSize);
  const points = (y: (r: ModelRow) => number, x: (r: ModelRow) => number) =>
    rows.map((r) => ({ x: x(r), y: y(r), label: r.model }));
  const json = JSON.stringify(
    {
      rows,
      spearman_di_psnr: spearmanDiPsnr,
      spearman_di_size: spearmanDiSize,
      fold,
      scale,
      crop: crop ?? null,
      windows: v.windows,
    },
    null,
    2,
  );
  const bySize = scatterSvg(
    points(
      (r) => r.di,
      (r) => r.parameters,
    ),
    {
      title: "Diffusion index vs model size",
      xLabel: "parameters (log)",
      yLabel: "mean DI",
      logX: true,
    },
  );
  const byPsnr = scatterSvg(
    points(
      (r) => r.di,
      (r) => r.psnr,
    ),
    { title: "Diffusion index vs PSNR", xLabel: "mean PSNR (dB)", yLabel: "mean DI" },
  );
  const files = writeOutputs([
    [`${prefix}.md`, `${md}\n`],
    [`${prefix}.json`, json],
    [`${prefix}-di-vs-size.svg`, bySize],
    [`${prefix}-di-vs-psnr.svg`, byPsnr],
  ]);
  log(md);
  log(JSON.stringify({ files }));
  return files;
}

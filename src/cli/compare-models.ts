/**
 * `salient compare-models`: LAM and its diffusion index for several SR models on the same images
 * and windows, with each model's PSNR on those images; writes a table (Markdown and JSON) and
 * two plots (DI against model size and against PSNR), and reports the Spearman correlation
 * between DI and PSNR across models.
 */
import { existsSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { spearman } from "../attribution/metrics/rank-correlation.ts";
import { tidy } from "../autodiff/tidy.ts";
import { psnr } from "../models/eval/psnr.ts";
import { clamp } from "../ops/unary.ts";
import { scatterSvg } from "../viz/scatter-svg.ts";
import { parseWindow, runLamOn } from "./lam.ts";
import { lamImagesFromHr } from "./lam-images.ts";
import { assetPath } from "./report.ts";
import { resolveSrModel, type SrModel } from "./sr-models.ts";

export const COMPARE_USAGE = `usage: salient compare-models [--models bicubic,esrgan-slim,ARCH:WEIGHTS,...] [--images a,b,...]
                              [--windows "x,y,s;x,y,s"] [--fold 50] [--scale 4] [--crop N] --out PREFIX
  images: bundled photo names (astronaut, chelsea, coffee, rocket, brick) or PNG/JPEG paths (HR)
  writes PREFIX.md, PREFIX.json, PREFIX-di-vs-size.svg, PREFIX-di-vs-psnr.svg
`;

export interface ModelRow {
  model: string;
  parameters: number;
  psnr: number;
  di: number;
  perImage: { image: string; psnr: number; di: number[] }[];
}

function modelSpec(entry: string, scale: number): SrModel {
  const i = entry.indexOf(":");
  if (i > 0 && !existsSync(entry))
    return resolveSrModel({ model: entry.slice(i + 1), arch: entry.slice(0, i), scale });
  return resolveSrModel({ model: entry, scale });
}

function imagePath(name: string): string {
  return existsSync(name) ? name : assetPath("photos", `${name}.png`);
}

export async function compareModels(o: {
  models: string[];
  images: string[];
  windows: { x: number; y: number; size: number }[];
  fold: number;
  scale: number;
  /** Centre-crop the HR images to crop x crop first. */
  crop?: number;
  log: (line: string) => void;
}): Promise<{ rows: ModelRow[]; spearmanDiPsnr: number }> {
  const rows: ModelRow[] = [];
  for (const entry of o.models) {
    const model = modelSpec(entry, o.scale);
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
        for (const window of o.windows) {
          const run = await runLamOn(model, images, { window, fold: o.fold });
          dis.push(run.summary.diffusion_index as number);
        }
        perImage.push({ image: name, psnr: p, di: dis });
        o.log(
          `${model.name} on ${name}: PSNR ${p.toFixed(2)} dB, DI ${dis.map((d) => d.toFixed(2)).join(", ")}`,
        );
      } finally {
        images.lr.dispose();
      }
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    rows.push({
      model: model.name,
      parameters: model.parameters,
      psnr: mean(perImage.map((r) => r.psnr)),
      di: mean(perImage.flatMap((r) => r.di)),
      perImage,
    });
  }
  const spearmanDiPsnr =
    rows.length > 2
      ? spearman(
          rows.map((r) => r.di),
          rows.map((r) => r.psnr),
        )
      : Number.NaN;
  return { rows, spearmanDiPsnr };
}

export function comparisonMarkdown(rows: readonly ModelRow[], rho: number): string {
  const lines = [
    "| model | parameters | mean PSNR (dB, Y) | mean DI |",
    "|---|---:|---:|---:|",
    ...rows.map(
      (r) => `| ${r.model} | ${r.parameters} | ${r.psnr.toFixed(2)} | ${r.di.toFixed(2)} |`,
    ),
    "",
    `Spearman correlation between DI and PSNR across models: ${Number.isNaN(rho) ? "n/a (fewer than 3 models)" : rho.toFixed(3)}`,
  ];
  return lines.join("\n");
}

export async function runCompareModels(args: string[], log: (line: string) => void): Promise<void> {
  const { values: v } = parseArgs({
    args,
    options: {
      models: { type: "string", default: "bicubic,esrgan-slim,esrgan-medium" },
      images: { type: "string", default: "astronaut,chelsea,coffee,rocket,brick" },
      windows: { type: "string", default: "24,24,16;56,56,16;88,88,16" },
      fold: { type: "string", default: "50" },
      scale: { type: "string", default: "4" },
      crop: { type: "string" },
      out: { type: "string" },
    },
  });
  if (!v.out) throw new Error(`--out PREFIX is required\n${COMPARE_USAGE}`);
  const fold = Number(v.fold);
  if (!Number.isInteger(fold) || fold < 1)
    throw new Error(`--fold must be a positive integer, got "${v.fold}"`);
  const { rows, spearmanDiPsnr } = await compareModels({
    models: v.models.split(",").map((s) => s.trim()),
    images: v.images.split(",").map((s) => s.trim()),
    windows: v.windows.split(";").map(parseWindow),
    fold,
    scale: Number(v.scale),
    crop: v.crop === undefined ? undefined : Number(v.crop),
    log,
  });
  const md = comparisonMarkdown(rows, spearmanDiPsnr);
  const points = (y: (r: ModelRow) => number, x: (r: ModelRow) => number) =>
    rows.map((r) => ({ x: x(r), y: y(r), label: r.model }));
  writeFileSync(`${v.out}.md`, `${md}\n`);
  writeFileSync(
    `${v.out}.json`,
    JSON.stringify({ rows, spearman_di_psnr: spearmanDiPsnr, fold, windows: v.windows }, null, 2),
  );
  writeFileSync(
    `${v.out}-di-vs-size.svg`,
    scatterSvg(
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
    ),
  );
  writeFileSync(
    `${v.out}-di-vs-psnr.svg`,
    scatterSvg(
      points(
        (r) => r.di,
        (r) => r.psnr,
      ),
      { title: "Diffusion index vs PSNR", xLabel: "mean PSNR (dB)", yLabel: "mean DI" },
    ),
  );
  log(md);
}

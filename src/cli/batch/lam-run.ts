/**
 * LAM items of a batch run: each item is an HR image (cropped, downscaled as `salient lam`
 * does), attributed for every SR model (each loaded once per process) and every window, with
 * the record holding DI, Gini, the completeness delta, timing and the model's PSNR on the image.
 */
import { basename, extname } from "node:path";
import type { LamPathKind } from "../../attribution/lam/paths.ts";
import { tidy } from "../../autodiff/tidy.ts";
import { psnr } from "../../models/eval/psnr.ts";
import { clamp } from "../../ops/unary.ts";
import { encodeNpy } from "../../viz/npy.ts";
import { parseStudyWindows, type StudyWindow, type StudyWindows } from "../compare-models.ts";
import { checkWindowFits, runLamOn } from "../lam.ts";
import { lamImagesFromHr } from "../lam-images.ts";
import { resolveSrModel, type SrModel } from "../sr-models.ts";
import type { BatchItem } from "./items.ts";
import type { BatchRecord } from "./records.ts";

export const LAM_PATHS: readonly LamPathKind[] = ["blur", "linear-black", "linear-blur"];

export interface LamSetup {
  models: string[];
  arch?: string;
  scale: number;
  crop?: number;
  fold: number;
  sigma: number;
  path: LamPathKind;
  batch?: number;
  windows: StudyWindows | null;
}

export const loadLamWindows = (file: string): StudyWindows => parseStudyWindows(file);

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_");

/** The windows of one item: its manifest window, or the file's (shared, or by image name). */
function windowsOf(s: LamSetup, item: BatchItem): StudyWindow[] {
  if (item.window) {
    const [x, y, size] = item.window;
    return [{ x, y, size, label: "window" }];
  }
  const w = s.windows!;
  if (Array.isArray(w)) return w.map((v, i) => ({ ...v, label: v.label ?? `w${i}` }));
  const name = basename(item.image, extname(item.image));
  const own = (w as Record<string, readonly StudyWindow[]>)[name];
  if (!own?.length) throw new Error(`--windows: no windows for image "${name}" (${item.image})`);
  return own.map((v, i) => ({ ...v, label: v.label ?? `w${i}` }));
}

/** Records of a model are named MODEL.LABEL (file-name safe). */
export const lamKeyPrefix = (model: string) => `${safe(model)}.`;
const keyOf = (model: string, label: string) => `${lamKeyPrefix(model)}${safe(label)}`;

/** Every item's record keys (model x window label); checked before any model runs. */
export function lamKeys(s: LamSetup, items: BatchItem[]) {
  const item_keys: Record<string, string[]> = {};
  for (const item of items)
    item_keys[item.id] = s.models.flatMap((m) => windowsOf(s, item).map((w) => keyOf(m, w.label!)));
  return { keys: [] as string[], item_keys };
}

const loaded = new Map<string, SrModel>();

function modelOf(s: LamSetup, name: string): SrModel {
  const k = `${name}\u0000${s.arch ?? ""}\u0000${s.scale}`;
  let m = loaded.get(k);
  if (!m) {
    m = resolveSrModel({ model: name, scale: s.scale, arch: s.arch });
    loaded.set(k, m);
  }
  return m;
}

/** PSNR (RGB, shaved by the scale) of the model's SR image against the HR crop. */
function psnrOf(model: SrModel, images: ReturnType<typeof lamImagesFromHr>, scale: number): number {
  const [, , h, w] = images.lr.shape;
  const H = h * scale;
  const W = w * scale;
  const sr = tidy(() => clamp(model.run(images.lr), 0, 1).dataSync());
  const hr = images.hr!;
  const hrPlanar = new Float64Array(3 * H * W);
  for (let p = 0; p < H * W; p++)
    for (let c = 0; c < 3; c++) hrPlanar[c * H * W + p] = hr.data[p * 3 + c];
  return psnr(
    Float64Array.from(sr, (v) => Math.round(255 * v)),
    hrPlanar,
    H,
    W,
    { shave: scale },
  );
}

export async function runLamItem(
  s: LamSetup,
  item: BatchItem,
  keys: string[],
  log: (line: string) => void,
  write: (rec: BatchRecord, npy?: Uint8Array) => void,
): Promise<void> {
  const fail = (key: string, e: unknown) =>
    write({ id: item.id, image: item.image, key, status: "failed", error: (e as Error).message });
  let images: ReturnType<typeof lamImagesFromHr>;
  try {
    images = lamImagesFromHr(item.image, s.scale, s.crop);
  } catch (e) {
    for (const k of keys) fail(k, e);
    return;
  }
  try {
    const [, , h, w] = images.lr.shape;
    for (const name of s.models) {
      const windows = windowsOf(s, item).filter((win) => keys.includes(keyOf(name, win.label!)));
      if (!windows.length) continue;
      let model: SrModel;
      let p: number;
      try {
        model = modelOf(s, name);
        p = psnrOf(model, images, s.scale);
      } catch (e) {
        for (const win of windows) fail(keyOf(name, win.label!), e);
        continue;
      }
      for (const win of windows) {
        const key = keyOf(name, win.label!);
        try {
          const window = { x: win.x, y: win.y, size: win.size };
          checkWindowFits(window, h, w, s.scale);
          const run = await runLamOn(model, images, {
            window,
            fold: s.fold,
            sigma: s.sigma,
            path: s.path,
            batch: s.batch,
          });
          const sum = run.summary;
          write(
            {
              id: item.id,
              image: item.image,
              key,
              status: "ok",
              model: name,
              label: win.label,
              window: [win.x, win.y, win.size],
              di: sum.diffusion_index,
              gini: sum.gini,
              pixels_95: sum.pixels_95,
              delta: sum.delta,
              psnr: p,
              parameters: model.parameters,
              seconds: sum.seconds as number,
            },
            encodeNpy(run.map, run.shape),
          );
        } catch (e) {
          fail(key, e);
        }
      }
      log(`  ${item.id} ${name}: ${windows.length} windows`);
    }
  } finally {
    images.lr.dispose();
  }
}

/**
 * `salient compare-models`: window parsing and validation, per-label averaging, correlations; each
 * reported PSNR recomputed from its formula on a float64 bicubic upscale, each DI from the LAM map
 * with the Gini coefficient written as a mean absolute difference.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { lam } from "../../src/attribution/lam/lam.ts";
import { compareModels, parseStudyWindows } from "../../src/cli/compare-models.ts";
import { lamImagesFromHr } from "../../src/cli/lam-images.ts";
import { assetPath } from "../../src/cli/package-files.ts";
import { resize, type Tensor } from "../../src/index.ts";
import { diffusionIndexByPairs } from "../reference/lam.ts";
import { nd } from "../reference/nd.ts";
import { resizeRef } from "../reference/resample.ts";

const bicubicX2 = (x: Tensor) => resize(x, [x.shape[2] * 2, x.shape[3] * 2], { mode: "bicubic" });

/** The 32x32 centre crop of a bundled photo, its x2 LR image, and a float64 bicubic upscale. */
function bicubicByHand(name: string) {
  const { lr, hr } = lamImagesFromHr(assetPath("photos", `${name}.png`), 2, 32);
  const up = resizeRef(nd([1, 3, 16, 16], lr.dataSync()), 32, 32, "bicubic");
  // Clipped to [0, 1] and quantised to 8 bits, as the saved SR image would be ([3, H, W] planar).
  const sr = Float64Array.from(up.data, (v) => Math.round(255 * Math.min(1, Math.max(0, v))));
  return { lr, hr, sr };
}

/**
 * PSNR on BT.601 luma (Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 for 8-bit R, G, B), a
 * `shave`-pixel border left out, peak 255: the super-resolution papers' convention.
 */
function psnrY(
  srPlanar: Float64Array,
  hrInterleaved: Uint8Array,
  h: number,
  w: number,
  shave: number,
) {
  const y = (r: number, g: number, b: number) => 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
  let se = 0;
  let n = 0;
  for (let r = shave; r < h - shave; r++)
    for (let c = shave; c < w - shave; c++) {
      const p = r * w + c;
      const a = y(srPlanar[p], srPlanar[h * w + p], srPlanar[2 * h * w + p]);
      const b = y(hrInterleaved[3 * p], hrInterleaved[3 * p + 1], hrInterleaved[3 * p + 2]);
      se += (a - b) ** 2;
      n++;
    }
  return 10 * Math.log10((255 * 255) / (se / n));
}

describe("parseStudyWindows", () => {
  test("reads shared windows, labelled or not", () => {
    expect(parseStudyWindows("4,6,8;edge=10,12,4")).toEqual([
      { x: 4, y: 6, size: 8 },
      { x: 10, y: 12, size: 4, label: "edge" },
    ]);
  });

  test("reads per-image labelled windows from a JSON file", () => {
    const f = join(mkdtempSync(join(tmpdir(), "salient-cmp-")), "w.json");
    writeFileSync(f, JSON.stringify({ coffee: { edge: [1, 2, 4], flat: [8, 8, 4] } }));
    expect(parseStudyWindows(f)).toEqual({
      coffee: [
        { x: 1, y: 2, size: 4, label: "edge" },
        { x: 8, y: 8, size: 4, label: "flat" },
      ],
    });
  });

  test("names the file and the entry that is malformed", () => {
    const dir = mkdtempSync(join(tmpdir(), "salient-cmp-"));
    const list = join(dir, "list.json");
    writeFileSync(list, "[[1, 2, 4]]");
    expect(() => parseStudyWindows(list)).toThrow(`${list}: expected {"image"`);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ coffee: { edge: "1,2,4" } }));
    expect(() => parseStudyWindows(bad)).toThrow(`${bad}: coffee.edge must be [x, y, size]`);
  });
});

describe("compareModels", () => {
  const base = { models: ["bicubic"], fold: 4, scale: 2, crop: 32 };

  test("refuses a window outside an image before running any LAM", async () => {
    const lines: string[] = [];
    await expect(
      compareModels({
        ...base,
        images: ["coffee", "brick"],
        windows: { coffee: [{ x: 0, y: 0, size: 8 }], brick: [{ x: 30, y: 0, size: 8 }] },
        log: (l) => lines.push(l),
      }),
    ).rejects.toThrow(/^brick: /);
    expect(lines).toEqual([]);
  });

  test("refuses an image that has no windows", async () => {
    await expect(
      compareModels({
        ...base,
        images: ["coffee"],
        windows: { chelsea: [{ x: 0, y: 0, size: 8 }] },
        log: () => {},
      }),
    ).rejects.toThrow('no windows given for image "coffee"');
  });

  test("averages DI per label over images, and needs three models for a correlation", async () => {
    const { rows, spearmanDiPsnr } = await compareModels({
      ...base,
      images: ["coffee", "brick"],
      windows: [
        { x: 4, y: 4, size: 8, label: "a" },
        { x: 16, y: 12, size: 8, label: "b" },
      ],
      log: () => {},
    });
    const [r] = rows;
    expect(r.parameters).toBe(0);
    expect(r.perImage.map((p) => p.image)).toEqual(["coffee", "brick"]);
    for (const p of r.perImage) {
      const { lr, hr, sr } = bicubicByHand(p.image);
      expect(p.psnr).toBeCloseTo(psnrY(sr, hr!.data, 32, 32, 2), 6);
      for (const [i, window] of p.windows.entries()) {
        const map = await lam(bicubicX2, lr, { window, fold: 4 });
        expect(p.di[i]).toBeCloseTo(diffusionIndexByPairs(map.map.dataSync(), 3, 16, 16), 8);
        map.map.dispose();
      }
      lr.dispose();
    }
    const [c, b] = r.perImage;
    expect(r.diByLabel.a).toBeCloseTo((c.di[0] + b.di[0]) / 2, 12);
    expect(r.diByLabel.b).toBeCloseTo((c.di[1] + b.di[1]) / 2, 12);
    expect(r.di).toBeCloseTo((c.di[0] + c.di[1] + b.di[0] + b.di[1]) / 4, 12);
    expect(r.psnr).toBeCloseTo((c.psnr + b.psnr) / 2, 12);
    expect(spearmanDiPsnr).toBeNaN();
  });
});

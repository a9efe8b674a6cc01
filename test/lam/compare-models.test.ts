/** `salient compare-models`: window parsing and validation, per-label averaging, correlations. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { compareModels, parseStudyWindows } from "../../src/cli/compare-models.ts";

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
      expect(Number.isFinite(p.psnr) && p.psnr > 15).toBe(true);
      for (const d of p.di) expect(d > 0 && d <= 100).toBe(true);
    }
    const [c, b] = r.perImage;
    expect(r.diByLabel.a).toBeCloseTo((c.di[0] + b.di[0]) / 2, 12);
    expect(r.diByLabel.b).toBeCloseTo((c.di[1] + b.di[1]) / 2, 12);
    expect(r.di).toBeCloseTo((c.di[0] + c.di[1] + b.di[0] + b.di[1]) / 4, 12);
    expect(r.psnr).toBeCloseTo((c.psnr + b.psnr) / 2, 12);
    expect(spearmanDiPsnr).toBeNaN();
  });
});

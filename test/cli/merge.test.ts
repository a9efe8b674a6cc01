/**
 * `salient merge` on run folders written here by hand, so every expected mean and interval is
 * computed from the numbers in the test (t(0.975, 3) = 3.182 for four values).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { meanCi, runMerge } from "../../src/cli/merge.ts";

let tmp: string;

function write(dir: string, rel: string, value: unknown) {
  const path = join(dir, rel);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}

const item = (i: number) => ({ id: `item-${i}`, image: `imgs/${i}.png` });

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "salient-merge-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("meanCi", () => {
  it("is the mean and t(0.975, n-1) s / sqrt(n)", () => {
    // 1, 2, 3, 4: mean 2.5, s^2 = 5/3, half-width 3.182 * sqrt(5/3) / 2.
    const s = meanCi([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.ci).toBeCloseTo((3.182 * Math.sqrt(5 / 3)) / 2, 10);
    expect(meanCi([7]).ci).toBeNaN();
    // Large n: the normal quantile.
    const many = Array.from({ length: 100 }, (_, i) => i % 2);
    expect(meanCi(many).ci).toBeCloseTo((1.96 * Math.sqrt(25 / 99)) / 10, 10);
  });
});

describe("salient merge", () => {
  it("tables a classifier run per method and lists missing and failed items", async () => {
    const dir = join(tmp, "cls");
    const items = [0, 1, 2, 3, 4, 5].map(item);
    write(dir, "run.json", {
      kind: "classifier",
      settings: { metrics: ["deletion", "sparseness"] },
      items,
      keys: ["gradient", "integrated-gradients"],
    });
    // Items 0-3 finished; item 4 failed; item 5 has no records (its shard never ran).
    const del = [0.1, 0.2, 0.3, 0.4];
    const spa = [0.5, 0.5, 0.5, 0.5];
    for (let i = 0; i < 4; i++) {
      for (const key of ["gradient", "integrated-gradients"])
        write(dir, `items/item-${i}/${key}.json`, {
          id: `item-${i}`,
          key,
          status: "ok",
          metrics: { deletion: del[i] * (key === "gradient" ? 1 : 2), sparseness: spa[i] },
          delta: key === "gradient" ? null : -(i + 1),
          seconds: key === "gradient" ? 0.01 : 0.1 * (i + 1),
        });
    }
    for (const key of ["gradient", "integrated-gradients"])
      write(dir, `items/item-4/${key}.json`, {
        id: "item-4",
        key,
        status: "failed",
        error: "cannot read",
      });
    const lines: string[] = [];
    const t = await runMerge([dir], (l) => lines.push(l));
    const csv = readFileSync(join(dir, "table.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe(
      "method,n,failed,deletion mean,deletion ci95,sparseness mean,sparseness ci95,|delta| mean,|delta| ci95,s/image",
    );
    const ci = (3.182 * Math.sqrt(5 / 3)) / 2; // of 1, 2, 3, 4
    const g = t.rows[0];
    expect(g.slice(0, 3)).toEqual(["gradient", 4, 2 / 2]);
    expect(g[3]).toBeCloseTo(0.25, 12);
    expect(g[4]).toBeCloseTo(ci / 10, 12);
    expect(g[5]).toBeCloseTo(0.5, 12);
    expect(g[6]).toBeCloseTo(0, 12);
    expect(g[7]).toBeNaN(); // no completeness delta for gradient
    expect(g[9]).toBeCloseTo(0.01, 12);
    const ig = t.rows[1];
    expect(ig[3]).toBeCloseTo(0.5, 12);
    expect(ig[4]).toBeCloseTo(ci / 5, 12);
    expect(ig[7]).toBeCloseTo(2.5, 12);
    expect(ig[8]).toBeCloseTo(ci, 12);
    expect(ig[9]).toBeCloseTo(0.25, 12);
    expect(csv[2].split(",").slice(0, 5)).toEqual([
      "integrated-gradients",
      "4",
      "1",
      "0.5",
      String(Number((ci / 5).toPrecision(4))),
    ]);
    const md = readFileSync(join(dir, "table.md"), "utf8");
    expect(md).toContain(
      `| integrated-gradients | 4 | 1 | 0.5 ± ${Number((ci / 5).toPrecision(4))} |`,
    );
    expect(t.missing.map((m) => m.id)).toEqual(["item-5", "item-5"]);
    expect(lines.join("\n")).toMatch(/missing: 1 items have no record yet: item-5/);
    expect(t.failed.map((f) => `${f.id} ${f.key}`)).toEqual([
      "item-4 gradient",
      "item-4 integrated-gradients",
    ]);
  });

  it("tables a LAM run as DI per model and window type", async () => {
    const dir = join(tmp, "lam");
    const items = [0, 1].map(item);
    const keys = ["bicubic.edge", "bicubic.flat", "fsrcnn-x2.edge", "fsrcnn-x2.flat"];
    write(dir, "run.json", {
      kind: "lam",
      settings: { models: ["bicubic", "fsrcnn-x2"] },
      items,
      keys: [],
      item_keys: { "item-0": keys, "item-1": keys },
    });
    // DI = base (model) + 1 for flat windows + item index; PSNR per item and model.
    const di = { bicubic: 2, "fsrcnn-x2": 3 } as Record<string, number>;
    for (const i of [0, 1])
      for (const key of keys) {
        const [model, label] = key.split(/\.(?=[a-z]+$)/);
        write(dir, `items/item-${i}/${key}.json`, {
          id: `item-${i}`,
          key,
          status: "ok",
          model,
          label,
          di: di[model] + (label === "flat" ? 1 : 0) + i,
          psnr: model === "bicubic" ? 30 + i : 32 + i,
          parameters: model === "bicubic" ? 0 : 12809,
          seconds: 1,
        });
      }
    const t = await runMerge([dir, "--out", join(tmp, "lam-table")], () => {});
    expect(t.columns).toEqual([
      "model",
      "parameters",
      "n",
      "failed",
      "PSNR",
      "DI mean",
      "DI ci95",
      "DI edge",
      "DI edge ci95",
      "DI flat",
      "DI flat ci95",
      "s/window",
    ]);
    const [b, f] = t.rows;
    // bicubic: DI 2, 3 (edge, items 0 and 1), 3, 4 (flat): mean 3; edge 2.5, flat 3.5.
    expect([b[0], b[1], b[2], b[3], b[4], b[5], b[7], b[9]]).toEqual([
      "bicubic",
      0,
      4,
      0,
      30.5,
      3,
      2.5,
      3.5,
    ]);
    expect(b[6]).toBeCloseTo((3.182 * Math.sqrt(2 / 3)) / 2, 10);
    // Two values a, a + 1: s = sqrt(1/2), t(0.975, 1) = 12.706.
    expect(b[8]).toBeCloseTo((12.706 * Math.sqrt(0.5)) / Math.sqrt(2), 10);
    expect([f[0], f[1], f[4], f[5], f[7], f[9]]).toEqual(["fsrcnn-x2", 12809, 32.5, 4, 3.5, 4.5]);
    expect(readFileSync(join(tmp, "lam-table.md"), "utf8")).toContain("| fsrcnn-x2 | 12809 |");
    expect(t.missing).toEqual([]);
  });

  it("says what is wrong with a folder that is not a batch run", async () => {
    mkdirSync(join(tmp, "empty"));
    await expect(runMerge([join(tmp, "empty")], () => {})).rejects.toThrow(/no run.json/);
    await expect(runMerge(["--out", "x"], () => {})).rejects.toThrow(/run folder first/);
  });
});

/**
 * The multi-object canvas generator: deterministic per (seed, index), and its image, labels and
 * masks are exactly what re-pasting the recorded items from the source images gives.
 */
import { describe, expect, it } from "vitest";
import { explainerPools, SEEDS } from "../../src/attribution/explainer/data.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import {
  multiFashionBatch,
  multiFashionSample,
  sourcePool,
} from "../../src/models/data/multi-fashion.ts";

const train = loadFashionMnist("train");
const test = loadFashionMnist("test");
const pools = explainerPools(train, test);

describe("multi-object Fashion-MNIST canvases", () => {
  it("are a function of (seed, index) only", () => {
    const a = multiFashionSample(pools.train, 7, 123);
    const b = multiFashionSample(pools.train, 7, 123);
    expect(b.image.every((v, i) => v === a.image[i])).toBe(true);
    expect(b.masks.every((v, i) => v === a.masks[i])).toBe(true);
    expect(b.items).toEqual(a.items);
    // A batch rebuilds the same canvases in any order.
    const batch = multiFashionBatch(pools.train, 7, [5, 123, 9]);
    expect(batch.samples[1].items).toEqual(a.items);
    expect(batch.images.subarray(4096, 8192).every((v, i) => v === a.image[i])).toBe(true);
    // Different indices and seeds give different canvases.
    expect(multiFashionSample(pools.train, 7, 124).items).not.toEqual(a.items);
    expect(multiFashionSample(pools.train, 8, 123).items).not.toEqual(a.items);
  });

  it("paste the recorded items: image, labels and masks re-derived from the sources", () => {
    const cut = 0.1 * 255;
    let itemsSeen = 0;
    const counts = [0, 0, 0, 0, 0];
    for (let index = 0; index < 40; index++) {
      const s = multiFashionSample(pools.test, SEEDS.test, index);
      const image = new Float32Array(64 * 64);
      const masks = new Uint8Array(10 * 64 * 64);
      const labels = new Uint8Array(10);
      const owner = new Int32Array(64 * 64).fill(-1);
      let shared = 0;
      s.items.forEach((it, k) => {
        expect(it.source).toBeGreaterThanOrEqual(0);
        expect(it.source).toBeLessThan(test.count);
        expect(it.label).toBe(test.labels[it.source]);
        labels[it.label] = 1;
        for (let r = 0; r < 28; r++) {
          for (let c = 0; c < 28; c++) {
            const v = test.images[it.source * 784 + r * 28 + c];
            const p = (it.y + r) * 64 + it.x + c;
            image[p] = Math.max(image[p], v / 255);
            if (v > cut) {
              if (owner[p] !== -1) shared++;
              owner[p] = k;
              masks[it.label * 4096 + p] = 1;
            }
          }
        }
      });
      // No two items share a mask pixel.
      expect(shared).toBe(0);
      expect(Array.from(s.labels)).toEqual(Array.from(labels));
      // Compared as whole arrays (element-wise expect would be slow).
      expect(s.image.every((v, i) => v === image[i])).toBe(true);
      expect(s.masks.every((v, i) => v === masks[i])).toBe(true);
      // Classes without an item have an empty mask; present ones a non-empty one.
      for (let c = 0; c < 10; c++) {
        const area = s.masks.subarray(c * 4096, (c + 1) * 4096).reduce((a, v) => a + v, 0);
        expect(area > 0).toBe(labels[c] === 1);
      }
      expect(s.items.length).toBeGreaterThanOrEqual(1);
      expect(s.items.length).toBeLessThanOrEqual(4);
      counts[s.items.length]++;
      itemsSeen += s.items.length;
    }
    // Every item count from 1 to 4 occurs.
    expect(counts.slice(1).every((n) => n > 0)).toBe(true);
    expect(itemsSeen).toBeGreaterThan(60);
  });

  it("keeps the splits' source images disjoint", () => {
    for (let index = 0; index < 30; index++) {
      for (const it of multiFashionSample(pools.train, SEEDS.train, index).items) {
        expect(it.source).toBeLessThan(50000);
      }
      for (const it of multiFashionSample(pools.val, SEEDS.val, index).items) {
        expect(it.source).toBeGreaterThanOrEqual(50000);
      }
    }
    expect(() => sourcePool(train, 10, 10)).toThrow(/non-empty range/);
  });

  it("honours the item count bounds", () => {
    for (let index = 0; index < 10; index++) {
      const s = multiFashionSample(pools.val, 1, index, { minItems: 1, maxItems: 1 });
      expect(s.items.length).toBe(1);
    }
    expect(() => multiFashionSample(pools.val, 1, 0, { minItems: 3, maxItems: 2 })).toThrow(
      /minItems/,
    );
  });
});

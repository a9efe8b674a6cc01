/**
 * Multi-object Fashion-MNIST canvases with known ground truth, for explainers (NN-Explainer
 * style): each canvas (64 x 64 by default) holds 1-4 Fashion-MNIST items pasted at random places,
 * with a multi-hot label vector and one pixel mask per class (the item pixels above `threshold`).
 *
 * Generation is random-access and deterministic: canvas `index` of `seed` depends on nothing else,
 * so a data set needs no storage and any batch can be rebuilt. Items never overlap in their mask
 * pixels (a position is redrawn up to `tries` times; if none fits the canvas keeps fewer items),
 * so every foreground pixel belongs to exactly one class. They may overlap in their dark
 * background, and the canvas takes the pixelwise maximum, which for light-on-black items is
 * pasting with a transparent background.
 */
import { Random } from "../../random.ts";
import type { LabelledImages } from "./fashion-mnist-node.ts";

/** A range [from, to) of source images of one Fashion-MNIST split. */
export interface SourcePool {
  data: LabelledImages;
  from: number;
  to: number;
}

/** How multi-object Fashion-MNIST canvases are drawn. */
export interface MultiFashionOptions {
  /** Canvas side (default 64). */
  size?: number;
  /** Fewest items drawn per canvas (default 1). */
  minItems?: number;
  /** Most items drawn per canvas (default 4); an item that finds no free place is dropped. */
  maxItems?: number;
  /** Item pixels above this intensity (in [0, 1]) form the masks (default 0.1). */
  threshold?: number;
  /** Position draws per item before giving up on it (default 30). */
  tries?: number;
  /** Length of the label vector and mask stack (default 10, Fashion-MNIST's). */
  classes?: number;
}

export interface PlacedItem {
  /** Index of the source image in its split. */
  source: number;
  label: number;
  /** Top-left corner on the canvas. */
  y: number;
  x: number;
}

/** One canvas with its ground truth. */
export interface MultiFashionSample {
  /** Canvas side in pixels. */
  size: number;
  /** [size, size] in [0, 1]. */
  image: Float32Array;
  /** Multi-hot [classes]. */
  labels: Uint8Array;
  /** [classes, size, size], 1 where an item of that class has a pixel above the threshold. */
  masks: Uint8Array;
  /** The items placed, in drawing order. */
  items: PlacedItem[];
}

/** Splits of the two Fashion-MNIST files: train/val from disjoint parts of its train split. */
export function sourcePool(data: LabelledImages, from = 0, to = data.count): SourcePool {
  if (
    !(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to <= data.count && from < to)
  ) {
    throw new Error(
      `sourcePool: [${from}, ${to}) is not a non-empty range of ${data.count} images`,
    );
  }
  return { data, from, to };
}

/** A 32-bit seed for canvas `index` of data set `seed` (murmur3 finaliser of the pair). */
function mix(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index >>> 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function resolve(o: MultiFashionOptions) {
  const r = {
    size: o.size ?? 64,
    minItems: o.minItems ?? 1,
    maxItems: o.maxItems ?? 4,
    threshold: o.threshold ?? 0.1,
    tries: o.tries ?? 30,
    classes: o.classes ?? 10,
  };
  if (!(r.minItems >= 1 && r.maxItems >= r.minItems && Number.isInteger(r.minItems + r.maxItems))) {
    throw new Error(
      `multiFashion: need integers 1 <= minItems <= maxItems, got ${r.minItems}, ${r.maxItems}`,
    );
  }
  return r;
}

/** Canvas `index` of data set `seed`, drawn from `pool`. */
export function multiFashionSample(
  pool: SourcePool,
  seed: number,
  index: number,
  o: MultiFashionOptions = {},
): MultiFashionSample {
  const { size, minItems, maxItems, threshold, tries, classes } = resolve(o);
  const { data } = pool;
  const ih = data.height;
  const iw = data.width;
  if (ih > size || iw > size)
    throw new Error(`multiFashion: ${ih}x${iw} items do not fit a ${size} canvas`);
  const rng = new Random(mix(seed, index));
  const image = new Float32Array(size * size);
  const labels = new Uint8Array(classes);
  const masks = new Uint8Array(classes * size * size);
  // Which pixels some item's mask already covers.
  const taken = new Uint8Array(size * size);
  const items: PlacedItem[] = [];
  const cut = threshold * 255;
  const want = minItems + rng.int(maxItems - minItems + 1);
  for (let n = 0; n < want; n++) {
    const source = pool.from + rng.int(pool.to - pool.from);
    const label = data.labels[source];
    if (label >= classes) throw new Error(`multiFashion: label ${label} >= classes ${classes}`);
    const px = data.images.subarray(source * ih * iw, (source + 1) * ih * iw);
    for (let t = 0; t < tries; t++) {
      const y = rng.int(size - ih + 1);
      const x = rng.int(size - iw + 1);
      let clash = false;
      for (let r = 0; r < ih && !clash; r++) {
        for (let c = 0; c < iw; c++) {
          if (px[r * iw + c] > cut && taken[(y + r) * size + x + c]) {
            clash = true;
            break;
          }
        }
      }
      if (clash) continue;
      const plane = label * size * size;
      for (let r = 0; r < ih; r++) {
        for (let c = 0; c < iw; c++) {
          const v = px[r * iw + c];
          const p = (y + r) * size + x + c;
          image[p] = Math.max(image[p], v / 255);
          if (v > cut) {
            taken[p] = 1;
            masks[plane + p] = 1;
          }
        }
      }
      labels[label] = 1;
      items.push({ source, label, y, x });
      break;
    }
  }
  return { size, image, labels, masks, items };
}

export interface MultiFashionBatch {
  /** [B, 1, size, size] in [0, 1]. */
  images: Float32Array;
  /** [B, classes] multi-hot as 0/1 floats. */
  labels: Float32Array;
  /** [B, classes, size, size]. */
  masks: Uint8Array;
  samples: MultiFashionSample[];
}

/** Several canvases, packed as arrays ready for tensors. */
export function multiFashionBatch(
  pool: SourcePool,
  seed: number,
  indices: ArrayLike<number>,
  o: MultiFashionOptions = {},
): MultiFashionBatch {
  const samples = Array.from(indices, (i) => multiFashionSample(pool, seed, i, o));
  const n = samples.length;
  const size = samples[0]?.size ?? resolve(o).size;
  const classes = samples[0]?.labels.length ?? resolve(o).classes;
  const px = size * size;
  const images = new Float32Array(n * px);
  const labels = new Float32Array(n * classes);
  const masks = new Uint8Array(n * classes * px);
  samples.forEach((s, i) => {
    images.set(s.image, i * px);
    labels.set(s.labels, i * classes);
    masks.set(s.masks, i * classes * px);
  });
  return { images, labels, masks, samples };
}

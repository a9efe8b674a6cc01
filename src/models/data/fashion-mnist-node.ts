/** Loads Fashion-MNIST from Debian's dataset-fashion-mnist package (Node only). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseIdx } from "./idx.ts";

/** Where Debian's dataset-fashion-mnist package puts the IDX files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";
export { FASHION_CLASSES } from "./classes.ts";

/** Images and their labels, as read from IDX files. */
export interface LabelledImages {
  /** [count, 28, 28] pixels in [0, 255]. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

function readIdx(dir: string, file: string) {
  const path = join(dir, file);
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch {
    throw new Error(
      `Fashion-MNIST: cannot read ${path}; install it with: apt-get install -y dataset-fashion-mnist`,
    );
  }
  return parseIdx(file.endsWith(".gz") ? gunzipSync(raw) : raw, path);
}

/** The Fashion-MNIST train or test split from its IDX files (gzipped or not). */
export function loadFashionMnist(split: "train" | "test", dir = FASHION_MNIST_DIR): LabelledImages {
  const prefix = split === "train" ? "train" : "t10k";
  const imgs = readIdx(dir, `${prefix}-images-idx3-ubyte.gz`);
  const labels = readIdx(dir, `${prefix}-labels-idx1-ubyte.gz`);
  if (imgs.shape.length !== 3 || labels.shape[0] !== imgs.shape[0]) {
    throw new Error(
      `Fashion-MNIST ${split}: images [${imgs.shape}] and labels [${labels.shape}] do not match`,
    );
  }
  return {
    images: imgs.data,
    labels: labels.data,
    count: imgs.shape[0],
    height: imgs.shape[1],
    width: imgs.shape[2],
  };
}

/**
 * Writes the first N Fashion-MNIST test images as 28x28 PNGs and a CSV manifest with their true
 * labels as targets, the input of `salient batch --manifest` for the classifier evaluation.
 *
 *   node dist/fashion-images.mjs OUT_DIR [N]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { encodePng } from "../../src/viz/image-io-node.ts";

const [out, nArg = "1000"] = process.argv.slice(2);
if (!out) throw new Error("usage: fashion-images OUT_DIR [N]");
const test = loadFashionMnist("test");
const n = Math.min(Number(nArg), test.count);
if (!Number.isInteger(n) || n < 1) throw new Error(`N must be a positive integer, got ${nArg}`);
mkdirSync(join(out, "images"), { recursive: true });
const rows = ["image,target"];
for (let i = 0; i < n; i++) {
  const data = new Uint8Array(28 * 28 * 3);
  for (let p = 0; p < 28 * 28; p++) data.fill(test.images[i * 784 + p], p * 3, p * 3 + 3);
  const name = `test-${String(i).padStart(5, "0")}.png`;
  writeFileSync(join(out, "images", name), encodePng({ width: 28, height: 28, data }));
  rows.push(`images/${name},${test.labels[i]}`);
}
writeFileSync(join(out, "manifest.csv"), `${rows.join("\n")}\n`);
console.log(`${n} images and ${join(out, "manifest.csv")}`);

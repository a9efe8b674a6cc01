// Writes the Fashion-MNIST test images that `salient demo` shows (the first test image of a few
// classes) to assets/fashion-mnist/, so the demo needs no dataset once installed. Source: Debian's
// dataset-fashion-mnist (bash scripts/ensure-apt.sh dataset-fashion-mnist).
// Usage: node scripts/make-demo-assets.mjs [dataset dir]
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { PNG } from "pngjs";

const DIR = process.argv[2] ?? "/usr/share/datasets/fashion-mnist";
const OUT = join(import.meta.dirname, "..", "assets", "fashion-mnist");
/** Classes shown: T-shirt/top, sneaker, ankle boot. */
const CLASSES = [0, 7, 9];
const NAMES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** IDX file: magic (0, 0, type 0x08 = ubyte, rank), rank big-endian sizes, then the bytes. */
function readIdx(file) {
  const raw = gunzipSync(readFileSync(join(DIR, file)));
  if (raw[0] !== 0 || raw[1] !== 0 || raw[2] !== 0x08)
    throw new Error(`${file}: not a ubyte IDX file`);
  const rank = raw[3];
  const shape = Array.from({ length: rank }, (_, i) => raw.readUInt32BE(4 + 4 * i));
  return { shape, data: raw.subarray(4 + 4 * rank) };
}

const images = readIdx("t10k-images-idx3-ubyte.gz");
const labels = readIdx("t10k-labels-idx1-ubyte.gz");
const [, h, w] = images.shape;
mkdirSync(OUT, { recursive: true });
const index = [];
for (const cls of CLASSES) {
  const i = labels.data.indexOf(cls);
  const png = new PNG({
    width: w,
    height: h,
    colorType: 0,
    inputColorType: 0,
    inputHasAlpha: false,
  });
  png.data = Buffer.from(images.data.subarray(i * h * w, (i + 1) * h * w));
  const file = `test-${i}.png`;
  writeFileSync(
    join(OUT, file),
    PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }),
  );
  index.push({ file, index: i, label: cls, name: NAMES[cls] });
}
writeFileSync(join(OUT, "demo.json"), `${JSON.stringify(index, null, 2)}\n`);

// A 64x64 canvas with two items (sneaker top left, ankle boot bottom right), the kind of image
// the bundled multi-label explainer was trained on: the input of `salient explain`.
const canvas = new PNG({
  width: 64,
  height: 64,
  colorType: 0,
  inputColorType: 0,
  inputHasAlpha: false,
});
canvas.data = Buffer.alloc(64 * 64);
const place = (i, top, left) => {
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      canvas.data[(top + y) * 64 + left + x] = images.data[i * h * w + y * w + x];
};
place(labels.data.indexOf(7), 2, 2);
place(labels.data.indexOf(9), 34, 34);
writeFileSync(
  join(OUT, "canvas-64.png"),
  PNG.sync.write(canvas, { colorType: 0, inputColorType: 0, inputHasAlpha: false }),
);
console.log(`wrote ${index.map((e) => e.file).join(", ")} and demo.json to ${OUT}`);

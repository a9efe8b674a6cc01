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
console.log(`wrote ${index.map((e) => e.file).join(", ")} and demo.json to ${OUT}`);

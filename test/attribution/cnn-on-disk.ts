/**
 * A SmallCnn written as a safetensors file next to a grey 28 x 28 PNG, for the CLI tests that run
 * `salient attribute` in-process on a weights file and compare with the library on the same input.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as s from "../../src/index.ts";
import { SmallCnn } from "../../src/models/classifiers/small-cnn.ts";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import { writePng } from "../../src/viz/image-io-node.ts";

/** The network (seed `seed`), its weights file, the PNG of pixel(i) and that image as [1,1,28,28] in [0,1]. */
export function smallCnnOnDisk(name: string, seed: number, pixel: (i: number) => number) {
  const dir = mkdtempSync(join(tmpdir(), `salient-${name}-`));
  const weights = join(dir, "cnn.safetensors");
  const imagePath = join(dir, "img.png");
  const net = new SmallCnn({ seed, channels: [4, 8] });
  const dict = new Map(
    net
      .namedParameters()
      .map(([k, p]) => [k, { shape: [...p.shape], values: Float32Array.from(p.dataSync()) }]),
  );
  writeFileSync(weights, writeSafetensors(dict));
  const px = Uint8Array.from({ length: 784 }, (_, i) => pixel(i));
  // An RGB PNG of a grey image: the CLI reads it back as grey (luma of equal channels = the value).
  writePng(imagePath, {
    width: 28,
    height: 28,
    data: Uint8Array.from({ length: 784 * 3 }, (_, i) => px[Math.floor(i / 3)]),
  });
  const x = s.keep(
    s.tensor(
      Float32Array.from(px, (v) => v / 255),
      [1, 1, 28, 28],
    ),
  );
  return { dir, weights, imagePath, net, x };
}

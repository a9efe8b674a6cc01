/**
 * Reference numbers for the explorer test, computed in Node by the code paths the CLI runs:
 * `salient lam` (resolveSrModel, lamImagesFromHr, runLamOn) for the diffusion index, and the
 * `salient attribute` method registry on the bundled Fashion-MNIST CNN for classifier maps.
 * Bundled by scripts/test-browser.sh; app.test.mjs imports it.
 */

import { join } from "node:path";
import { METHODS } from "../../src/attribution/registry.ts";
import { runLamOn } from "../../src/cli/lam.ts";
import { lamImagesFromHr } from "../../src/cli/lam-images.ts";
import { resolveSrModel } from "../../src/cli/sr-models.ts";
import { loadFashionCnn, sum, tensor, tidy } from "../../src/index.ts";
import { readImage } from "../../src/node.ts";

/** The bundle lives in .cache/: assets are found from the repository root (the working directory). */
const assetPath = (...parts: string[]) => join(process.cwd(), "assets", ...parts);

export async function lamReference(o: {
  model: string;
  scale: number;
  photo: string;
  crop?: number;
  window: { x: number; y: number; size: number };
  fold: number;
}): Promise<number> {
  const images = lamImagesFromHr(assetPath("photos", `${o.photo}.png`), o.scale, o.crop);
  try {
    const run = await runLamOn(resolveSrModel({ model: o.model, scale: o.scale }), images, {
      window: o.window,
      fold: o.fold,
    });
    return run.summary.diffusion_index as number;
  } finally {
    images.lr.dispose();
  }
}

/** A registry method's map on a bundled Fashion-MNIST image, summed over channels. */
export async function classifierReference(
  method: string,
  image: string,
  target: number,
): Promise<number[]> {
  const net = loadFashionCnn();
  const img = readImage(assetPath("fashion-mnist", `${image}.png`), 1);
  const x = tensor(img.data, [1, 1, img.height, img.width]);
  const r = await METHODS[method].run({
    model: (v) => net.call(v),
    x,
    target,
    opt: () => undefined,
    preset: null,
    layer: () => "features.4",
    readBaseline: () => {
      throw new Error("no baseline images here");
    },
    batchSize: undefined,
    seed: 0,
  });
  const map = tidy(() => Array.from(sum(r.map, [0, 1]).dataSync()));
  r.map.dispose();
  x.dispose();
  return map;
}

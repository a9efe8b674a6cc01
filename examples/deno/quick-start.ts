/**
 * The quick start in Deno, against the npm package in the project's node_modules (Deno reads
 * package.json and resolves "salient" there): classify a bundled Fashion-MNIST image with the
 * bundled classifier and attribute it with integrated gradients. Prints one JSON line.
 * Run from the project root: deno run --allow-read --allow-env examples/deno/quick-start.ts
 */
import {
  argMax,
  FASHION_CLASSES,
  integratedGradients,
  loadFashionCnn,
  type Tensor,
  tensor,
  tidy,
} from "salient";
import { assetPath, readImage } from "salient/node";

const image = readImage(assetPath("fashion-mnist", "test-0.png"), 1);
const x = tensor(image.data, [1, 1, image.height, image.width]);
const cnn = loadFashionCnn();
const model = (batch: Tensor) => cnn.call(batch);

const top = tidy(() => argMax(model(x), 1).dataSync()[0] ?? 0);
const ig = await integratedGradients(model, x, top, { steps: 64 });
const [score] = ig.details.scores;
const [baselineScore] = ig.details.baselineScores;
const delta = ig.delta?.[0] ?? Number.NaN;
console.log(
  JSON.stringify({
    runtime: `deno ${Deno.version.deno}`,
    topClass: FASHION_CLASSES[top],
    igDelta: delta,
    igRelativeDelta: Math.abs(delta) / Math.abs((score ?? 0) - (baselineScore ?? 0)),
  }),
);

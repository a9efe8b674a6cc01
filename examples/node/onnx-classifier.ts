/**
 * An ONNX classifier: load examples/onnx/tiny-cnn.onnx (written by examples/onnx/make-model.mjs),
 * run it on a bundled Fashion-MNIST image and explain its top class with integrated gradients and
 * SmoothGrad. Prints one JSON line: the logits, the top class and IG's completeness delta.
 * Run from the project root with salient installed: npx tsc && node examples/node/onnx-classifier.js
 */
import {
  argMax,
  gradient,
  integratedGradients,
  smoothGrad,
  type Tensor,
  tensor,
  tidy,
} from "salient";
import { assetPath, loadOnnxFile, readImage } from "salient/node";

const onnx = loadOnnxFile("examples/onnx/tiny-cnn.onnx");
const model = (x: Tensor) => onnx.call(x);

const image = readImage(assetPath("fashion-mnist", "test-0.png"), 1);
const x = tensor(image.data, [1, 1, image.height, image.width]);

const { logits, top } = tidy(() => {
  const out = model(x);
  return { logits: Array.from(out.dataSync()), top: argMax(out, 1).dataSync()[0] ?? 0 };
});

const ig = await integratedGradients(model, x, top, { steps: 32 });
// SmoothGrad wraps any method: here the plain gradient, averaged over 16 noisy copies.
const sg = await smoothGrad(gradient, model, x, top, { samples: 16, seed: 1 });
const [score] = ig.details.scores;
const [baselineScore] = ig.details.baselineScores;
const delta = ig.delta?.[0] ?? Number.NaN;

console.log(
  JSON.stringify({
    inputs: onnx.inputNames,
    logits,
    topClass: top,
    igDelta: delta,
    igRelativeDelta: Math.abs(delta) / Math.abs((score ?? 0) - (baselineScore ?? 0)),
    smoothGradShape: sg.map.shape,
  }),
);
for (const t of [x, ig.map, sg.map]) t.dispose();

/**
 * Quick start: explain the bundled Fashion-MNIST classifier on a bundled test image with
 * integrated gradients and Grad-CAM, save both overlays as one PNG, and print one JSON line.
 * Run from a project with salient installed: npx tsc && node examples/node/quick-start.js
 */
import {
  argMax,
  blend,
  enlarge,
  FASHION_CLASSES,
  galleryStrip,
  gradCam,
  heatmap,
  integratedGradients,
  loadFashionCnn,
  SmallCnn,
  softmax,
  type Tensor,
  tensor,
  tidy,
  toRgb,
} from "salient";
import { assetPath, readImage, writePng } from "salient/node";

// The first Fashion-MNIST test image (an ankle boot), shipped with the package: [1, 28, 28] grey.
const image = readImage(assetPath("fashion-mnist", "test-0.png"), 1);
const x = tensor(image.data, [1, 1, image.height, image.width]);

const cnn = loadFashionCnn();
const model = (batch: Tensor) => cnn.call(batch);

const [top, probability] = tidy(() => {
  const probs = softmax(model(x), 1);
  const k = argMax(probs, 1).dataSync()[0] ?? 0;
  return [k, probs.dataSync()[k] ?? 0] as const;
});

// Integrated gradients from a black baseline: the map sums to f(x) - f(black), up to the
// quadrature error that `delta` reports.
const ig = await integratedGradients(model, x, top, { steps: 64 });
const igMap = ig.map.dataSync();
const [score] = ig.details.scores;
const [baselineScore] = ig.details.baselineScores;
const delta = ig.delta?.[0] ?? Number.NaN;

// Grad-CAM at the classifier's second ReLU (14 x 14), upsampled to the input.
const cam = await gradCam(model, x, top, { layer: SmallCnn.gradCamLayer });
const camMap = cam.map.dataSync();

// How much of the Grad-CAM mass lies on the garment (pixels brighter than 0.1).
let onObject = 0;
let total = 0;
let objectPixels = 0;
image.data.forEach((v, p) => {
  const c = camMap[p] ?? 0;
  total += c;
  if (v > 0.1) {
    onObject += c;
    objectPixels++;
  }
});

const photo = toRgb(image.data, 1, image.height, image.width);
const overlay = (map: ArrayLike<number>) =>
  enlarge(blend(photo, heatmap(map, 1, image.height, image.width)), 8);
const out = "quick-start-overlay.png";
writePng(
  out,
  galleryStrip([
    { title: "image", image: enlarge(photo, 8) },
    { title: "integrated gradients", image: overlay(igMap) },
    { title: "Grad-CAM", image: overlay(camMap) },
  ]),
);

console.log(
  JSON.stringify({
    topClass: FASHION_CLASSES[top],
    classIndex: top,
    probability,
    igDelta: delta,
    igRelativeDelta: Math.abs(delta) / Math.abs((score ?? 0) - (baselineScore ?? 0)),
    camOnObject: onObject / total,
    objectShare: objectPixels / image.data.length,
    overlay: out,
  }),
);
for (const t of [x, ig.map, cam.map]) t.dispose();

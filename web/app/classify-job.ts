/**
 * Classifier mode in the worker: the bundled Fashion-MNIST CNN or a dropped ONNX classifier, an
 * image as its input, and any method of the registry `salient attribute` runs, with the
 * deletion/insertion curves of the map when asked.
 */
import {
  checkMethodOptions,
  deletionAuc,
  FASHION_CLASSES,
  fromImageData,
  type ImageDataLike,
  insertionAuc,
  intFlag,
  keep,
  loadFashionCnn,
  loadOnnx,
  METHODS,
  type Model,
  type Module,
  rgbToImageData,
  sum,
  type Tensor,
  tidy,
  toRgb,
} from "../../src/index.ts";
import type { ClassifierLoaded, ClassifierSource, MapDone, ToWorker } from "./protocol.ts";

export interface ClassifierState {
  name: string;
  model: Model;
  input: Tensor;
  camLayer: string | null;
}

/** The fashion CNN reads 28 x 28 grey images; an ONNX model gets RGB first, grey if that fails. */
async function buildInput(net: Module, channels: 1 | 3, img: ImageDataLike) {
  const x = fromImageData(img, { channels });
  try {
    const out = tidy(() => keep(net.call(x)));
    const logits = Float32Array.from(await out.data());
    out.dispose();
    return { x, logits };
  } catch (e) {
    x.dispose();
    throw e;
  }
}

export async function loadClassifierJob(
  src: ClassifierSource,
  img: ImageDataLike,
): Promise<{ state: ClassifierState; loaded: Omit<ClassifierLoaded, "id"> }> {
  let net: Module;
  let name: string;
  let attempts: (1 | 3)[];
  let classNames: string[] | null = null;
  let camLayer: string | null = null;
  if (src.kind === "fashion-cnn") {
    if (img.width !== 28 || img.height !== 28)
      throw new Error(
        `fashion-cnn reads 28x28 grey images (Fashion-MNIST); this image is ${img.width}x${img.height}`,
      );
    net = loadFashionCnn();
    name = "fashion-cnn";
    attempts = [1];
    classNames = [...FASHION_CLASSES];
    camLayer = "features.4";
  } else {
    net = loadOnnx(new Uint8Array(src.bytes), { name: src.name });
    name = src.name;
    attempts = [3, 1];
  }
  let built: Awaited<ReturnType<typeof buildInput>> | null = null;
  let firstError = "";
  for (const c of attempts) {
    try {
      built = await buildInput(net, c, img);
      break;
    } catch (e) {
      firstError ||= (e as Error).message;
    }
  }
  if (!built)
    throw new Error(
      `${name} does not run on this ${img.width}x${img.height} image (RGB or grey): ${firstError}`,
    );
  const { x, logits } = built;
  if (logits.length < 2 || x.shape.length !== 4)
    throw new Error(
      `${name} gives ${logits.length} output(s); a classifier gives one score per class`,
    );
  const m = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - m));
  const total = e.reduce((a, b) => a + b, 0);
  const probabilities = e.map((v) => v / total);
  const [, c, h, w] = x.shape;
  const rgb = toRgb(await x.data(), c, h, w);
  const shown = rgbToImageData(rgb);
  return {
    state: { name, model: (v) => net.call(v), input: x, camLayer },
    loaded: {
      type: "classifier-loaded",
      modelName: name,
      classNames: classNames ?? Array.from(logits, (_, k) => `class ${k}`),
      probabilities,
      input: { width: w, height: h, data: new Uint8ClampedArray(shown.data) },
    },
  };
}

/** The methods the page offers: the registry, minus the one that needs no image. */
export function methodNames(): string[] {
  return Object.keys(METHODS).filter((k) => !METHODS[k].noImage);
}

export async function runAttributeJob(
  s: ClassifierState,
  m: Extract<ToWorker, { type: "attribute" }>,
): Promise<Omit<MapDone, "id">> {
  const entry = METHODS[m.method];
  if (!entry)
    throw new Error(`unknown method "${m.method}" (known: ${Object.keys(METHODS).join(", ")})`);
  const opt = (k: string) => (m.params[k] === "" ? undefined : m.params[k]);
  // Words and formats checked before the method starts, as the CLI does (numbers as it reads them).
  checkMethodOptions((k) => (k === "method" ? m.method : opt(k)));
  const batch = opt("batch-size");
  const t0 = performance.now();
  const r = await entry.run({
    model: s.model,
    x: s.input,
    target: m.target,
    opt,
    preset: null,
    layer: () => {
      const l = m.params.layer || s.camLayer;
      if (!l) throw new Error(`${m.method} needs a layer name for this model`);
      return l;
    },
    readBaseline: () => {
      throw new Error("baseline images are not available in the explorer");
    },
    batchSize: batch === undefined ? undefined : intFlag("batch-size", batch, 1),
    seed: intFlag("seed", opt("seed"), 0, 0),
  });
  const seconds = (performance.now() - t0) / 1000;
  const [, , h, w] = r.map.shape;
  const summed = tidy(() => keep(sum(r.map, [0, 1])));
  const map = Float32Array.from(await summed.data());
  summed.dispose();
  let deletion: number[] | undefined;
  let insertion: number[] | undefined;
  if (m.curves) {
    const o = { pixelsPerStep: Math.max(1, Math.round((h * w) / 16)) };
    const del = await deletionAuc(s.model, s.input, m.target, r.map, o);
    const ins = await insertionAuc(s.model, s.input, m.target, r.map, o);
    deletion = del.curves[0];
    insertion = ins.curves[0];
  }
  r.map.dispose();
  return {
    type: "map-result",
    method: m.method,
    target: m.target,
    map,
    width: w,
    height: h,
    deletion,
    insertion,
    seconds,
  };
}

/**
 * Reference numbers for the explorer test, computed in Node by the code paths the CLI runs:
 * `salient lam` (resolveSrModel, lamImagesFromHr, runLamOn) for the diffusion index, and the
 * `salient attribute` method registry on the bundled Fashion-MNIST CNN for classifier maps.
 * Bundled by scripts/test-browser.sh; app.test.mjs imports it.
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LamPathKind } from "../../src/attribution/lam/paths.ts";
import { METHODS } from "../../src/attribution/registry.ts";
import { runLamOn } from "../../src/cli/lam.ts";
import { lamImagesFromHr } from "../../src/cli/lam-images.ts";
import { resolveSrModel, type SrModel } from "../../src/cli/sr-models.ts";
import {
  createArchitecture,
  loadFashionCnn,
  loadTfjsLayersModel,
  rgbSr,
  sum,
  tensor,
  tidy,
  writeSafetensors,
} from "../../src/index.ts";
import { readImage } from "../../src/node.ts";

/** The bundle lives in .cache/: assets are found from the repository root (the working directory). */
const assetPath = (...parts: string[]) => join(process.cwd(), "assets", ...parts);

export interface LamReferenceOptions {
  /** A bundled SR model's name, or a weights file with `arch`. */
  model: string;
  arch?: string;
  /** A tfjs layers-model folder (model.json + shards) instead of `model`. */
  tfjsDir?: string;
  scale: number;
  photo: string;
  crop?: number;
  window: { x: number; y: number; size: number };
  fold: number;
  sigma?: number;
  path?: LamPathKind;
}

/** A tfjs folder as an SR model the way the explorer runs one (range 1, Y when one channel). */
function tfjsSrModel(dir: string, scale: number): SrModel {
  const m = loadTfjsLayersModel(
    JSON.parse(readFileSync(join(dir, "model.json"), "utf8")),
    (p) => new Uint8Array(readFileSync(join(dir, p))),
    dir,
  ).eval();
  return {
    name: dir,
    scale,
    parameters: m.parameterCount(),
    run: rgbSr(m, (x) => m.call(x), scale),
  };
}

export async function lamReference(o: LamReferenceOptions): Promise<number> {
  const images = lamImagesFromHr(assetPath("photos", `${o.photo}.png`), o.scale, o.crop);
  try {
    const model = o.tfjsDir
      ? tfjsSrModel(o.tfjsDir, o.scale)
      : resolveSrModel({ model: o.model, arch: o.arch, scale: o.scale });
    const run = await runLamOn(model, images, {
      window: o.window,
      fold: o.fold,
      ...(o.sigma !== undefined ? { sigma: o.sigma } : {}),
      ...(o.path !== undefined ? { path: o.path } : {}),
    });
    return run.summary.diffusion_index as number;
  } finally {
    images.lr.dispose();
  }
}

/**
 * A tfjs layers-model folder with a closed form: a 1x1 convolution mixing the RGB channels
 * (0.8 on the diagonal, 0.1 elsewhere, bias 0.02), then UpSampling2D x2 (nearest).
 */
export function writeTinyTfjsSr(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const json = {
    format: "layers-model",
    modelTopology: {
      model_config: {
        class_name: "Sequential",
        config: {
          name: "tiny-sr",
          layers: [
            {
              class_name: "Conv2D",
              config: {
                name: "mix",
                batch_input_shape: [null, null, null, 3],
                filters: 3,
                kernel_size: [1, 1],
                strides: [1, 1],
                padding: "same",
                activation: "linear",
                use_bias: true,
              },
            },
            { class_name: "UpSampling2D", config: { name: "up", size: [2, 2] } },
          ],
        },
      },
    },
    weightsManifest: [
      {
        paths: ["group1-shard1of1.bin"],
        weights: [
          { name: "mix/kernel", shape: [1, 1, 3, 3], dtype: "float32" },
          { name: "mix/bias", shape: [3], dtype: "float32" },
        ],
      },
    ],
  };
  const kernel = Array.from({ length: 9 }, (_, k) => (Math.floor(k / 3) === k % 3 ? 0.8 : 0.1));
  const w = new Float32Array([...kernel, 0.02, 0.02, 0.02]);
  writeFileSync(join(dir, "model.json"), JSON.stringify(json));
  writeFileSync(join(dir, "group1-shard1of1.bin"), new Uint8Array(w.buffer));
}

/** A weights file (safetensors) for `arch` at `scale`, every parameter set to small fixed values. */
export function writeArchWeights(arch: string, scale: number, file: string): void {
  const m = createArchitecture(arch, scale);
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  let k = 0;
  for (const [name, v] of m.stateDict()) {
    const n = v.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = 0.05 * Math.sin(1.7 * k++ + 0.3);
    out.set(name, { shape: [...v.shape], values });
  }
  writeFileSync(file, writeSafetensors(out));
}

/** A registry method's map on a bundled Fashion-MNIST image, summed over channels. */
export async function classifierReference(
  method: string,
  image: string,
  target: number,
  options: Record<string, string> = {},
): Promise<number[]> {
  const net = loadFashionCnn();
  const img = readImage(assetPath("fashion-mnist", `${image}.png`), 1);
  const x = tensor(img.data, [1, 1, img.height, img.width]);
  const r = await METHODS[method].run({
    model: (v) => net.call(v),
    x,
    target,
    opt: (k) => options[k],
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

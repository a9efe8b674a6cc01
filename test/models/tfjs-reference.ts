/**
 * The reference side of the tfjs-layers tests: TensorFlow.js itself (tfjs-layers on the pure-JS
 * CPU backend), with UpscalerJS's custom layers registered the way its esrgan package does.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { Rng } from "../reference/rng.ts";

type LayerArgs = ConstructorParameters<typeof tfl.layers.Layer>[0];
const first = (x: tf.Tensor | tf.Tensor[]) => (Array.isArray(x) ? x[0] : x);

class MultiplyBeta extends tfl.layers.Layer {
  static className = "MultiplyBeta";
  constructor(args: LayerArgs) {
    super(args);
  }
  override call(inputs: tf.Tensor | tf.Tensor[]) {
    return tf.mul(first(inputs), 0.2);
  }
}

function pixelShuffle(r: number) {
  return class extends tfl.layers.Layer {
    static className = `PixelShuffle${r}x`;
    constructor(args: LayerArgs) {
      super(args);
    }
    override computeOutputShape(s: tfl.Shape | tfl.Shape[]) {
      const [n, h, w, c] = s as (number | null)[];
      return [n, h === null ? null : h * r, w === null ? null : w * r, (c as number) / (r * r)];
    }
    override call(inputs: tf.Tensor | tf.Tensor[]) {
      return tf.depthToSpace(first(inputs) as tf.Tensor4D, r, "NHWC");
    }
  };
}

let ready: Promise<void> | null = null;
function setup(): Promise<void> {
  ready ??= (async () => {
    tf.serialization.registerClass(MultiplyBeta);
    for (const r of [2, 3, 4, 8]) tf.serialization.registerClass(pixelShuffle(r));
    await tf.setBackend("cpu");
  })();
  return ready;
}

/** tfjs's own prediction for an NHWC input, reading model.json and shards from `dir`. */
export async function tfjsPredict(
  dir: string,
  nhwc: Float32Array,
  shape: [number, number, number, number],
) {
  await setup();
  const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  const bytes = Buffer.concat(
    json.weightsManifest.flatMap((g: { paths: string[] }) =>
      g.paths.map((p) => readFileSync(join(dir, p))),
    ),
  );
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap(
        (g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights,
      ),
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    }),
  };
  const model = await tfl.loadLayersModel(handler);
  const out = tf.tidy(() => model.predict(tf.tensor4d(nhwc, shape)) as tf.Tensor);
  const values = out.dataSync() as Float32Array;
  const outShape = out.shape;
  out.dispose();
  model.dispose();
  return { values, shape: outShape };
}

/**
 * Serialises a tfjs model the way tfjs's converter and model.save() do: model.json's topology and
 * weight specs, and one shard with the weight bytes.
 */
export async function saveArtifacts(
  model: tfl.LayersModel,
): Promise<{ json: object; shard: Uint8Array }> {
  let json: object = {};
  let shard = new Uint8Array();
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      json = {
        format: "layers-model",
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: a.weightSpecs }],
      };
      shard = new Uint8Array(a.weightData as ArrayBuffer);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  return { json, shard };
}

/** Gives every weight of the model seeded uniform values (running variances positive). */
export function randomiseWeights(model: tfl.LayersModel, seed: number): void {
  const r = new Rng(seed);
  const next = () => r.next();
  const values = model.weights.map((w) => {
    const n = w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
    const positive = /variance/.test(w.name);
    return tf.tensor(
      Float32Array.from({ length: n }, () => (positive ? 0.5 + next() : next() - 0.5)),
      w.shape as number[],
    );
  });
  model.setWeights(values);
}

export { tf, tfl };

export async function ensureTfjs(): Promise<void> {
  await setup();
}

/**
 * One item of a classifier batch run: the image read and checked against the model (loaded once
 * by the caller), the target chosen, then per method the map (through attribute's own method
 * runner, so batch and attribute give the same maps) and the metrics on it.
 */
import type { Model } from "../../attribution/types.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { tensor } from "../../ops/creation.ts";
import { reshape } from "../../ops/reshape.ts";
import { readImage } from "../../viz/image-io-node.ts";
import { encodeNpy } from "../../viz/npy.ts";
import { attributeWith, type Prepared } from "../attribute.ts";
import type { ResolvedModel } from "../attribute-models.ts";
import type { BatchItem } from "./items.ts";
import { BATCH_METRICS } from "./metrics.ts";

export interface ClassifierSetup {
  resolved: ResolvedModel;
  model: Model;
  /** The command's flag values (method options), shared by every item. */
  values: Record<string, string | undefined>;
  metrics: string[];
  batchSize?: number;
}

export interface ItemInput {
  prepared: Prepared;
  predicted: number;
  /** Softmax probability of the target. */
  probability: number;
}

/** Reads the item's image and runs the model once: target, its logit and probability. */
export async function prepareItem(
  s: ClassifierSetup,
  item: BatchItem,
  seed: number,
): Promise<ItemInput> {
  const c = s.resolved.channels;
  if (c !== 1 && c !== 3)
    throw new Error(`the model takes ${c} channels; images can feed 1 (grey) or 3 (RGB)`);
  const img = readImage(item.image, c === 1 ? 1 : 3);
  const size = s.resolved.size;
  if (size && (size[0] !== img.height || size[1] !== img.width))
    throw new Error(
      `the image is ${img.height}x${img.width} (HxW) but ${s.resolved.name} expects ${size[0]}x${size[1]}`,
    );
  const x = keep(tensor(img.data, [1, c, img.height, img.width]));
  try {
    const out = tidy(() => {
      const y = s.model(x);
      return keep(reshape(y, [y.shape[0], -1]));
    });
    const logits = Float32Array.from(await out.data());
    out.dispose();
    let predicted = 0;
    for (let k = 1; k < logits.length; k++) if (logits[k] > logits[predicted]) predicted = k;
    const target = item.target ?? predicted;
    if (target >= logits.length)
      throw new Error(
        `target ${target} is out of range: the model has ${logits.length} outputs (0..${logits.length - 1})`,
      );
    const top = logits[predicted];
    let z = 0;
    for (const v of logits) z += Math.exp(v - top);
    return {
      prepared: {
        values: { ...s.values, seed: String(seed), target: String(target) },
        resolved: s.resolved,
        model: s.model,
        x,
        image: img.data,
        target,
        score: logits[target],
        classes: logits.length,
      },
      predicted,
      probability: Math.exp(logits[target] - top) / z,
    };
  } catch (e) {
    x.dispose();
    throw e;
  }
}

export interface MethodOutput {
  npy: Uint8Array;
  record: Record<string, unknown>;
}

/** One method on a prepared item: the map as .npy bytes and the record fields. */
export async function runMethod(
  s: ClassifierSetup,
  input: ItemInput,
  method: string,
  seed: number,
  log: (line: string) => void,
): Promise<MethodOutput> {
  const p = input.prepared;
  const { result, seconds } = await attributeWith(p, method, log);
  try {
    const values = Float32Array.from(await result.map.data());
    const shape = [...result.map.shape];
    const metrics: Record<string, number | null> = {};
    const metricErrors: Record<string, string> = {};
    const t0 = performance.now();
    for (const name of s.metrics) {
      try {
        metrics[name] = await BATCH_METRICS[name].run({
          model: s.model,
          x: p.x,
          target: p.target,
          map: result.map,
          values,
          seed,
          batchSize: s.batchSize,
        });
      } catch (e) {
        metrics[name] = null;
        metricErrors[name] = (e as Error).message;
      }
    }
    const metricSeconds = (performance.now() - t0) / 1000;
    return {
      npy: encodeNpy(values, shape),
      record: {
        target: p.target,
        predicted: input.predicted,
        score: p.score,
        probability: input.probability,
        seed,
        shape,
        delta: result.delta ? result.delta[0] : null,
        metrics,
        ...(Object.keys(metricErrors).length ? { metric_errors: metricErrors } : {}),
        seconds: round(seconds),
        metric_seconds: round(metricSeconds),
      },
    };
  } finally {
    result.map.dispose();
  }
}

const round = (s: number) => Math.round(s * 1e4) / 1e4;

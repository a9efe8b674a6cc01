/**
 * An SR network's deep features for the feature-space analyses (SRGA, DDR): the output of one
 * layer, recorded by a scoped tap during an ordinary forward pass, mean-pooled over cells of the
 * feature map so each image gives several feature vectors (the statistics need samples). By
 * default the layer is the end of the network body, before the long skip and the upsampler:
 * `conv_after_body` for SwinIR/HAT/RRDBNet-style networks, `body` for EDSR/RCAN-style ones.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import type { Module } from "../../models/nn/module.ts";
import { withTaps } from "../../models/nn/taps.ts";

const BODY_ENDS = ["conv_after_body", "body"];

/** The dotted path of the module that ends `m`'s body, or an error naming what to pass instead. */
export function defaultFeatureLayer(m: Module): string {
  const names = new Set(m.namedChildren().map(([n]) => n));
  const found = BODY_ENDS.find((n) => names.has(n));
  if (!found)
    throw new Error(
      `no default feature layer: the model has no ${BODY_ENDS.join(" or ")} module; name one with --layer (a module's dotted path or an ONNX tensor/node name)`,
    );
  return found;
}

/** Mean of each channel over cells x cells blocks of a [C, H, W] map (cells clipped to H, W). */
export function poolCells(
  data: ArrayLike<number>,
  [c, h, w]: readonly [number, number, number],
  cell: number,
): Float64Array[] {
  const ch = Math.min(cell, h);
  const cw = Math.min(cell, w);
  const out: Float64Array[] = [];
  for (let y0 = 0; y0 + ch <= h; y0 += ch)
    for (let x0 = 0; x0 + cw <= w; x0 += cw) {
      const v = new Float64Array(c);
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (let y = y0; y < y0 + ch; y++)
          for (let x = x0; x < x0 + cw; x++) s += data[(k * h + y) * w + x];
        v[k] = s / (ch * cw);
      }
      out.push(v);
    }
  return out;
}

/**
 * Runs `run(lr)` once with a tap on `layer` and returns its output's cell-pooled feature vectors
 * (a [1, C, H, W] map; a [1, C] output gives one vector).
 */
export function deepFeatures(
  run: (lr: Tensor) => Tensor,
  lr: Tensor,
  layer: string,
  cell: number,
): Float64Array[] {
  let data: Float32Array | null = null;
  let shape: number[] = [];
  tidy(() => {
    withTaps(
      {
        [layer]: (out) => {
          if (!data) {
            data = Float32Array.from(out.dataSync());
            shape = out.shape.slice();
          }
          return out;
        },
      },
      () => run(lr),
    );
  });
  if (!data)
    throw new Error(
      `feature layer "${layer}" was never reached in the forward pass; give a module's dotted path or an ONNX tensor/node name`,
    );
  if (shape[0] !== 1)
    throw new Error(`feature layer "${layer}": expected one image per pass, got batch ${shape[0]}`);
  if (shape.length === 2) return [Float64Array.from(data as Float32Array)];
  if (shape.length !== 4)
    throw new Error(
      `feature layer "${layer}" gives [${shape}]; expected a [1, C, H, W] feature map or [1, C] vector`,
    );
  return poolCells(data, [shape[1], shape[2], shape[3]], cell);
}

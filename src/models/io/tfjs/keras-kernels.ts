/** Keras (channels-last) weight layouts to salient's PyTorch layouts. */
import type { NamedWeight } from "./weights.ts";

/** Conv2D kernel [kh, kw, in, out] -> [out, in, kh, kw] (OIHW). */
export function convKernelToOihw(k: NamedWeight, name: string): NamedWeight {
  if (k.shape.length !== 4) throw new Error(`${name}: conv kernel must be 4-D, got [${k.shape}]`);
  const [kh, kw, ci, co] = k.shape;
  const out = new Float32Array(k.values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) {
          out[((o * ci + i) * kh + y) * kw + x] = k.values[((y * kw + x) * ci + i) * co + o];
        }
  return { shape: [co, ci, kh, kw], values: out };
}

/** Dense kernel [in, out] -> [out, in]. */
export function denseKernelToOutIn(k: NamedWeight, name: string): NamedWeight {
  if (k.shape.length !== 2) throw new Error(`${name}: dense kernel must be 2-D, got [${k.shape}]`);
  const [ci, co] = k.shape;
  const out = new Float32Array(k.values.length);
  for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[o * ci + i] = k.values[i * co + o];
  return { shape: [co, ci], values: out };
}

/**
 * A Keras model's conv/dense weights ("layer/kernel", "layer/bias") as a state dict keyed the way
 * salient modules named after the Keras layers expect ("layer.weight", "layer.bias").
 */
export function kerasConvStateDict(
  weights: ReadonlyMap<string, NamedWeight>,
): Map<string, NamedWeight> {
  const out = new Map<string, NamedWeight>();
  for (const [name, w] of weights) {
    const slash = name.lastIndexOf("/");
    const layer = name.slice(0, slash);
    const kind = name.slice(slash + 1);
    if (kind === "kernel") {
      out.set(
        `${layer}.weight`,
        w.shape.length === 4 ? convKernelToOihw(w, name) : denseKernelToOutIn(w, name),
      );
    } else if (kind === "bias") {
      out.set(`${layer}.bias`, w);
    } else {
      throw new Error(`kerasConvStateDict: weight "${name}" is neither a kernel nor a bias`);
    }
  }
  return out;
}

/** Inverted dropout: active only in training, reproducible from a seed. */
import type { Tensor } from "../autodiff/tensor.ts";
import type { Random } from "../random.ts";
import { greaterEqual, mul } from "./binary.ts";
import { randomUniform } from "./creation.ts";
import { identity } from "./reshape.ts";

/**
 * Inverted dropout: in training, zeroes each element with probability `rate` and scales the rest by
 * 1 / (1 - rate); the identity otherwise.
 */
export function dropout(
  x: Tensor,
  rate: number,
  o: { training: boolean; seed?: number | Random },
): Tensor {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate ${rate} must be in [0, 1)`);
  if (!o.training || rate === 0) return identity(x);
  const keep = greaterEqual(randomUniform(x.shape, { seed: o.seed }), rate);
  return mul(x, mul(keep, 1 / (1 - rate)));
}

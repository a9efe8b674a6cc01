/** PyTorch's default initialisation, from a seeded generator so models are reproducible. */
import type { Tensor } from "../../autodiff/tensor.ts";
import { randomUniform, zeros } from "../../ops/creation.ts";
import type { Random } from "../../random.ts";

let skipping = 0;

/**
 * Builds modules inside `fn` with zero-filled weights instead of random ones (as
 * torch.nn.utils.skip_init): for models whose weights are loaded right after construction, which
 * saves drawing millions of random numbers.
 */
export function skipInit<T>(fn: () => T): T {
  skipping++;
  try {
    return fn();
  } finally {
    skipping--;
  }
}

/** kaiming_uniform(a = sqrt(5)) for weights and the matching bias bound: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export function defaultUniform(shape: readonly number[], fanIn: number, rng: Random): Tensor {
  if (skipping) return zeros(shape);
  const bound = 1 / Math.sqrt(fanIn);
  return randomUniform(shape, { seed: rng, low: -bound, high: bound });
}

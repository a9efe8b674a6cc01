/** PyTorch's default initialisation, from a seeded generator so models are reproducible. */
import type { Tensor } from "../../autodiff/tensor.ts";
import { randomUniform } from "../../ops/creation.ts";
import type { Random } from "../../random.ts";

/** kaiming_uniform(a = sqrt(5)) for weights and the matching bias bound: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export function defaultUniform(shape: readonly number[], fanIn: number, rng: Random): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return randomUniform(shape, { seed: rng, low: -bound, high: bound });
}

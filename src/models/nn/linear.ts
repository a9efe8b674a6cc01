import type { Tensor } from "../../autodiff/tensor.ts";
import { linear } from "../../ops/matmul.ts";
import { Random } from "../../random.ts";
import { defaultUniform } from "./init.ts";
import { Module } from "./module.ts";

/** torch.nn.Linear (weight [out, in]). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    o: { bias?: boolean; seed?: number | Random } = {},
  ) {
    super();
    const rng = o.seed instanceof Random ? o.seed : new Random(o.seed ?? 0);
    this.weight = this.param("weight", defaultUniform([outFeatures, inFeatures], inFeatures, rng));
    this.bias =
      o.bias === false ? null : this.param("bias", defaultUniform([outFeatures], inFeatures, rng));
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

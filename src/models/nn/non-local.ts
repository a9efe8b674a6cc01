/**
 * Embedded-Gaussian non-local block (Wang et al. 2018) on NCHW features:
 * z = x + W(softmax(theta(x)^T phi(x)) g(x)), with 1x1 convs g, theta, phi (C -> inter) and W
 * (inter -> C). `softmaxAxis` exists because the published SR networks differ: RNAN normalises
 * over the query positions (torch dim=1), SAN over the key positions (dim=-1).
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add } from "../../ops/binary.ts";
import { matmul } from "../../ops/matmul.ts";
import { reshape } from "../../ops/reshape.ts";
import { softmax } from "../../ops/softmax.ts";
import { transpose } from "../../ops/transpose.ts";
import { Random } from "../../random.ts";
import { Conv2d } from "./conv.ts";
import { Module } from "./module.ts";

export class NonLocalBlock2d extends Module {
  readonly g: Conv2d;
  readonly W: Conv2d;
  readonly theta: Conv2d;
  readonly phi: Conv2d;
  constructor(
    readonly channels: number,
    readonly inter: number,
    readonly softmaxAxis: 1 | -1 = -1,
    rng: Random = new Random(0),
  ) {
    super();
    // Registration order follows the PyTorch modules (g, W, theta, phi).
    this.g = this.child("g", new Conv2d(channels, inter, 1, { seed: rng }));
    this.W = this.child("W", new Conv2d(inter, channels, 1, { seed: rng }));
    this.theta = this.child("theta", new Conv2d(channels, inter, 1, { seed: rng }));
    this.phi = this.child("phi", new Conv2d(channels, inter, 1, { seed: rng }));
  }
  forward(x: Tensor): Tensor {
    const [n, , h, w] = x.shape;
    const flat = (t: Tensor) => reshape(t, [n, this.inter, h * w]);
    const gx = transpose(flat(this.g.call(x)), [0, 2, 1]); // [n, hw, inter]
    const thetaX = flat(this.theta.call(x)); // [n, inter, hw]
    const phiX = flat(this.phi.call(x));
    const f = matmul(thetaX, phiX, true, false); // [n, hw(query), hw(key)]
    const attn = softmax(f, this.softmaxAxis === 1 ? 1 : 2);
    const y = transpose(matmul(attn, gx), [0, 2, 1]); // [n, inter, hw]
    return add(this.W.call(reshape(y, [n, this.inter, h, w])), x);
  }
}

/**
 * Captum's ReLU-rule oracle: `BasicModel_ConvNet_One_Conv` from Captum's test helpers
 * (captum.testing.helpers.basic_models) on arange(16) as a [1, 1, 4, 4] image, target 0, with the
 * guided backprop and deconvnet maps Captum's own tests publish for it
 * (`test_simple_input_conv_gb` in test_guided_backprop_deconvnet.py, and its deconvnet twin). One
 * definition for the vitest, suite and Deno (WebGPU) tests; no vitest import, so Deno can load it.
 *
 * The net: conv 1 -> 2, 3x3, all-ones weights, bias (-50, -75); ReLU; flatten to 8; fc 8 -> 4 whose
 * every row is [1, 1, 1, 1, 1, -1, -1, -1] with zero bias (Captum builds the weight as
 * cat(ones(4, 5), -ones(4, 3))); ReLU. Layer "0" is the conv.
 */
import type { Tensor } from "../../src/autodiff/tensor.ts";
import * as s from "../../src/index.ts";
import { Conv2d, Flatten, Linear, ReLU, Sequential } from "../../src/models/nn/index.ts";

/**
 * The oracle's maps for target 0 on arange(16), row-major [1, 1, 4, 4]. The plain gradient by
 * hand: the conv's 2x2 outputs are window sums (45, 54, 81, 90) minus the bias, so channel 0 is
 * active at top-right, bottom-left and bottom-right (weight +1) and channel 1 at bottom-left and
 * bottom-right (weight -1); the bottom windows cancel and the gradient is the top-right 3x3
 * window of ones.
 */
export const CAPTUM_CONVNET_MAPS = {
  gradient: [0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0],
  guidedBackprop: [0, 1, 1, 1, 1, 3, 3, 2, 1, 3, 3, 2, 1, 2, 2, 1],
  deconvnet: [2, 3, 3, 1, 3, 5, 5, 2, 3, 5, 5, 2, 1, 2, 2, 1],
} as const;

/** Output 0 on arange(16): (0 + 4 + 31 + 40) - (0 + 0 + 6 + 15) after the ReLUs. */
export const CAPTUM_CONVNET_SCORE = 54;

const FC_ROW = [1, 1, 1, 1, 1, -1, -1, -1];

/** The net as a module (Sequential, layer names "0".."4"). */
export function captumConvNet(): { net: Sequential; model: (x: Tensor) => Tensor } {
  const net = new Sequential(
    new Conv2d(1, 2, 3),
    new ReLU(),
    new Flatten(),
    new Linear(8, 4),
    new ReLU(),
  );
  net.loadStateDict(
    new Map([
      ["0.weight", s.ones([2, 1, 3, 3])],
      ["0.bias", s.tensor([-50, -75])],
      ["3.weight", s.tensor(Array.from({ length: 4 }, () => FC_ROW))],
      ["3.bias", s.zeros([4])],
    ]),
  );
  return { net, model: (x) => net.call(x) };
}

/**
 * The net as plain ops, output 0 summed to a scalar; `fused` runs the conv's ReLU as
 * conv2d(..., { relu: true }) so the fused kernel must honour the active rule set.
 */
export function captumConvNetScore(x: Tensor, fused: boolean): Tensor {
  const w1 = s.ones([2, 1, 3, 3]);
  const b1 = s.tensor([-50, -75]);
  const h = fused
    ? s.conv2d(x, w1, { bias: b1, relu: true })
    : s.relu(s.conv2d(x, w1, { bias: b1 }));
  const fc = s.tensor([FC_ROW, FC_ROW, FC_ROW, FC_ROW]);
  const out = s.relu(s.linear(s.reshape(h, [1, 8]), fc, s.zeros([4])));
  return s.sum(s.slice(out, [0, 0], [1, 1]));
}

/** arange(16) as the [1, 1, 4, 4] input. */
export function captumConvNetInput(): Tensor {
  return s.tensor(
    Float32Array.from({ length: 16 }, (_, i) => i),
    [1, 1, 4, 4],
  );
}

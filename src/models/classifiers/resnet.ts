/**
 * A ResNet-style classifier (He et al. 2016) for small images, CIFAR-style: a 3x3 stem, stages of
 * basic blocks (two 3x3 conv + BatchNorm, identity skip or a strided 1x1 conv + BatchNorm
 * projection), global average pooling and a linear layer. Names follow torchvision's ResNet
 * (conv1, bn1, layerK.N.{conv1,bn1,conv2,bn2,downsample.{0,1}}, fc). The output of the last stage
 * is the Grad-CAM layer.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add } from "../../ops/binary.ts";
import { flatten } from "../../ops/reshape.ts";
import { relu } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { Conv2d } from "../nn/conv.ts";
import { convBatchNorm } from "../nn/conv-batch-norm.ts";
import { Linear } from "../nn/linear.ts";
import { Module } from "../nn/module.ts";
import { BatchNorm2d } from "../nn/norm.ts";
import { AdaptiveAvgPool2d } from "../nn/pooling.ts";
import { Sequential } from "../nn/sequential.ts";
import { applyTap } from "../nn/taps.ts";

/** ResNet layout: input channels, classes, stage widths, blocks per stage and init seed. */
export interface ResNetConfig {
  inChannels: number;
  classes: number;
  widths: number[];
  blocksPerStage: number[];
  seed: number;
}

export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;
  constructor(inCh: number, outCh: number, stride: number, rng: Random) {
    super();
    this.conv1 = this.child(
      "conv1",
      new Conv2d(inCh, outCh, 3, { stride, padding: 1, bias: false, seed: rng }),
    );
    this.bn1 = this.child("bn1", new BatchNorm2d(outCh));
    this.conv2 = this.child(
      "conv2",
      new Conv2d(outCh, outCh, 3, { padding: 1, bias: false, seed: rng }),
    );
    this.bn2 = this.child("bn2", new BatchNorm2d(outCh));
    this.downsample =
      stride !== 1 || inCh !== outCh
        ? this.child(
            "downsample",
            new Sequential(
              new Conv2d(inCh, outCh, 1, { stride, bias: false, seed: rng }),
              new BatchNorm2d(outCh),
            ),
          )
        : null;
  }
  forward(x: Tensor): Tensor {
    const h = relu(convBatchNorm(this.conv1, this.bn1, x));
    const y = convBatchNorm(this.conv2, this.bn2, h);
    return relu(add(y, this.downsample ? this.shortcut(this.downsample, x) : x));
  }
  /** The strided 1x1 conv + BatchNorm shortcut, folded like the main path. */
  private shortcut(ds: Sequential, x: Tensor): Tensor {
    const [conv, bn] = ds.layers as [Conv2d, BatchNorm2d];
    return applyTap(ds.path, convBatchNorm(conv, bn, x));
  }
}

export class ResNet extends Module {
  static readonly defaults: ResNetConfig = {
    inChannels: 1,
    classes: 10,
    widths: [16, 32, 64],
    blocksPerStage: [2, 2, 2],
    seed: 0,
  };
  /** The output of the last stage with the default configuration. */
  static readonly gradCamLayer = "layer3";
  readonly config: ResNetConfig;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly stages: Sequential[];
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: Linear;
  readonly gradCamLayer: string;

  constructor(config: Partial<ResNetConfig> = {}) {
    super();
    const c = { ...ResNet.defaults, ...config };
    if (c.widths.length !== c.blocksPerStage.length || c.widths.length === 0) {
      throw new Error(
        `ResNet: widths [${c.widths}] and blocksPerStage [${c.blocksPerStage}] must be non-empty and of equal length`,
      );
    }
    this.config = c;
    const rng = new Random(c.seed);
    this.conv1 = this.child(
      "conv1",
      new Conv2d(c.inChannels, c.widths[0], 3, { padding: 1, bias: false, seed: rng }),
    );
    this.bn1 = this.child("bn1", new BatchNorm2d(c.widths[0]));
    let ch = c.widths[0];
    this.stages = c.widths.map((w, s) => {
      const blocks = Array.from(
        { length: c.blocksPerStage[s] },
        (_, i) => new BasicBlock(i === 0 ? ch : w, w, i === 0 && s > 0 ? 2 : 1, rng),
      );
      ch = w;
      return this.child(`layer${s + 1}`, new Sequential(...blocks));
    });
    this.gradCamLayer = `layer${c.widths.length}`;
    this.avgpool = this.child("avgpool", new AdaptiveAvgPool2d(1));
    this.fc = this.child("fc", new Linear(ch, c.classes, { seed: rng }));
  }

  forward(x: Tensor): Tensor {
    let h = relu(convBatchNorm(this.conv1, this.bn1, x));
    for (const s of this.stages) h = s.call(h);
    return this.fc.call(flatten(this.avgpool.call(h), 1));
  }
}

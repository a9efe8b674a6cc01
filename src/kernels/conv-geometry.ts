/**
 * Shape arithmetic of the generalised 2-D convolution shared by every backend.
 *
 * The input is first dilated (inputDilation - 1 zeros between pixels; this is how transposed
 * convolutions and input gradients reuse the forward kernel), then padded (pads may be negative,
 * which crops), then correlated with the kernel dilated by `dilation`, sampled every `stride`.
 */
export interface Conv2dParams {
  stride: readonly [number, number];
  dilation: readonly [number, number];
  inputDilation: readonly [number, number];
  /** [top, bottom, left, right]; negative values crop. */
  pad: readonly [number, number, number, number];
  groups: number;
}

export interface Conv2dGeometry extends Conv2dParams {
  batch: number;
  inChannels: number;
  inHeight: number;
  inWidth: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  outHeight: number;
  outWidth: number;
}

/** Output length of one spatial axis of the generalised convolution. */
export function convOutLength(
  inLen: number,
  kernel: number,
  stride: number,
  dilation: number,
  inputDilation: number,
  padBefore: number,
  padAfter: number,
): number {
  const dilatedIn = (inLen - 1) * inputDilation + 1;
  const span = (kernel - 1) * dilation + 1;
  return Math.floor((dilatedIn + padBefore + padAfter - span) / stride) + 1;
}

/** Builds and validates the geometry for x [N, C, H, W] and w [O, C / groups, kh, kw]. */
export function conv2dGeometry(
  xShape: readonly number[],
  wShape: readonly number[],
  p: Conv2dParams,
  op = "conv2d",
): Conv2dGeometry {
  if (xShape.length !== 4 || wShape.length !== 4) {
    throw new Error(
      `${op}: expected input [N, C, H, W] and weight [O, C/groups, kh, kw], got input [${xShape}] and weight [${wShape}]`,
    );
  }
  const [batch, inChannels, inHeight, inWidth] = xShape;
  const [outChannels, wIn, kernelH, kernelW] = wShape;
  const { groups } = p;
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups || outChannels % groups) {
    throw new Error(
      `${op}: groups=${groups} must divide both input channels (${inChannels}) and output channels (${outChannels})`,
    );
  }
  if (wIn * groups !== inChannels) {
    throw new Error(
      `${op}: weight [${wShape}] expects ${wIn * groups} input channels (${wIn} per group x ${groups} groups) but input [${xShape}] has ${inChannels}`,
    );
  }
  for (const [name, v] of [
    ["stride", p.stride],
    ["dilation", p.dilation],
    ["inputDilation", p.inputDilation],
  ] as const) {
    if (!v.every((s) => Number.isInteger(s) && s >= 1)) {
      throw new Error(`${op}: ${name} must be positive integers, got [${v}]`);
    }
  }
  const outHeight = convOutLength(
    inHeight,
    kernelH,
    p.stride[0],
    p.dilation[0],
    p.inputDilation[0],
    p.pad[0],
    p.pad[1],
  );
  const outWidth = convOutLength(
    inWidth,
    kernelW,
    p.stride[1],
    p.dilation[1],
    p.inputDilation[1],
    p.pad[2],
    p.pad[3],
  );
  if (outHeight < 1 || outWidth < 1) {
    throw new Error(
      `${op}: input [${xShape}] with kernel ${kernelH}x${kernelW}, padding [${p.pad}], dilation [${p.dilation}] and stride [${p.stride}] leaves an empty output (${outHeight}x${outWidth})`,
    );
  }
  // Written out rather than `...p`: a spread of the callers' differently shaped option objects
  // took V8's slow path (12 us a call, called several times per conv op).
  return {
    stride: p.stride,
    dilation: p.dilation,
    inputDilation: p.inputDilation,
    pad: p.pad,
    groups: p.groups,
    batch,
    inChannels,
    inHeight,
    inWidth,
    outChannels,
    kernelH,
    kernelW,
    outHeight,
    outWidth,
  };
}

/**
 * Stride 1, no kernel or input dilation and no cropping (pads >= 0): a plain sliding window, the
 * case the direct and Winograd CPU kernels handle.
 */
export function isPlainWindow(g: Conv2dGeometry): boolean {
  return (
    g.stride[0] === 1 &&
    g.stride[1] === 1 &&
    g.dilation[0] === 1 &&
    g.dilation[1] === 1 &&
    g.inputDilation[0] === 1 &&
    g.inputDilation[1] === 1 &&
    g.pad.every((p) => p >= 0)
  );
}

/** Shape arithmetic of 2-D max/avg pooling over NCHW inputs, shared by every backend. */
export interface PoolParams {
  kernel: readonly [number, number];
  stride: readonly [number, number];
  /** [top, bottom, left, right] implicit padding (never counted as a max candidate). */
  pad: readonly [number, number, number, number];
  /** Average pooling: divide by the full window size (PyTorch default) or by the in-bounds count. */
  countIncludePad: boolean;
}

export interface PoolGeometry extends PoolParams {
  batch: number;
  channels: number;
  inHeight: number;
  inWidth: number;
  outHeight: number;
  outWidth: number;
}

export function poolGeometry(
  xShape: readonly number[],
  p: PoolParams,
  ceilMode = false,
  op = "pool2d",
): PoolGeometry {
  if (xShape.length !== 4) throw new Error(`${op}: expected input [N, C, H, W], got [${xShape}]`);
  const [batch, channels, inHeight, inWidth] = xShape;
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  if (![kh, kw, sh, sw].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error(
      `${op}: kernel [${p.kernel}] and stride [${p.stride}] must be positive integers`,
    );
  }
  if (!p.pad.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new Error(`${op}: padding [${p.pad}] must be non-negative integers`);
  }
  if (Math.max(p.pad[0], p.pad[1]) > kh / 2 || Math.max(p.pad[2], p.pad[3]) > kw / 2) {
    throw new Error(`${op}: padding [${p.pad}] must be at most half the kernel [${p.kernel}]`);
  }
  const round = ceilMode ? Math.ceil : Math.floor;
  const len = (n: number, k: number, s: number, a: number, b: number) => {
    let out = round((n + a + b - k) / s) + 1;
    // PyTorch: with ceil mode the last window must start inside the input or left padding.
    if (ceilMode && (out - 1) * s >= n + a) out--;
    return out;
  };
  const outHeight = len(inHeight, kh, sh, p.pad[0], p.pad[1]);
  const outWidth = len(inWidth, kw, sw, p.pad[2], p.pad[3]);
  if (outHeight < 1 || outWidth < 1) {
    throw new Error(
      `${op}: input [${xShape}] is smaller than the ${kh}x${kw} window (with padding [${p.pad}])`,
    );
  }
  // Written out, not `...p`: see conv2dGeometry.
  const { kernel, stride, pad, countIncludePad } = p;
  return {
    kernel,
    stride,
    pad,
    countIncludePad,
    batch,
    channels,
    inHeight,
    inWidth,
    outHeight,
    outWidth,
  };
}

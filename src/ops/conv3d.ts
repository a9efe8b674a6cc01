/**
 * 3-D convolution and transposed convolution (NCDHW, weights OIDHW / IODHW) as sums of 2-D ones
 * over the depth taps: depth tap z of a conv reads depth od * stride + z * dilation of the padded
 * input, so it is a 2-D conv of those slices (all output depths batched together) with the
 * weight's z-th plane. Everything is made of differentiable ops, so gradients and every backend
 * come for free; the cost is kd 2-D convs plus a transpose each way.
 */
import type { Tensor } from "../autodiff/tensor.ts";
import { add } from "./binary.ts";
import { conv2d, conv2dTranspose } from "./conv.ts";
import { pad } from "./pad.ts";
import { reshape } from "./reshape.ts";
import { slice } from "./slice.ts";
import { transpose } from "./transpose.ts";

/** Three entries: depth, height, width. */
type Triple = readonly number[];

export interface Conv3dOptions {
  bias?: Tensor | null;
  stride?: Triple;
  dilation?: Triple;
  /** [before, after] per spatial axis (depth, height, width). */
  pads?: readonly (readonly [number, number])[];
  groups?: number;
}

function check(
  op: string,
  x: Tensor,
  w: Tensor,
  wChannelAxis: 0 | 1,
  groups: number,
  per: Record<string, readonly unknown[] | undefined>,
) {
  for (const [name, v] of Object.entries(per)) {
    if (v !== undefined && v.length !== 3)
      throw new Error(
        `${op}: ${name} ${JSON.stringify(v)} must have 3 entries (depth, height, width)`,
      );
  }
  if (x.rank !== 5 || w.rank !== 5) {
    throw new Error(
      `${op}: expected x [N, C, D, H, W] and a 5-D weight, got x [${x.shape}] and w [${w.shape}]`,
    );
  }
  const expected = wChannelAxis === 1 ? w.shape[1] * groups : w.shape[0];
  if (x.shape[1] !== expected) {
    throw new Error(
      `${op}: input [${x.shape}] has ${x.shape[1]} channels but w [${w.shape}] expects ${expected} (groups ${groups})`,
    );
  }
}

/** [N, C, D, H, W] -> [N * D, C, H, W] and back. */
const depthIntoBatch = (t: Tensor) =>
  reshape(transpose(t, [0, 2, 1, 3, 4]), [
    t.shape[0] * t.shape[2],
    t.shape[1],
    t.shape[3],
    t.shape[4],
  ]);
const batchIntoDepth = (t: Tensor, n: number) =>
  transpose(reshape(t, [n, t.shape[0] / n, t.shape[1], t.shape[2], t.shape[3]]), [0, 2, 1, 3, 4]);

/** w [A, B, kd, kh, kw] -> its depth plane z, [A, B, kh, kw]. */
const plane = (w: Tensor, z: number) =>
  reshape(slice(w, [0, 0, z, 0, 0], [w.shape[0], w.shape[1], 1, w.shape[3], w.shape[4]]), [
    w.shape[0],
    w.shape[1],
    w.shape[3],
    w.shape[4],
  ]);

const withBias = (y: Tensor, b: Tensor | null | undefined) =>
  b ? add(y, reshape(b, [1, b.size, 1, 1, 1])) : y;

/** ONNX Conv / torch.nn.functional.conv3d: x [N, C, D, H, W], w [O, C/groups, kd, kh, kw]. */
export function conv3d(x: Tensor, w: Tensor, o: Conv3dOptions = {}): Tensor {
  const groups = o.groups ?? 1;
  check("conv3d", x, w, 1, groups, { stride: o.stride, dilation: o.dilation, pads: o.pads });
  const [sd, sh, sw] = o.stride ?? [1, 1, 1];
  const [dd, dh, dw] = o.dilation ?? [1, 1, 1];
  const [[d0, d1], [h0, h1], [w0, w1]] = o.pads ?? [
    [0, 0],
    [0, 0],
    [0, 0],
  ];
  const kd = w.shape[2];
  const xp = pad(x, [
    [0, 0],
    [0, 0],
    [d0, d1],
  ]);
  const depth = xp.shape[2];
  const outD = Math.floor((depth - dd * (kd - 1) - 1) / sd) + 1;
  if (outD < 1)
    throw new Error(`conv3d: empty output depth for input [${x.shape}] and w [${w.shape}]`);
  let y: Tensor | null = null;
  for (let z = 0; z < kd; z++) {
    const xs = slice(
      xp,
      [0, 0, z * dd, 0, 0],
      [xp.shape[0], xp.shape[1], outD, xp.shape[3], xp.shape[4]],
      [1, 1, sd, 1, 1],
    );
    const yz = conv2d(depthIntoBatch(xs), plane(w, z), {
      stride: [sh, sw],
      dilation: [dh, dw],
      padding: [h0, h1, w0, w1],
      groups,
    });
    y = y === null ? yz : add(y, yz);
  }
  return withBias(batchIntoDepth(y as Tensor, x.shape[0]), o.bias);
}

export interface Conv3dTransposeOptions {
  bias?: Tensor | null;
  stride?: Triple;
  dilation?: Triple;
  groups?: number;
}

/**
 * The full transposed 3-D conv (no padding or output padding; crop or extend the result for
 * those): x [N, Cin, D, H, W], w [Cin, Cout/groups, kd, kh, kw] -> [N, Cout, (D-1) sd + (kd-1) dd
 * + 1, ...]. Depth tap z of input depth i lands on output depth i * sd + z * dd.
 */
export function conv3dTransposeFull(x: Tensor, w: Tensor, o: Conv3dTransposeOptions = {}): Tensor {
  const groups = o.groups ?? 1;
  check("conv3dTranspose", x, w, 0, groups, { stride: o.stride, dilation: o.dilation });
  const [sd, sh, sw] = o.stride ?? [1, 1, 1];
  const [dd, dh, dw] = o.dilation ?? [1, 1, 1];
  const [n, , depth] = x.shape;
  const kd = w.shape[2];
  const full = (depth - 1) * sd + (kd - 1) * dd + 1;
  const xb = depthIntoBatch(x);
  let y: Tensor | null = null;
  for (let z = 0; z < kd; z++) {
    // [N * D, Cout, H', W'] -> [N, Cout, D, H', W'], spread to every sd-th depth from z * dd.
    let yz = batchIntoDepth(
      conv2dTranspose(xb, plane(w, z), { stride: [sh, sw], dilation: [dh, dw], groups }),
      n,
    );
    const [, c, , hh, ww] = yz.shape;
    if (sd > 1) {
      yz = pad(reshape(yz, [n, c, depth, 1, hh * ww]), [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, sd - 1],
      ]);
      yz = slice(
        reshape(yz, [n, c, depth * sd, hh, ww]),
        [0, 0, 0, 0, 0],
        [n, c, (depth - 1) * sd + 1, hh, ww],
      );
    }
    const before = z * dd;
    yz = pad(yz, [
      [0, 0],
      [0, 0],
      [before, full - before - yz.shape[2]],
    ]);
    y = y === null ? yz : add(y, yz);
  }
  return withBias(y as Tensor, o.bias);
}

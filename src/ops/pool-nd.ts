/**
 * Max and average pooling over any number of spatial axes (N, C, ...spatial), with dilation: the
 * cases the 2-D kernels do not cover (3-D volumes, dilated windows). Each kernel tap is a strided
 * slice of the padded input and the taps are combined elementwise (maximum or sum), so forward
 * and backward run on every backend from existing differentiable ops. The work is
 * prod(kernel) slices of the output's size: meant for coverage, not as a fast path.
 */
import type { Tensor } from "../autodiff/tensor.ts";
import { add, div, maximum } from "./binary.ts";
import { onesLike } from "./creation.ts";
import { pad } from "./pad.ts";
import { slice } from "./slice.ts";

export interface PoolNdOptions {
  kernel: readonly number[];
  /** Default 1 per axis. */
  stride?: readonly number[];
  /** Default 1 per axis (1 = adjacent taps). */
  dilation?: readonly number[];
  /** [before, after] per spatial axis; default none. */
  pads?: readonly (readonly [number, number])[];
  /** PyTorch/ONNX ceil mode: a last partial window when it starts inside input or left padding. */
  ceilMode?: boolean;
  /** Average pooling: divide by the window size including padding (not the ceil extension). */
  countIncludePad?: boolean;
}

interface Plan {
  out: number[];
  /** Padding per axis: the explicit pads, the ceil-mode extension added after. */
  pads: [number, number][];
  extension: number[];
  stride: number[];
  dilation: number[];
}

function plan(op: string, x: Tensor, o: PoolNdOptions): Plan {
  const n = x.rank - 2;
  const per = (name: string, v: readonly number[] | undefined, fallback: number, min: number) => {
    const vals = v ?? new Array<number>(n).fill(fallback);
    if (vals.length !== n || vals.some((d) => !Number.isInteger(d) || d < min)) {
      throw new Error(
        `${op}: ${name} [${vals}] must be ${n} integers >= ${min} for input [${x.shape}]`,
      );
    }
    return [...vals];
  };
  if (n < 1) throw new Error(`${op}: expected [N, C, ...spatial], got [${x.shape}]`);
  const kernel = per("kernel", o.kernel, 1, 1);
  const stride = per("stride", o.stride, 1, 1);
  const dilation = per("dilation", o.dilation, 1, 1);
  const pads = (o.pads ?? new Array(n).fill([0, 0])).map(([a, b]) => [a, b] as [number, number]);
  if (pads.length !== n || pads.flat().some((p) => !Number.isInteger(p) || p < 0)) {
    throw new Error(
      `${op}: pads ${JSON.stringify(o.pads)} must be ${n} non-negative [before, after] pairs`,
    );
  }
  const out: number[] = [];
  const extension: number[] = [];
  for (let i = 0; i < n; i++) {
    const size = x.shape[2 + i];
    const span = dilation[i] * (kernel[i] - 1) + 1;
    const room = size + pads[i][0] + pads[i][1] - span;
    if (room < 0) {
      throw new Error(
        `${op}: window ${span} (kernel ${kernel[i]}, dilation ${dilation[i]}) is larger than padded axis ${i} (${size + pads[i][0] + pads[i][1]})`,
      );
    }
    let len = Math.floor((o.ceilMode ? Math.ceil : Math.floor)(room / stride[i])) + 1;
    if (o.ceilMode && (len - 1) * stride[i] >= size + pads[i][0]) len--;
    out.push(len);
    extension.push(Math.max(0, (len - 1) * stride[i] + span - (size + pads[i][0] + pads[i][1])));
  }
  return { out, pads, extension, stride, dilation };
}

/** Combines the strided slices of xp at every kernel tap with f. */
function overTaps(
  xp: Tensor,
  p: Plan,
  kernel: readonly number[],
  f: (a: Tensor, b: Tensor) => Tensor,
) {
  const n = kernel.length;
  const tap = new Array<number>(n).fill(0);
  let acc: Tensor | null = null;
  for (;;) {
    const begin = [0, 0, ...tap.map((t, i) => t * p.dilation[i])];
    const s = slice(xp, begin, [xp.shape[0], xp.shape[1], ...p.out], [1, 1, ...p.stride]);
    acc = acc === null ? s : f(acc, s);
    let i = n - 1;
    while (i >= 0 && ++tap[i] === kernel[i]) tap[i--] = 0;
    if (i < 0) return acc;
  }
}

type Pads = [number, number][];
const NC: Pads = [
  [0, 0],
  [0, 0],
];
/** Explicit pads plus the ceil-mode extension. */
const allPads = (p: Plan): Pads => [
  ...NC,
  ...p.pads.map(([a, b], i): [number, number] => [a, b + p.extension[i]]),
];
const explicitPads = (p: Plan): Pads => [...NC, ...p.pads];
const extensionPads = (p: Plan): Pads => [
  ...NC,
  ...p.extension.map((e): [number, number] => [0, e]),
];

/** Max pooling (padding never wins: it is -Inf). */
export function maxPoolNd(x: Tensor, o: PoolNdOptions): Tensor {
  const p = plan("maxPoolNd", x, o);
  return overTaps(pad(x, allPads(p), "constant", -Infinity), p, o.kernel, maximum);
}

/** Average pooling; the divisor counts input cells (and explicit padding with countIncludePad). */
export function avgPoolNd(x: Tensor, o: PoolNdOptions): Tensor {
  const p = plan("avgPoolNd", x, o);
  const sums = overTaps(pad(x, allPads(p)), p, o.kernel, add);
  // Ones over the cells that count, zeros elsewhere; the same window sums give the divisors.
  const ones = onesLike(x);
  const counted = o.countIncludePad
    ? pad(pad(ones, explicitPads(p), "constant", 1), extensionPads(p))
    : pad(ones, allPads(p));
  return div(sums, overTaps(counted, p, o.kernel, add));
}

/**
 * MaxPool's second output, Indices, computed on the host from the input values and the pooling
 * geometry (so the shared CPU/WebGPU max-pool kernels stay as they are). Indices are not
 * differentiable: they are int64 host arrays that never enter the tape.
 */
import { sizeOf } from "../../../kernels/shape.ts";
import { HostArray } from "./host.ts";

export interface PoolWindows {
  /** Window size per spatial axis. */
  kernel: readonly number[];
  stride: readonly number[];
  dilation: readonly number[];
  /** Padding before each spatial axis (the window origin is `o * stride - padBegin`). */
  padBegin: readonly number[];
  /** Output size per spatial axis (as the value computation produced it). */
  outSize: readonly number[];
}

export interface MaxPoolArgmax {
  /** Row-major flat input index of each window's maximum; -1 for a window of padding only. */
  rowMajor: Int32Array;
  /** The same positions as ONNX Indices: int64, laid out per `storage_order`. */
  indices: HostArray;
}

/**
 * For each output position, the first maximum of its window in scan order (last spatial axis
 * fastest), as ONNX and its reference implementations define it: a later equal value does not
 * displace an earlier one. `columnMajor` (storage_order 1) numbers each (n, c) plane with the
 * first spatial axis fastest; the batch and channel offsets are the same in both orders.
 */
export function maxPoolArgmax(
  data: ArrayLike<number>,
  shape: readonly number[],
  g: PoolWindows,
  columnMajor: boolean,
): MaxPoolArgmax {
  const spatial = shape.slice(2);
  const n = spatial.length;
  for (const [name, v] of Object.entries(g)) {
    if ((v as readonly number[]).length !== n)
      throw new Error(`MaxPool indices: ${name} [${v}] should have ${n} entries`);
  }
  const planes = shape[0] * shape[1];
  const planeSize = sizeOf(spatial);
  const outPlane = sizeOf(g.outSize);
  const windowSize = sizeOf(g.kernel);
  // Strides of the input plane in row-major (numbering the values) and the requested order.
  const rowStride = new Array<number>(n);
  const orderStride = new Array<number>(n);
  for (let i = n - 1, s = 1; i >= 0; i--) {
    rowStride[i] = s;
    s *= spatial[i];
  }
  for (let i = 0, s = 1; i < n; i++) {
    orderStride[i] = columnMajor ? s : rowStride[i];
    s *= spatial[i];
  }
  const rowMajor = new Int32Array(planes * outPlane);
  const out = new Float64Array(planes * outPlane);
  const outPos = new Array<number>(n);
  const kPos = new Array<number>(n);
  for (let o = 0; o < outPlane; o++) {
    for (let i = n - 1, r = o; i >= 0; i--) {
      outPos[i] = r % g.outSize[i];
      r = Math.floor(r / g.outSize[i]);
    }
    for (let p = 0; p < planes; p++) {
      const base = p * planeSize;
      let best = Number.NaN;
      let bestRow = -1;
      let bestOrdered = -1;
      for (let k = 0; k < windowSize; k++) {
        for (let i = n - 1, r = k; i >= 0; i--) {
          kPos[i] = r % g.kernel[i];
          r = Math.floor(r / g.kernel[i]);
        }
        let row = 0;
        let ordered = 0;
        let inside = true;
        for (let i = 0; i < n; i++) {
          const at = outPos[i] * g.stride[i] - g.padBegin[i] + kPos[i] * g.dilation[i];
          if (at < 0 || at >= spatial[i]) {
            inside = false;
            break;
          }
          row += at * rowStride[i];
          ordered += at * orderStride[i];
        }
        if (!inside) continue;
        const v = data[base + row];
        if (bestRow < 0 || v > best) {
          best = v;
          bestRow = row;
          bestOrdered = ordered;
        }
      }
      rowMajor[p * outPlane + o] = bestRow < 0 ? -1 : base + bestRow;
      out[p * outPlane + o] = bestRow < 0 ? -1 : base + bestOrdered;
    }
  }
  return {
    rowMajor,
    indices: new HostArray("int64", [shape[0], shape[1], ...g.outSize], out),
  };
}

/** Strided slicing (with negative steps), reverse, and split. */
import { backendOf, fromHandle, normalizeAxes } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { scatterAdd } from "./gather.ts";
import { pad } from "./pad.ts";
import { identity } from "./reshape.ts";

export const sliceOp: OpDef<"slice"> = defineOp({
  name: "slice",
  forward([x], { begin, size, step }) {
    const backend = backendOf("slice", [x]);
    return fromHandle(backend.slice(x, begin, size, step), size, x.dtype, backend);
  },
  vjp(dy, { inputs: [x], attrs: { begin, size, step } }) {
    return [
      () => {
        if (step.every((s) => s === 1)) {
          return pad(
            dy,
            begin.map((b, i) => [b, x.shape[i] - b - size[i]] as [number, number]),
          );
        }
        // General steps: scatter each sliced axis back to its source positions.
        let g = dy;
        for (let ax = 0; ax < x.rank; ax++) {
          if (step[ax] === 1 && size[ax] === x.shape[ax]) continue;
          const idx = Array.from({ length: size[ax] }, (_, i) => begin[ax] + i * step[ax]);
          g = scatterAdd(g, idx, ax, x.shape[ax]);
        }
        return g;
      },
    ];
  },
});

/**
 * x[begin : begin + size * step : step] per axis. `size` -1 takes everything to the end (or to
 * the start for negative steps). Missing trailing axes are taken whole.
 */
export function slice(
  x: Tensor,
  begin: readonly number[],
  size?: readonly number[],
  step?: readonly number[],
): Tensor {
  const b: number[] = [];
  const s: number[] = [];
  const st: number[] = [];
  for (let ax = 0; ax < x.rank; ax++) {
    const n = x.shape[ax];
    const k = step?.[ax] ?? 1;
    if (!Number.isInteger(k) || k === 0)
      throw new Error(`slice: step ${k} on axis ${ax} must be a non-zero integer`);
    let from = begin[ax] ?? (k > 0 ? 0 : n - 1);
    if (from < 0) from += n;
    const avail = k > 0 ? Math.ceil((n - from) / k) : Math.floor(from / -k) + 1;
    const len = size?.[ax] === undefined || size[ax] === -1 ? avail : size[ax];
    // An empty slice may start one past the end (x[n:n], e.g. a zero-size piece of split).
    if (from === n && len === 0) {
      b.push(from);
      s.push(0);
      st.push(k);
      continue;
    }
    if (from < 0 || from >= n || len < 0 || len > avail) {
      throw new Error(
        `slice: begin ${begin[ax]}, size ${size?.[ax]}, step ${k} do not fit axis ${ax} of length ${n} in [${x.shape}]`,
      );
    }
    b.push(from);
    s.push(len);
    st.push(k);
  }
  if (s.every((d, i) => d === x.shape[i]) && st.every((k) => k === 1)) return identity(x);
  return runOp(sliceOp, [x], { begin: b, size: s, step: st });
}

/** Reverses the order along the given axes. */
export function reverse(x: Tensor, axes: readonly number[]): Tensor {
  const ax = normalizeAxes("reverse", axes, x.rank);
  return slice(
    x,
    x.shape.map((d, i) => (ax.includes(i) ? d - 1 : 0)),
    undefined,
    x.shape.map((_, i) => (ax.includes(i) ? -1 : 1)),
  );
}

/** Splits along `axis` into pieces of the given sizes (or into n equal pieces). */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const [ax] = normalizeAxes("split", [axis], x.rank);
  const n = x.shape[ax];
  const list = typeof sizes === "number" ? Array<number>(sizes).fill(n / sizes) : sizes;
  if (list.some((d) => !Number.isInteger(d) || d < 0) || list.reduce((a, b) => a + b, 0) !== n) {
    throw new Error(`split: sizes [${list}] do not add up to ${n} (axis ${ax} of [${x.shape}])`);
  }
  let start = 0;
  return list.map((d) => {
    const begin = x.shape.map((_, i) => (i === ax ? start : 0));
    const size = x.shape.map((s, i) => (i === ax ? d : s));
    start += d;
    return slice(x, begin, size);
  });
}

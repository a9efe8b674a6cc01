/** Padding with a constant, by reflection (edge not repeated) or by replicating the edge. */
import { backendOf, fromHandle } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import type { PadMode } from "../kernels/backend.ts";
import { scatterAdd } from "./gather.ts";
import { identity } from "./reshape.ts";
import { slice } from "./slice.ts";

/** Source index of padded position p on an axis of length n (the same folding as the kernels). */
function source(p: number, n: number, mode: PadMode): number {
  if (p >= 0 && p < n) return p;
  if (mode === "replicate") return p < 0 ? 0 : n - 1;
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const q = ((p % period) + period) % period;
  return q >= n ? period - q : q;
}

export const padOp: OpDef<"pad"> = defineOp({
  name: "pad",
  forward([x], { pads, mode, value }) {
    const backend = backendOf("pad", [x]);
    const shape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
    return fromHandle(backend.pad(x, pads, mode, value), shape, x.dtype, backend);
  },
  vjp(dy, { inputs: [x], attrs: { pads, mode } }) {
    return [
      () => {
        if (mode === "constant")
          return slice(
            dy,
            pads.map((p) => p[0]),
            x.shape,
          );
        // Reflected/replicated borders send their gradient back to the pixels they copied.
        let g = dy;
        for (let ax = 0; ax < x.rank; ax++) {
          const [a, b] = pads[ax];
          if (a === 0 && b === 0) continue;
          const n = x.shape[ax];
          const idx = Array.from({ length: n + a + b }, (_, i) => source(i - a, n, mode));
          g = scatterAdd(g, idx, ax, n);
        }
        return g;
      },
    ];
  },
});

/**
 * pads[axis] = [before, after]; fewer entries than axes pad the leading axes (use padLast for
 * PyTorch's last-axes-first convention). "reflect" is PyTorch reflect = OpenCV BORDER_REFLECT_101.
 */
export function pad(
  x: Tensor,
  pads: readonly (readonly [number, number])[],
  mode: PadMode = "constant",
  value = 0,
): Tensor {
  const full = x.shape.map((_, i) => pads[i] ?? ([0, 0] as const));
  full.forEach(([a, b], ax) => {
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0) {
      throw new Error(
        `pad: padding [${a}, ${b}] on axis ${ax} of [${x.shape}] must be non-negative integers`,
      );
    }
    if (mode === "reflect" && (a >= x.shape[ax] || b >= x.shape[ax])) {
      throw new Error(
        `pad: reflect padding [${a}, ${b}] must be smaller than axis ${ax}'s length ${x.shape[ax]} (input [${x.shape}])`,
      );
    }
    if (mode !== "constant" && x.shape[ax] === 0 && a + b > 0) {
      throw new Error(`pad: cannot ${mode}-pad the empty axis ${ax} of [${x.shape}]`);
    }
  });
  if (full.every(([a, b]) => a === 0 && b === 0)) return identity(x);
  return runOp(padOp, [x], { pads: full, mode, value });
}

/** Pads the two spatial axes of an NCHW tensor by [top, bottom, left, right]. */
export function pad2d(
  x: Tensor,
  [top, bottom, left, right]: readonly [number, number, number, number],
  mode: PadMode = "constant",
  value = 0,
): Tensor {
  if (x.rank !== 4) throw new Error(`pad2d: expected an NCHW tensor, got [${x.shape}]`);
  return pad(
    x,
    [
      [0, 0],
      [0, 0],
      [top, bottom],
      [left, right],
    ],
    mode,
    value,
  );
}

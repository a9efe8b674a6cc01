/** Applying a sparse linear map along one axis; the gradient applies the transposed map. */
import { backendOf, fromHandle, normalizeAxes, requireFloat } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { transposeAxisMap } from "../kernels/resample-maps.ts";
import type { AxisMap } from "../kernels/sparse-map.ts";

const transposes = new WeakMap<AxisMap, AxisMap>();
function transposed(map: AxisMap): AxisMap {
  let t = transposes.get(map);
  if (!t) {
    t = transposeAxisMap(map);
    transposes.set(map, t);
    transposes.set(t, map);
  }
  return t;
}

export const axisMapOp: OpDef<"axisMap"> = defineOp({
  name: "axisMap",
  forward([x], { axis, map }) {
    const backend = backendOf("axisMap", [x]);
    const shape = [...x.shape];
    shape[axis] = map.outLength;
    return fromHandle(backend.axisMap(x, axis, map), shape, "float32", backend);
  },
  vjp(dy, { attrs: { axis, map } }) {
    return [() => runOp(axisMapOp, [dy], { axis, map: transposed(map) })];
  },
});

/** out = map applied along `axis` (resize, separable blur, adaptive pooling...). */
export function mapAxis(x: Tensor, axis: number, map: AxisMap): Tensor {
  requireFloat("mapAxis", x);
  const [ax] = normalizeAxes("mapAxis", [axis], x.rank);
  if (x.shape[ax] !== map.inLength) {
    throw new Error(
      `mapAxis: axis ${ax} of [${x.shape}] has length ${x.shape[ax]} but the map expects ${map.inLength}`,
    );
  }
  return runOp(axisMapOp, [x], { axis: ax, map });
}

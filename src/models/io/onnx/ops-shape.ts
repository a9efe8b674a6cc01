/**
 * Layout and shape ops. Each works on engine tensors (differentiable) and on host arrays, so the
 * integer shape arithmetic exporters emit (Shape -> Gather -> Concat -> Reshape) stays exact.
 */
import { broadcastShapes, sizeOf } from "../../../kernels/shape.ts";
import { equal, mul, sub } from "../../../ops/binary.ts";
import { broadcastTo } from "../../../ops/broadcast.ts";
import { concat } from "../../../ops/concat.ts";
import { zeros } from "../../../ops/creation.ts";
import { gather } from "../../../ops/gather.ts";
import { pad } from "../../../ops/pad.ts";
import { reshape } from "../../../ops/reshape.ts";
import { slice, split } from "../../../ops/slice.ts";
import { transpose } from "../../../ops/transpose.ts";
import { abs, floor, sign } from "../../../ops/unary.ts";
import type { OpContext, OpSpec } from "./context.ts";
import {
  HostArray,
  type HostDType,
  hostCast,
  hostConcat,
  hostExpand,
  hostReshape,
  hostTake,
  hostTranspose,
  isFloat,
  toTensor,
  type Value,
} from "./host.ts";
import { dtypeOf } from "./proto.ts";
import { formatShape } from "./sizes.ts";

const withShape = (v: Value, shape: number[]): Value =>
  v instanceof HostArray ? hostReshape(v, shape) : reshape(v, shape);

function reshapeOp(ctx: OpContext): Value {
  const x = ctx.value(0);
  const spec = ctx.opset >= 5 ? ctx.ints(1) : ctx.attrs.ints("shape");
  if (!spec) ctx.fail("no target shape");
  const size = sizeOf(x.shape);
  const from = `${formatShape(x.shape)} (${size} elements)`;
  const refuse = (why: string): never =>
    ctx.fail(`cannot reshape input ${from} to ${formatShape(spec)}: ${why}`);
  const allowZero = ctx.attrs.int("allowzero", 0) === 1;
  if (spec.filter((d) => d === -1).length > 1) refuse("more than one -1");
  const shape = spec.map((d, i) => {
    if (d < -1) refuse(`dimension ${d} is negative`);
    if (d !== 0 || allowZero) return d;
    if (i >= x.shape.length)
      refuse(`0 at position ${i} copies an input dimension the rank-${x.shape.length} input lacks`);
    return x.shape[i];
  });
  const free = shape.indexOf(-1);
  if (free >= 0) {
    const known = shape.reduce((a, d, i) => (i === free ? a : a * d), 1);
    if (known === 0 || size % known)
      refuse(`-1 cannot be inferred (the other dimensions hold ${known} elements)`);
    shape[free] = size / known;
  }
  const n = sizeOf(shape);
  if (n !== size) refuse(`the target holds ${n} elements`);
  return withShape(x, shape);
}

function flattenOp(ctx: OpContext): Value {
  const x = ctx.value(0);
  let axis = ctx.attrs.int("axis", 1);
  if (axis < 0) axis += x.shape.length;
  if (axis < 0 || axis > x.shape.length)
    ctx.fail(`axis ${ctx.attrs.int("axis", 1)} is out of range for ${formatShape(x.shape)}`);
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis));
  return withShape(x, [outer, inner]);
}

function transposeOp(ctx: OpContext): Value {
  const x = ctx.value(0);
  const perm = ctx.attrs.ints("perm") ?? x.shape.map((_, i) => x.shape.length - 1 - i);
  const sorted = [...perm].sort((a, b) => a - b);
  if (sorted.length !== x.shape.length || sorted.some((p, i) => p !== i))
    ctx.fail(
      `perm [${perm}] is not a permutation of the ${x.shape.length} axes of ${formatShape(x.shape)}`,
    );
  return x instanceof HostArray ? hostTranspose(x, perm) : transpose(x, perm);
}

function squeezeOp(ctx: OpContext): Value {
  const x = ctx.value(0);
  const given = ctx.axes(1);
  const axes = given
    ? given.map((a) => ctx.axis(a, x.shape.length))
    : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes)
    if (x.shape[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of ${formatShape(x.shape)}`);
  return withShape(
    x,
    x.shape.filter((_, i) => !axes.includes(i)),
  );
}

function unsqueezeOp(ctx: OpContext): Value {
  const x = ctx.value(0);
  const given = ctx.axes(1);
  if (!given) ctx.fail("axes are required");
  const rank = x.shape.length + given.length;
  const axes = given.map((a) => ctx.axis(a, rank));
  if (new Set(axes).size !== axes.length) ctx.fail(`repeated axes [${given}]`);
  const shape: number[] = [];
  let src = 0;
  for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.shape[src++]);
  return withShape(x, shape);
}

function concatOp(ctx: OpContext): Value {
  const xs = ctx.inputs.filter((v): v is Value => v !== undefined);
  if (xs.length === 0) ctx.fail("needs at least one input");
  const axis = ctx.axis(ctx.attrs.int("axis", Number.NaN), xs[0].shape.length);
  if (xs.every((v) => v instanceof HostArray))
    return hostConcat(xs as HostArray[], axis, ctx.where);
  const nonEmpty = xs.filter((v) => sizeOf(v.shape) > 0);
  return concat((nonEmpty.length ? nonEmpty : xs).map(toTensor), axis);
}

/** ONNX slice bounds for one axis (negative indices, clamping) -> the index list. */
function sliceIndices(n: number, start: number, end: number, step: number): number[] {
  if (start < 0) start += n;
  if (end < 0) end += n;
  if (step > 0) {
    start = Math.min(Math.max(start, 0), n);
    end = Math.min(Math.max(end, 0), n);
  } else {
    start = Math.min(Math.max(start, 0), n - 1);
    end = Math.min(Math.max(end, -1), n - 1);
  }
  const out: number[] = [];
  for (let i = start; step > 0 ? i < end : i > end; i += step) out.push(i);
  return out;
}

function sliceOp(ctx: OpContext): Value {
  const x = ctx.value(0);
  const rank = x.shape.length;
  const old = ctx.opset < 10;
  const starts = old ? ctx.attrs.ints("starts") : ctx.ints(1);
  const ends = old ? ctx.attrs.ints("ends") : ctx.ints(2);
  if (!starts || !ends || starts.length !== ends.length)
    ctx.fail("starts and ends must have the same length");
  const axes =
    (old ? ctx.attrs.ints("axes") : ctx.has(3) ? ctx.ints(3) : undefined) ??
    starts.map((_, i) => i);
  const steps = !old && ctx.has(4) ? ctx.ints(4) : starts.map(() => 1);
  const idx = x.shape.map((d) => Array.from({ length: d }, (_, i) => i));
  const begin = x.shape.map(() => 0);
  const size = [...x.shape];
  const step = x.shape.map(() => 1);
  axes.forEach((a, k) => {
    const ax = ctx.axis(a, rank);
    if (steps[k] === 0) ctx.fail("step 0 is not allowed");
    idx[ax] = sliceIndices(x.shape[ax], starts[k], ends[k], steps[k]);
    begin[ax] = idx[ax][0] ?? 0;
    size[ax] = idx[ax].length;
    step[ax] = steps[k];
  });
  if (x instanceof HostArray) return hostTake(x, idx, ctx.where);
  if (size.some((d) => d === 0)) return zeros(size);
  return slice(x, begin, size, step);
}

function padOp(ctx: OpContext): Value {
  let x = ctx.tensor(0);
  const rank = x.rank;
  const pads =
    ctx.opset < 11 ? (ctx.attrs.ints("pads") ?? ctx.attrs.ints("paddings")) : ctx.ints(1);
  const mode = ctx.attrs.oneOf("mode", "constant", ["constant", "reflect", "edge"]);
  let value = ctx.opset < 11 ? ctx.attrs.float("value", 0) : 0;
  if (ctx.opset >= 11 && ctx.has(2)) value = ctx.host(2).data[0] ?? 0;
  const axes =
    ctx.opset >= 18 && ctx.has(3)
      ? ctx.ints(3).map((a) => ctx.axis(a, rank))
      : x.shape.map((_, i) => i);
  if (!pads || pads.length !== 2 * axes.length)
    ctx.fail(`pads [${pads}] should have ${2 * axes.length} entries`);
  const before = x.shape.map(() => 0);
  const after = x.shape.map(() => 0);
  axes.forEach((ax, k) => {
    before[ax] = pads[k];
    after[ax] = pads[k + axes.length];
  });
  ctx.allocates(x.shape.map((d, i) => Math.max(0, d + before[i] + after[i])));
  // Negative pads crop.
  if (before.some((p) => p < 0) || after.some((p) => p < 0)) {
    const b = before.map((p) => Math.max(0, -p));
    const size = x.shape.map((d, i) => d - b[i] - Math.max(0, -after[i]));
    x = slice(x, b, size);
  }
  const pairs = x.shape.map(
    (_, i) => [Math.max(0, before[i]), Math.max(0, after[i])] as [number, number],
  );
  return pad(x, pairs, mode === "edge" ? "replicate" : mode, value);
}

function gatherOp(ctx: OpContext): Value {
  const x = ctx.value(0);
  const ind = ctx.host(1);
  const ax = ctx.axis(ctx.attrs.int("axis", 0), x.shape.length);
  const n = x.shape[ax];
  const flat = Array.from(ind.data, (i) => {
    const j = i < 0 ? i + n : i;
    if (!Number.isInteger(j) || j < 0 || j >= n)
      ctx.fail(`index ${i} is out of range for axis ${ax} of ${formatShape(x.shape)}`);
    return j;
  });
  const shape = [...x.shape.slice(0, ax), ...ind.shape, ...x.shape.slice(ax + 1)];
  ctx.allocates(shape);
  if (x instanceof HostArray) {
    const lists = x.shape.map((d, i) => (i === ax ? flat : Array.from({ length: d }, (_, k) => k)));
    return hostReshape(hostTake(x, lists, ctx.where), shape);
  }
  return reshape(gather(x, flat, ax), shape);
}

function castOp(ctx: OpContext): Value {
  const x = ctx.value(0);
  const to = dtypeOf(ctx.attrs.int("to", 0), ctx.where);
  if (x instanceof HostArray) return hostCast(x, to);
  if (isFloat(to)) return x;
  if (to === "bool") return sub(1, equal(x, 0));
  return mul(sign(x), floor(abs(x))); // truncation toward zero, kept as float32 values
}

function constantOfShape(ctx: OpContext): Value {
  const shape = ctx.ints(0);
  const v = ctx.attrs.tensor("value");
  const n = ctx.allocates(shape);
  return new HostArray(v?.dtype ?? "float32", shape, new Float64Array(n).fill(v?.data[0] ?? 0));
}

function expandOp(ctx: OpContext): Value {
  const x = ctx.value(0);
  const target = ctx.ints(1);
  ctx.allocates(target, "the requested shape");
  const shape = broadcastShapes(ctx.where, x.shape, target);
  ctx.allocates(shape);
  return x instanceof HostArray ? hostExpand(x, shape, ctx.where) : broadcastTo(x, shape);
}

function constantOp(ctx: OpContext): Value {
  const a = ctx.attrs;
  const t = a.tensor("value");
  if (t) return t;
  if (a.has("value_float")) return HostArray.of("float32", [], [a.float("value_float", 0)]);
  if (a.has("value_floats"))
    return HostArray.of("float32", [a.floats("value_floats")!.length], a.floats("value_floats")!);
  if (a.has("value_int")) return HostArray.of("int64", [], [a.int("value_int", 0)]);
  if (a.has("value_ints"))
    return HostArray.of("int64", [a.ints("value_ints")!.length], a.ints("value_ints")!);
  return ctx.unsupported(
    "needs a value, value_float(s) or value_int(s) attribute (sparse and string values are not supported)",
  );
}

function splitOp(ctx: OpContext): Value[] {
  const x = ctx.tensor(0);
  const ax = ctx.axis(ctx.attrs.int("axis", 0), x.rank);
  const count = ctx.outputs.length;
  const sizes =
    (ctx.opset >= 13 ? (ctx.has(1) ? ctx.ints(1) : undefined) : ctx.attrs.ints("split")) ?? [];
  if (sizes.length) return split(x, sizes, ax);
  const n = x.shape[ax];
  const chunk = Math.ceil(n / count);
  return split(
    x,
    Array.from({ length: count }, (_, i) => Math.max(0, Math.min(chunk, n - i * chunk))),
    ax,
  );
}

function rangeOp(ctx: OpContext): Value {
  const [start, limit, delta] = [0, 1, 2].map((i) => ctx.host(i).data[0]);
  if (delta === 0) ctx.fail("delta is 0");
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  ctx.allocates([n]);
  const dtype: HostDType = ctx.host(0).dtype;
  return HostArray.of(
    dtype,
    [n],
    Array.from({ length: n }, (_, i) => start + i * delta),
  );
}

function shapeOp(ctx: OpContext): Value {
  const s = ctx.value(0).shape;
  const r = s.length;
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + r : i, 0), r);
  const dims = s.slice(clampIdx(ctx.attrs.int("start", 0)), clampIdx(ctx.attrs.int("end", r)));
  return HostArray.of("int64", [dims.length], dims);
}

export const shapeOps: Record<string, OpSpec> = {
  Reshape: { attrs: ["allowzero", "shape"], run: reshapeOp },
  Flatten: { attrs: ["axis"], run: flattenOp },
  Transpose: { attrs: ["perm"], run: transposeOp },
  Squeeze: { attrs: ["axes"], run: squeezeOp },
  Unsqueeze: { attrs: ["axes"], run: unsqueezeOp },
  Concat: { attrs: ["axis"], run: concatOp },
  Slice: { attrs: ["starts", "ends", "axes"], run: sliceOp },
  Pad: { attrs: ["mode", "pads", "paddings", "value"], run: padOp },
  Gather: { attrs: ["axis"], run: gatherOp },
  Cast: { attrs: ["to", "saturate"], run: castOp },
  ConstantOfShape: { attrs: ["value"], run: constantOfShape },
  Expand: { attrs: [], run: expandOp },
  Constant: {
    attrs: ["value", "value_float", "value_floats", "value_int", "value_ints"],
    run: constantOp,
  },
  Split: { attrs: ["axis", "split", "num_outputs"], run: splitOp },
  Range: { attrs: [], run: rangeOp },
  Shape: { attrs: ["start", "end"], run: shapeOp },
  Size: {
    attrs: [],
    run: (ctx) => HostArray.of("int64", [], [sizeOf(ctx.value(0).shape)]),
  },
};

/**
 * ONNX Resize / Upsample as one sparse linear map per resized axis (the engine's mapAxis op), so
 * every coordinate_transformation_mode, nearest_mode, linear and cubic (any cubic_coeff_a,
 * exclude_outside) is exact and differentiable. tf_crop_and_resize's extrapolation is a constant
 * added where the sample falls outside the input.
 */
import type { Tensor } from "../../../autodiff/tensor.ts";
import type { AxisMap } from "../../../kernels/sparse-map.ts";
import { add, mul, sub } from "../../../ops/binary.ts";
import { tensor } from "../../../ops/creation.ts";
import { mapAxis } from "../../../ops/map-axis.ts";
import type { OpContext, OpSpec } from "./context.ts";

const COORD_MODES = [
  "half_pixel",
  "pytorch_half_pixel",
  "align_corners",
  "asymmetric",
  "tf_half_pixel_for_nn",
  "tf_crop_and_resize",
] as const;
type CoordMode = (typeof COORD_MODES)[number];
const NEAREST_MODES = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"] as const;
type NearestMode = (typeof NEAREST_MODES)[number];

export interface ResizeAxisSpec {
  inLen: number;
  outLen: number;
  /** in * scale before flooring (ONNX uses it as the resized length in coordinate transforms). */
  resizedLen: number;
  scale: number;
  mode: "nearest" | "linear" | "cubic";
  coord: CoordMode;
  nearest: NearestMode;
  cubicA: number;
  excludeOutside: boolean;
  roi: [number, number];
}

/** The source coordinate of output index o (ONNX's coordinate_transformation_mode). */
function source(o: number, s: ResizeAxisSpec): number {
  const { inLen, resizedLen: outLen, scale } = s;
  switch (s.coord) {
    case "half_pixel":
      return (o + 0.5) / scale - 0.5;
    case "pytorch_half_pixel":
      return outLen > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case "align_corners":
      return outLen === 1 ? 0 : (o * (inLen - 1)) / (outLen - 1);
    case "asymmetric":
      return o / scale;
    case "tf_half_pixel_for_nn":
      return (o + 0.5) / scale;
    case "tf_crop_and_resize": {
      const [a, b] = s.roi;
      return outLen > 1
        ? a * (inLen - 1) + (o * (b - a) * (inLen - 1)) / (outLen - 1)
        : 0.5 * (a + b) * (inLen - 1);
    }
  }
}

function nearestIndex(x: number, mode: NearestMode): number {
  switch (mode) {
    case "round_prefer_floor":
      return Math.ceil(x - 0.5);
    case "round_prefer_ceil":
      return Math.floor(x + 0.5);
    case "floor":
      return Math.floor(x);
    case "ceil":
      return Math.ceil(x);
  }
}

function cubic(a: number, t: number): number {
  const x = Math.abs(t);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/** Input taps each output reads: the capacity a map needs per output index. */
const TAPS = { nearest: 1, linear: 2, cubic: 4 } as const;

/**
 * The map for one axis, and which outputs fall outside the input (tf_crop_and_resize only).
 * Built in typed arrays sized up front (outLen x taps), which the caller has checked against the
 * import limits: an output length comes from the file's scales or sizes.
 */
function resizeAxisMap(s: ResizeAxisSpec): { map: AxisMap; outside: Uint8Array } {
  const taps = TAPS[s.mode];
  const rowStart = new Int32Array(s.outLen + 1);
  const cols = new Int32Array(s.outLen * taps);
  const weights = new Float32Array(s.outLen * taps);
  const outside = new Uint8Array(s.outLen);
  const last = s.inLen - 1;
  const clampIdx = (i: number) => Math.min(Math.max(i, 0), last);
  // One row's taps, merged by input index (clamping can repeat one) and kept sorted.
  const rowIdx = new Int32Array(4);
  const rowW = new Float64Array(4);
  let rowLen = 0;
  const put = (i: number, w: number) => {
    let k = 0;
    while (k < rowLen && rowIdx[k] < i) k++;
    if (k < rowLen && rowIdx[k] === i) {
      rowW[k] += w;
      return;
    }
    for (let j = rowLen; j > k; j--) {
      rowIdx[j] = rowIdx[j - 1];
      rowW[j] = rowW[j - 1];
    }
    rowIdx[k] = i;
    rowW[k] = w;
    rowLen++;
  };
  const tapIdx = [0, 0, 0, 0];
  const tapW = [0, 0, 0, 0];
  let n = 0;
  for (let o = 0; o < s.outLen; o++) {
    const x = source(o, s);
    rowLen = 0;
    const out = s.coord === "tf_crop_and_resize" && (x < 0 || x > last);
    outside[o] = out ? 1 : 0;
    if (!out) {
      if (s.mode === "nearest") put(clampIdx(nearestIndex(x, s.nearest)), 1);
      else {
        const x0 = Math.floor(x);
        const f = x - x0;
        if (s.mode === "linear") {
          tapIdx[0] = x0;
          tapW[0] = 1 - f;
          tapIdx[1] = x0 + 1;
          tapW[1] = f;
        } else {
          for (let k = 0; k < 4; k++) {
            tapIdx[k] = x0 + k - 1;
            tapW[k] = cubic(s.cubicA, f - (k - 1));
          }
        }
        if (s.excludeOutside) {
          let total = 0;
          for (let k = 0; k < taps; k++) if (tapIdx[k] >= 0 && tapIdx[k] <= last) total += tapW[k];
          for (let k = 0; k < taps; k++) {
            if (tapIdx[k] >= 0 && tapIdx[k] <= last)
              put(tapIdx[k], total === 0 ? 0 : tapW[k] / total);
          }
        } else for (let k = 0; k < taps; k++) put(clampIdx(tapIdx[k]), tapW[k]);
      }
    }
    for (let k = 0; k < rowLen; k++) {
      if (rowW[k] === 0) continue;
      cols[n] = rowIdx[k];
      weights[n] = rowW[k];
      n++;
    }
    rowStart[o + 1] = n;
  }
  return {
    map: {
      inLength: s.inLen,
      outLength: s.outLen,
      rowStart,
      cols: cols.slice(0, n),
      weights: weights.slice(0, n),
    },
    outside,
  };
}

/** Resizes every axis whose size or scale changes. */
function applyResize(
  ctx: OpContext,
  x: Tensor,
  outLens: number[],
  resizedLens: number[],
  scales: number[],
  base: Omit<ResizeAxisSpec, "inLen" | "outLen" | "resizedLen" | "scale" | "roi">,
  roi?: number[],
): Tensor {
  for (let ax = 0; ax < x.rank; ax++) {
    if (!Number.isInteger(outLens[ax]) || outLens[ax] < 1)
      ctx.fail(`output size ${outLens[ax]} on axis ${ax} is not a positive integer`);
  }
  // Before any map is built: the output, and the largest map (one entry per output and tap).
  ctx.allocates(outLens);
  ctx.allocates([Math.max(1, ...outLens), TAPS[base.mode]], "an axis map");
  let y = x;
  const masks: { axis: number; outside: Uint8Array }[] = [];
  for (let ax = 0; ax < x.rank; ax++) {
    const inLen = x.shape[ax];
    const spec: ResizeAxisSpec = {
      ...base,
      inLen,
      outLen: outLens[ax],
      resizedLen: resizedLens[ax],
      scale: scales[ax],
      roi: roi ? [roi[ax], roi[ax + x.rank]] : [0, 1],
    };
    const trivial =
      spec.outLen === inLen && spec.scale === 1 && base.coord !== "tf_crop_and_resize";
    if (trivial) continue;
    // Axes resize one at a time: an early upscale can outgrow a final shape a later axis shrinks.
    ctx.allocates(
      y.shape.map((d, i) => (i === ax ? spec.outLen : d)),
      `the result of resizing axis ${ax}`,
    );
    const { map, outside } = resizeAxisMap(spec);
    y = mapAxis(y, ax, map);
    if (outside.includes(1)) masks.push({ axis: ax, outside });
  }
  const extrapolation = ctx.attrs.float("extrapolation_value", 0);
  if (masks.length && extrapolation !== 0) {
    // Constant where any resized coordinate is outside: 1 - prod(inside masks).
    let inside: Tensor | null = null;
    for (const { axis, outside } of masks) {
      const shape = y.shape.map((d, i) => (i === axis ? d : 1));
      const m = tensor(
        Float32Array.from(outside, (o) => 1 - o),
        shape,
      );
      inside = inside ? mul(inside, m) : m;
    }
    y = add(y, mul(sub(1, inside!), extrapolation));
  }
  return y;
}

function resize(ctx: OpContext): Tensor {
  const x = ctx.tensor(0);
  const r = x.rank;
  if (ctx.attrs.int("antialias", 0) !== 0) ctx.unsupported("antialias=1 is not supported");
  if (ctx.attrs.has("axes") || ctx.attrs.has("keep_aspect_ratio_policy"))
    ctx.unsupported("axes / keep_aspect_ratio_policy are not supported");
  const old = ctx.opset < 11 || ctx.opType === "Upsample";
  const mode = ctx.attrs.string("mode", "nearest");
  const interp = mode === "bilinear" ? "linear" : mode;
  if (interp !== "nearest" && interp !== "linear" && interp !== "cubic")
    ctx.unsupported(`unsupported mode "${mode}"`);
  const present = (i: number) => ctx.has(i) && ctx.host(i).size > 0;
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (ctx.opType === "Upsample" && ctx.opset < 9) scales = ctx.attrs.floats("scales");
  else if (old) scales = Array.from(ctx.host(1).data);
  else {
    if (present(2)) scales = Array.from(ctx.host(2).data);
    if (present(3)) sizes = ctx.ints(3);
  }
  if (!scales && !sizes) ctx.fail("needs scales or sizes");
  const given = (sizes ?? scales)!;
  if (given.length !== r)
    ctx.fail(
      `${sizes ? "sizes" : "scales"} [${given}] should have ${r} entries for input [${x.shape}]`,
    );
  const coord = old
    ? "asymmetric"
    : ctx.attrs.oneOf("coordinate_transformation_mode", "half_pixel", COORD_MODES);
  const roi =
    coord === "tf_crop_and_resize" && present(1) ? Array.from(ctx.host(1).data) : undefined;
  if (coord === "tf_crop_and_resize" && roi?.length !== 2 * r)
    ctx.fail("tf_crop_and_resize needs an roi with 2 entries per axis");
  // The unrounded resized length enters the coordinate transforms (as in ONNX's reference).
  const resized = sizes ?? x.shape.map((d, i) => d * scales![i] * (roi ? roi[i + r] - roi[i] : 1));
  const outLens = sizes ?? resized.map(Math.floor);
  const axisScales = sizes ? sizes.map((s, i) => s / x.shape[i]) : scales!;
  return applyResize(
    ctx,
    x,
    outLens,
    resized,
    axisScales,
    {
      mode: interp,
      coord,
      nearest: old ? "floor" : ctx.attrs.oneOf("nearest_mode", "round_prefer_floor", NEAREST_MODES),
      cubicA: ctx.attrs.float("cubic_coeff_a", -0.75),
      excludeOutside: ctx.attrs.int("exclude_outside", 0) === 1,
    },
    roi,
  );
}

const RESIZE_ATTRS = [
  "antialias",
  "axes",
  "coordinate_transformation_mode",
  "cubic_coeff_a",
  "exclude_outside",
  "extrapolation_value",
  "keep_aspect_ratio_policy",
  "mode",
  "nearest_mode",
];

export const resizeOps: Record<string, OpSpec> = {
  Resize: { attrs: RESIZE_ATTRS, run: resize },
  Upsample: { attrs: ["mode", "scales"], run: resize },
};

/**
 * Resize / Upsample (nearest, integer scale r on H and W) feeding a stride-1 Conv, run as one
 * nearestUpsampleConv2d on the low-resolution input: the upsampled image is never made, and the
 * conv runs at the low resolution with merged phase taps (same values, differentiable in the
 * input and the weights).
 *
 * Fusing needs output pixel r*i + a to read input pixel i for every phase a in [0, r). With
 * offset d = a / r in [0, 1) (asymmetric), (a + 0.5) / r - 0.5 in (-1/2, 1/2) (half_pixel,
 * pytorch_half_pixel: the output is never one pixel long) or (a + 0.5) / r in (0, 1)
 * (tf_half_pixel_for_nn), the source is i + d, so:
 *   asymmetric / tf_half_pixel_for_nn: only floor gives i for every a;
 *   half_pixel / pytorch_half_pixel: round_prefer_floor and round_prefer_ceil give i (|d| < 1/2),
 *     floor and ceil do not;
 *   align_corners and tf_crop_and_resize depend on the image size: never fused.
 *
 * The plan is structural and made at load time; scales and sizes may come from other nodes, so
 * the scale (and that fusing saves work: upsampleConvPays) is checked when the pair runs, and
 * anything unexpected (a tap on the Resize output, a gradient rule set) runs the two nodes as
 * written.
 */

import { state } from "../../../autodiff/state.ts";
import type { Tensor } from "../../../autodiff/tensor.ts";
import { nearestUpsampleConv2d, upsampleConvPays } from "../../../ops/upsample-conv.ts";
import type { Attrs } from "./attrs.ts";
import type { OpContext } from "./context.ts";
import { forwardPads } from "./ops-conv.ts";
import { type PlanNode as SoleReaderNode, soleReaders } from "./sole-reader.ts";

/** What the planner reads of a prepared node. */
export interface PlanNode extends SoleReaderNode {
  attrs: Attrs;
}

/** A Resize (or Upsample) whose only reader is the Conv at `conv` (indices in run order). */
export interface UpsampleConvPair {
  resize: number;
  conv: number;
}

/** (coordinate_transformation_mode, nearest_mode) pairs that map output r*i + a to input i. */
const PHASE_PRESERVING: Readonly<Record<string, readonly string[]>> = {
  asymmetric: ["floor"],
  tf_half_pixel_for_nn: ["floor"],
  half_pixel: ["round_prefer_floor", "round_prefer_ceil"],
  pytorch_half_pixel: ["round_prefer_floor", "round_prefer_ceil"],
};

/** Whether a Resize / Upsample samples nearest with a phase-preserving transform. */
function nearestResize(p: PlanNode, opset: number): boolean {
  const type = p.node.opType;
  if (type !== "Resize" && type !== "Upsample") return false;
  const a = p.attrs;
  if (a.string("mode", "nearest") !== "nearest") return false;
  // Upsample and opset-10 Resize are asymmetric + floor.
  if (type === "Upsample" || opset < 11) return true;
  if (a.int("antialias", 0) !== 0 || a.has("axes") || a.has("keep_aspect_ratio_policy"))
    return false;
  const coord = a.string("coordinate_transformation_mode", "half_pixel");
  const nearest = a.string("nearest_mode", "round_prefer_floor");
  return PHASE_PRESERVING[coord]?.includes(nearest) ?? false;
}

const allOnes = (v: number[] | undefined) => v === undefined || v.every((d) => d === 1);

/** Whether a Conv is 2-D-capable with stride 1, dilation 1 and one group (static attributes). */
function plainConv(p: PlanNode): boolean {
  if (p.node.opType !== "Conv") return false;
  const a = p.attrs;
  const ks = a.ints("kernel_shape");
  return (
    a.int("group", 1) === 1 &&
    allOnes(a.ints("strides")) &&
    allOnes(a.ints("dilations")) &&
    (ks === undefined || ks.length === 2)
  );
}

/**
 * The Resize -> Conv pairs to try fusing: the Resize's one output is the Conv's input X, read by
 * no other node (nor twice by the Conv) and not a graph output.
 */
export function planUpsampleConvs(
  nodes: readonly PlanNode[],
  graphOutputs: readonly string[],
  opset: number,
): UpsampleConvPair[] {
  const sole = soleReaders(nodes, graphOutputs);
  const pairs: UpsampleConvPair[] = [];
  nodes.forEach((p, i) => {
    const j = sole[i];
    if (j < 0) return;
    try {
      if (nearestResize(p, opset) && plainConv(nodes[j])) pairs.push({ resize: i, conv: j });
    } catch {
      // A malformed attribute: leave the nodes to report it as they run.
    }
  });
  return pairs;
}

/** The equal integer scale r >= 2 on H and W (N and C kept) of a Resize, or null. */
function integerScale(ctx: OpContext, x: Tensor): number | null {
  const present = (i: number) => ctx.has(i) && ctx.host(i).size > 0;
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (ctx.opType === "Upsample" && ctx.opset < 9) scales = ctx.attrs.floats("scales");
  else if (ctx.opType === "Upsample" || ctx.opset < 11) {
    if (present(1)) scales = Array.from(ctx.host(1).data);
  } else if (present(3)) sizes = Array.from(ctx.host(3).data);
  else if (present(2)) scales = Array.from(ctx.host(2).data);
  const [n, c, h, w] = x.shape;
  let r: number;
  if (scales) {
    if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) return null;
    r = scales[2];
    if (scales[3] !== r) return null;
  } else if (sizes) {
    if (sizes.length !== 4 || sizes[0] !== n || sizes[1] !== c) return null;
    r = sizes[2] / h;
    if (sizes[3] !== r * w) return null;
  } else return null;
  return Number.isInteger(r) && r >= 2 ? r : null;
}

/**
 * conv(resize(x)) without the resized image, or null when this run's values do not fit (then the
 * caller runs both nodes as written, which also reports any error the way they do).
 */
export function runUpsampleConv(resize: OpContext, conv: OpContext): Tensor | null {
  // Gradient rule sets (LRP, DeepLIFT, guided backprop) are chosen per op and may cover the
  // Resize's ops but not the merged conv's: under any of them the graph runs as written.
  if (state.rules.length > 0) return null;
  const xt = resize.tensor(0);
  if (xt.rank !== 4) return null;
  const r = integerScale(resize, xt);
  const w = conv.tensor(1);
  if (r === null || w.rank !== 4 || w.shape[1] !== xt.shape[1]) return null;
  // Fused only where it saves work (upsampleConvPays: per-phase convs from 16 outputs on, the
  // merged conv for channel-reducing layers).
  if (!upsampleConvPays(w.shape[0], xt.shape[1])) return null;
  const bias = conv.has(2) ? conv.tensor(2) : null;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== w.shape[0])) return null;
  const ks = conv.attrs.ints("kernel_shape");
  if (ks && (ks[0] !== w.shape[2] || ks[1] !== w.shape[3])) return null;
  const [n, , h, wd] = xt.shape;
  const up: [number, number] = [h * r, wd * r];
  const pads = forwardPads(conv, false, up, [w.shape[2], w.shape[3]], [1, 1], [1, 1]);
  if (pads.some((p) => !Number.isInteger(p) || p < 0)) return null;
  const [t, b, l, rt] = pads;
  const outH = up[0] + t + b - w.shape[2] + 1;
  const outW = up[1] + l + rt - w.shape[3] + 1;
  if (outH < 1 || outW < 1) return null;
  conv.allocates([n, w.shape[0], outH, outW]);
  if (conv.fuseRelu) conv.reluApplied = true;
  return nearestUpsampleConv2d(xt, w, r, { bias, padding: pads, relu: conv.fuseRelu });
}

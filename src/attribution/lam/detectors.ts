/**
 * Window detectors D: scalar summaries of an SR output inside the LAM window, one per batch item
 * ([B]), so a batch of path images gets all its gradients from one backward pass.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, sub } from "../../ops/binary.ts";
import { sum } from "../../ops/reduce.ts";
import { slice } from "../../ops/slice.ts";
import { sqrt, square } from "../../ops/unary.ts";
import type { LamWindow } from "./window.ts";

/** A window detector: one score per batch item [B] summarising the SR output inside the window. */
export type Detector = (sr: Tensor, window: LamWindow) => Tensor;

/**
 * The reference detector (LAM_Demo `attr_grad`): forward-difference gradient magnitude
 * G = sqrt(dV^2 + dH^2) per channel, summed over channels and the window. Only the crop the
 * window needs is differenced (rows y..y+size, one extra for the difference), which gives the
 * reference's values exactly, truncation at the last row/column included. sqrt's derivative at
 * 0 is 0 in this engine, so exactly flat outputs give a finite map (the reference gets NaN).
 */
export const gradientMagnitude: Detector = (sr, w) => {
  const [b, c, h, wd] = sr.shape;
  const rows = Math.min(w.size + 1, h - w.y);
  const cols = Math.min(w.size + 1, wd - w.x);
  const crop = slice(sr, [0, 0, w.y, w.x], [b, c, rows, cols]);
  const r = rows - 1;
  const k = cols - 1;
  if (r < 1 || k < 1)
    throw new Error(
      `LAM gradient detector: window at the last row/column has no forward difference`,
    );
  const dv = sub(slice(crop, [0, 0, 0, 0], [b, c, r, k]), slice(crop, [0, 0, 1, 0], [b, c, r, k]));
  const dh = sub(slice(crop, [0, 0, 0, 0], [b, c, r, k]), slice(crop, [0, 0, 0, 1], [b, c, r, k]));
  return sum(sqrt(add(square(dv), square(dh))), [1, 2, 3]);
};

/** LAM_Demo `attr_id`: the sum of raw SR intensities in the window. */
export const intensity: Detector = (sr, w) => {
  const [b, c] = sr.shape;
  return sum(slice(sr, [0, 0, w.y, w.x], [b, c, w.size, w.size]), [1, 2, 3]);
};

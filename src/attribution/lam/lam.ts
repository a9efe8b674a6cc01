/**
 * LAM (Gu & Dong, CVPR 2021): which low-resolution pixels an SR network used to rebuild one
 * window of its output. Path steps are evaluated in batches: every path image of a chunk goes
 * through the network together and one backward pass of sum_b D(F(x_b)) yields each image's own
 * gradient (batch items do not interact), so the result equals the step-by-step evaluation.
 */
import { valueAndGrad } from "../../autodiff/grad.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add, mul, sub } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { zerosLike } from "../../ops/creation.ts";
import { sum } from "../../ops/reduce.ts";
import { reshape } from "../../ops/reshape.ts";
import { slice } from "../../ops/slice.ts";
import { type Detector, gradientMagnitude } from "./detectors.ts";
import { type LamPathKind, makeLamPath } from "./paths.ts";
import { checkWindow, type LamWindow } from "./window.ts";

export type SrModel = (lr: Tensor) => Tensor;

export interface LamOptions {
  window: LamWindow;
  sigma?: number;
  fold?: number;
  l?: number;
  /** Path images per forward/backward pass (default 8; memory grows with it, results do not change). */
  batch?: number;
  detector?: Detector;
  path?: LamPathKind;
  /** Called after each chunk with the number of path steps done so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface LamResult {
  /** The attribution, [C, h, w] like the LR input. */
  map: Tensor;
  /** sum(map) - (D(F(input)) - D(F(baseline))): 0 for a linear D o F, small for a fine path. */
  delta: number;
  details: {
    detectorAtInput: number;
    detectorAtBaseline: number;
    steps: number;
    path: LamPathKind;
    sigma: number;
    fold: number;
    l: number;
    scale: number;
  };
}

const DEFAULTS = { sigma: 1.2, fold: 50, l: 9, batch: 8 };

async function scalarOf(
  model: SrModel,
  detector: Detector,
  x: Tensor,
  w: LamWindow,
): Promise<number> {
  const t = tidy(() => keep(sum(detector(model(x), w))));
  try {
    return (await t.data())[0];
  } finally {
    t.dispose();
  }
}

/** LAM of `model` at the LR image `lr` [1, C, h, w]. */
export async function lam(model: SrModel, lr: Tensor, o: LamOptions): Promise<LamResult> {
  if (lr.rank !== 4 || lr.shape[0] !== 1) {
    throw new Error(`LAM: expected one LR image [1, C, h, w], got [${lr.shape}]`);
  }
  const sigma = o.sigma ?? DEFAULTS.sigma;
  const fold = o.fold ?? DEFAULTS.fold;
  const l = o.l ?? DEFAULTS.l;
  const batch = o.batch ?? DEFAULTS.batch;
  if (!Number.isInteger(batch) || batch < 1)
    throw new Error(`LAM: batch ${batch} must be a positive integer`);
  const detector = o.detector ?? gradientMagnitude;
  const kind = o.path ?? "blur";

  const sr = tidy(() => keep(model(lr)));
  const [, , H, W] = sr.shape;
  sr.dispose();
  if (sr.rank !== 4 || sr.shape[1] !== lr.shape[1]) {
    throw new Error(
      `LAM: the model must map [1, C, h, w] images to [1, C, H, W]; it returned [${sr.shape}] for [${lr.shape}]`,
    );
  }
  const scale = H / lr.shape[2];
  if (!Number.isInteger(scale) || W / lr.shape[3] !== scale) {
    throw new Error(
      `LAM: output ${H}x${W} is not an integer upscale of the ${lr.shape[2]}x${lr.shape[3]} input`,
    );
  }
  checkWindow(o.window, H, W);

  const path = makeLamPath(kind, lr, { sigma, fold, l });
  const grad = valueAndGrad((x) => sum(detector(model(x), o.window)));
  let acc = keep(zerosLike(lr));
  for (let start = 1; start <= fold; start += batch) {
    const end = Math.min(start + batch - 1, fold);
    const next = tidy(() => {
      const images = Array.from({ length: end - start + 2 }, (_, i) => path.image(start - 1 + i));
      const { grad: g } = grad(concat(images.slice(1), 0));
      let a = acc;
      for (let k = 0; k < images.length - 1; k++) {
        const gk = slice(g, [k, 0, 0, 0], [1, ...lr.shape.slice(1)]);
        a = add(a, mul(gk, sub(images[k + 1], images[k])));
      }
      return keep(a);
    });
    acc.dispose();
    acc = next;
    o.onProgress?.(end, fold);
  }
  // The path's own end points: for even l the reference's last blur is the input shifted by a
  // pixel (its kernel centre is off cv2's anchor), and completeness holds for the path as walked.
  const [first, last] = tidy(() => [keep(path.image(0)), keep(path.image(fold))]);
  const atInput = await scalarOf(model, detector, last, o.window);
  const atBaseline = await scalarOf(model, detector, first, o.window);
  first.dispose();
  last.dispose();
  let total = 0;
  for (const v of await acc.data()) total += v;
  const map = tidy(() => reshape(acc, lr.shape.slice(1)));
  acc.dispose();
  return {
    map,
    delta: total - (atInput - atBaseline),
    details: {
      detectorAtInput: atInput,
      detectorAtBaseline: atBaseline,
      steps: fold,
      path: kind,
      sigma,
      fold,
      l,
      scale,
    },
  };
}

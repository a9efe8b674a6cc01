/**
 * The CAM family on a named layer A [N, K, h, w], from the layer gradient G = d y^c / d A:
 * - Grad-CAM (Selvaraju et al.): relu(sum_k mean_ij(G^k) A^k);
 * - Grad-CAM++ (Chattopadhyay et al., as pytorch-grad-cam computes it):
 *   a = G^2 / (2 G^2 + sum_ij(A) G^3 + eps), 0 where G = 0; weights sum_ij relu(G) a;
 * - HiResCAM (Draelos & Carin): relu(sum_k G^k * A^k) (elementwise);
 * - LayerCAM (Jiang et al.): relu(sum_k relu(G^k) * A^k);
 * - XGrad-CAM (Fu et al. 2020, as pytorch-grad-cam computes it): weights
 *   sum_ij(G^k A^k) / (sum_ij(A^k) + 1e-7).
 * The map is upsampled to the input's spatial size (bilinear by default, the paper's choice;
 * Captum uses nearest) and returned as [N, 1, H, W]; the layer-resolution map is in the details.
 * A transformer layer's tokens [N, T, C] are first laid out on a grid [N, C, h, w] (the class
 * token dropped), activation and gradient alike, as pytorch-grad-cam's reshape_transform does.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add, div, equal, mul, sub } from "../../ops/binary.ts";
import { mean, sum } from "../../ops/reduce.ts";
import { type ResizeMode, resize } from "../../ops/resize.ts";
import { relu, square } from "../../ops/unary.ts";
import { checkCall, readScores } from "../evaluate.ts";
import { layerGradient } from "../layer-gradient.ts";
import type { Attribution, Model, Target } from "../types.ts";
import { type TokenLayout, tokenLayout, tokensToGrid } from "./token-grid.ts";

/** Which member of the CAM family camMethod computes (see the module comment for each formula). */
export type CamVariant = "gradcam" | "gradcam++" | "hirescam" | "layercam" | "xgradcam";

/** Options of the CAM methods: the layer, the final ReLU and the upsampling to the input. */
export interface CamOptions extends EngineOptions {
  /**
   * The layer whose output is A: a module's dotted path (e.g. "features.4"), an ONNX tensor or
   * node name, or a TensorFlow.js layer name.
   */
  layer: string;
  /**
   * For a token layer [N, T, C]: the grid [h, w] its tokens lie on (T = h w, or h w + 1 with a
   * class token, which is dropped). Default: the grid with the input's aspect ratio.
   */
  grid?: [number, number];
  /** Apply the final ReLU (default true, as in the paper; Captum's default is false). */
  relu?: boolean;
  /** Upsampling of the layer map to the input (default "bilinear"). */
  upsample?: ResizeMode;
}

/**
 * What the CAM methods report besides the map: the layer-resolution map, the channel weights and
 * the target scores.
 */
export interface CamDetails extends Record<string, unknown> {
  layer: string;
  /** The map at the layer's resolution, [N, 1, h, w] row-major. */
  layerMap: Float32Array;
  layerShape: number[];
  /** Channel weights [N, K] for the weighted variants (empty for the elementwise ones). */
  weights: Float32Array;
  scores: number[];
  /** For a token layer: the class tokens dropped and the grid the rest were laid on. */
  tokens?: TokenLayout;
}

/** The Grad-CAM++ stabiliser of pytorch-grad-cam. */
export const GRADCAM_PP_EPS = 1e-6;
/** The XGrad-CAM stabiliser of pytorch-grad-cam. */
const XGRADCAM_EPS = 1e-7;

function camOf(variant: CamVariant, a: Tensor, g: Tensor): { cam: Tensor; weights: Tensor | null } {
  switch (variant) {
    case "gradcam": {
      const w = mean(g, [2, 3], true);
      return { cam: sum(mul(w, a), 1, true), weights: w };
    }
    case "gradcam++": {
      const g2 = square(g);
      const g3 = mul(g2, g);
      const sumA = sum(a, [2, 3], true);
      const alpha = mul(
        div(g2, add(add(mul(g2, 2), mul(sumA, g3)), GRADCAM_PP_EPS)),
        sub(1, equal(g, 0)),
      );
      const w = sum(mul(relu(g), alpha), [2, 3], true);
      return { cam: sum(mul(w, a), 1, true), weights: w };
    }
    case "xgradcam": {
      const w = div(sum(mul(g, a), [2, 3], true), add(sum(a, [2, 3], true), XGRADCAM_EPS));
      return { cam: sum(mul(w, a), 1, true), weights: w };
    }
    case "hirescam":
      return { cam: sum(mul(g, a), 1, true), weights: null };
    case "layercam":
      return { cam: sum(mul(relu(g), a), 1, true), weights: null };
  }
}

/** Checks a CAM call: a target for the input, an [N, C, H, W] input and a named layer. */
export async function checkCamCall(
  x: Tensor,
  target: Target,
  o: { layer?: unknown } | undefined,
  api: string,
): Promise<void> {
  await checkCall(x, target, api);
  if (!o || typeof o.layer !== "string" || !o.layer) {
    throw new Error(
      `${api}: options.layer must name the layer (a module path such as "features.4", an ONNX tensor or node name, or a tfjs layer name)`,
    );
  }
  if (x.rank !== 4) throw new Error(`${api}: expected an [N, C, H, W] input, got [${x.shape}]`);
}

/**
 * A layer map [N, 1, h, w] resized to the input x's size (`mode`, default bilinear), always a new
 * tensor: resize returns its input when the sizes already match, and the map must be its own.
 */
export function camToInput(layerMap: Tensor, x: Tensor, mode: ResizeMode | undefined): Tensor {
  const up = resize(layerMap, [x.shape[2], x.shape[3]], { mode: mode ?? "bilinear" });
  return up === layerMap ? add(layerMap, 0) : up;
}

/**
 * A CAM-family map [N, 1, H, W] of the target at layer `o.layer`, upsampled to the input; `variant`
 * picks Grad-CAM, Grad-CAM++, HiResCAM or LayerCAM.
 */
export async function camMethod(
  model: Model,
  x: Tensor,
  target: Target,
  variant: CamVariant,
  o: CamOptions,
): Promise<Attribution<CamDetails>> {
  const api = variant;
  const ctx = engineContext(o ?? {});
  await checkCamCall(x, target, o, api);
  if (o.grid !== undefined && (!Array.isArray(o.grid) || o.grid.length !== 2)) {
    throw new Error(`${api}: options.grid must be [h, w], got ${JSON.stringify(o.grid)}`);
  }
  const lg = ctx.run(() => layerGradient(model, x, o.layer, target));
  try {
    const rank = lg.activation.rank;
    if (rank !== 4 && rank !== 3) {
      throw new Error(
        `${api}: layer "${o.layer}" outputs [${lg.activation.shape}]; CAM methods need a convolutional layer [N, K, h, w] or a token layer [N, tokens, C]`,
      );
    }
    if (rank === 4 && o.grid) {
      throw new Error(
        `${api}: options.grid is for token layers [N, tokens, C]; layer "${o.layer}" is already a grid [${lg.activation.shape}]`,
      );
    }
    const tokens =
      rank === 3
        ? tokenLayout(lg.activation.shape[1], [x.shape[2], x.shape[3]], o.grid, api)
        : undefined;
    const scores = Array.from(await readScores(lg.scores, api));
    const { layer, map, weights } = ctx.run(() =>
      tidy(() => {
        const a = tokens ? tokensToGrid(lg.activation, tokens) : lg.activation;
        const g = tokens ? tokensToGrid(lg.grad, tokens) : lg.grad;
        const { cam, weights } = camOf(variant, a, g);
        const c = (o.relu ?? true) ? relu(cam) : cam;
        return {
          layer: keep(c),
          map: keep(camToInput(c, x, o.upsample)),
          weights: weights ? keep(weights) : null,
        };
      }),
    );
    try {
      return {
        map,
        details: {
          layer: o.layer,
          layerMap: Float32Array.from(await layer.data()),
          layerShape: [...layer.shape],
          weights: weights ? Float32Array.from(await weights.data()) : new Float32Array(0),
          scores,
          ...(tokens ? { tokens } : {}),
        },
      };
    } finally {
      layer.dispose();
      weights?.dispose();
    }
  } finally {
    lg.activation.dispose();
    lg.grad.dispose();
    lg.scores.dispose();
  }
}

/**
 * Grad-CAM (Selvaraju et al.): relu(sum_k mean_ij(dy/dA^k) A^k) at layer `o.layer`, upsampled to
 * the input, [N, 1, H, W].
 */
export const gradCam = (model: Model, x: Tensor, target: Target, o: CamOptions) =>
  camMethod(model, x, target, "gradcam", o);
/** Grad-CAM++ (Chattopadhyay et al., as pytorch-grad-cam computes it), [N, 1, H, W]. */
export const gradCamPlusPlus = (model: Model, x: Tensor, target: Target, o: CamOptions) =>
  camMethod(model, x, target, "gradcam++", o);
/** HiResCAM (Draelos & Carin): relu(sum_k G^k * A^k) elementwise, [N, 1, H, W]. */
export const hiResCam = (model: Model, x: Tensor, target: Target, o: CamOptions) =>
  camMethod(model, x, target, "hirescam", o);
/** LayerCAM (Jiang et al.): relu(sum_k relu(G^k) * A^k), [N, 1, H, W]. */
export const layerCam = (model: Model, x: Tensor, target: Target, o: CamOptions) =>
  camMethod(model, x, target, "layercam", o);
/** XGrad-CAM (Fu et al. 2020): weights sum_ij(G A) / (sum_ij A + 1e-7), [N, 1, H, W]. */
export const xGradCam = (model: Model, x: Tensor, target: Target, o: CamOptions) =>
  camMethod(model, x, target, "xgradcam", o);

/**
 * Token tensors [N, T, C] (ViT, Swin) as feature maps [N, C, h, w] for the CAM methods, as
 * pytorch-grad-cam's reshape_transform does: drop a leading class token when there is one, lay the
 * remaining tokens out row-major on an h x w grid, channels first.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { reshape } from "../../ops/reshape.ts";
import { slice } from "../../ops/slice.ts";
import { transpose } from "../../ops/transpose.ts";

/** How tokens map to the grid: how many leading (class) tokens were dropped, and the grid. */
export interface TokenLayout {
  classTokens: number;
  grid: [number, number];
}

/**
 * The grid of T tokens: the given one (T = h w, or h w + 1 with a class token), else the one with
 * the input's aspect ratio (H x W) that T or T - 1 tokens fill exactly.
 */
export function tokenLayout(
  tokens: number,
  input: readonly [number, number],
  grid: readonly [number, number] | undefined,
  api: string,
): TokenLayout {
  if (grid) {
    const [h, w] = grid;
    if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) {
      throw new Error(`${api}: grid ${h}x${w} must be two positive integers`);
    }
    for (const k of [0, 1]) if (tokens - k === h * w) return { classTokens: k, grid: [h, w] };
    throw new Error(
      `${api}: the layer has ${tokens} tokens; a ${h}x${w} grid needs ${h * w} (or ${h * w + 1} with a class token)`,
    );
  }
  const [H, W] = input;
  for (const k of [0, 1]) {
    const n = tokens - k;
    const h = Math.round(Math.sqrt((n * H) / W));
    if (h >= 1 && n % h === 0 && (n / h) * H === h * W) {
      return { classTokens: k, grid: [h, n / h] };
    }
  }
  throw new Error(
    `${api}: cannot lay ${tokens} tokens on a grid with the input's ${H}x${W} aspect ratio (with or without a class token); give the grid explicitly (grid: [h, w])`,
  );
}

/** [N, T, C] tokens to [N, C, h, w] by `layout` (the class tokens are dropped). */
export function tokensToGrid(t: Tensor, layout: TokenLayout): Tensor {
  const [n, tokens, c] = t.shape;
  const [h, w] = layout.grid;
  const kept = layout.classTokens
    ? slice(t, [0, layout.classTokens, 0], [n, tokens - layout.classTokens, c])
    : t;
  return transpose(reshape(kept, [n, h, w, c]), [0, 3, 1, 2]);
}

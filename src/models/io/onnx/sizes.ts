/**
 * Sizes an imported graph computes from its own attributes and constants (Resize scales,
 * ConstantOfShape shapes, Pad amounts, ...) are as untrusted as the file: each is checked against
 * `maxTensorElements` before anything of that size is allocated, so a 124-byte model cannot ask
 * for gigabytes.
 */
import { checkLimit } from "../limits.ts";

/** A shape for messages: `[1,3,28,28]`, and `[] (a scalar)` for rank 0. */
export function formatShape(shape: readonly (number | undefined)[]): string {
  if (shape.length === 0) return "[] (a scalar)";
  const dims = shape.map((d) => (d === undefined ? "?" : String(d)));
  if (dims.length > 12)
    return `[${dims.slice(0, 6).join(",")},...,${dims.at(-1)}] (rank ${dims.length})`;
  return `[${dims.join(",")}]`;
}

/**
 * The element count of a shape about to be allocated. Refuses dimensions that are not
 * non-negative integers, and counts over the limit (a LimitError naming `where`).
 */
export function checkedElements(where: string, what: string, shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(
        `${where}: ${what} ${formatShape(shape)} has dimension ${d}; dimensions must be non-negative integers`,
      );
    }
    n *= d;
  }
  checkLimit(
    where,
    `the element count of ${what} ${formatShape(shape)} (a graph intermediate)`,
    n,
    "maxTensorElements",
  );
  return n;
}

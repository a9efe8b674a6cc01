/**
 * Generated WGSL index arithmetic for rank-specialised kernels: shapes and strides are uniforms
 * (vec4-packed arrays), the rank is part of the pipeline key, and the per-axis code is unrolled.
 */

import type { UniformField } from "../uniform-layout.ts";
import { at, vec4Count } from "../wgsl-common.ts";

/** Uniform fields `shape` and one stride array per operand, for a collapsed rank. */
export function stridedFields(rank: number, operands: readonly string[]): UniformField[] {
  const count = vec4Count(rank);
  return [
    { name: "shape", type: "vec4i", count },
    ...operands.map((o) => ({ name: `st_${o}`, type: "vec4i" as const, count })),
  ];
}

/** WGSL struct members matching stridedFields. */
export function stridedStructMembers(rank: number, operands: readonly string[]): string {
  const count = vec4Count(rank);
  return [
    `shape: array<vec4<i32>, ${count}>,`,
    ...operands.map((o) => `st_${o}: array<vec4<i32>, ${count}>,`),
  ].join("\n  ");
}

/**
 * Declares `var off_<op>: i32` for each operand as the dot product of the multi-index of flat
 * output index `flat` (over u.shape) with that operand's strides, last axis fastest.
 */
export function stridedOffsets(rank: number, operands: readonly string[], flat = "i"): string {
  const lines = operands.map((o) => `var off_${o} = 0;`);
  lines.push(`var rem = ${flat};`);
  for (let ax = rank - 1; ax >= 0; ax--) {
    const dim = at("shape", ax);
    lines.push(ax === 0 ? `let c${ax} = rem;` : `let c${ax} = rem % ${dim}; rem = rem / ${dim};`);
    for (const o of operands) lines.push(`off_${o} += c${ax} * ${at(`st_${o}`, ax)};`);
  }
  return lines.join("\n  ");
}

/** Packs a per-axis list into a vec4 uniform array value. */
export function packed(values: readonly number[]): number[] {
  const n = vec4Count(values.length) * 4;
  return [...values, ...new Array<number>(n - values.length).fill(0)];
}

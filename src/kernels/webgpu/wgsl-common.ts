/**
 * WGSL snippets shared by the kernels, and the matching host-side dispatch arithmetic.
 *
 * NaN handling: WGSL lets compilers assume NaN never occurs, and lavapipe really folds `x != x`
 * to false and returns 0 for max(NaN, 0). Kernels that must propagate or detect NaN (to match the
 * CPU backend) test the bit pattern instead. Infinity and NaN constants come from private
 * variables because a const-expression that evaluates to either is a shader-creation error.
 */

export const NAN_HELPERS = /* wgsl */ `
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn nan_f32() -> f32 { return bitcast<f32>(NAN_BITS); }
fn inf_f32() -> f32 { return bitcast<f32>(INF_BITS); }
`;

/** Threads per workgroup of the flat (one element per thread) kernels. */
const FLAT_WG = 64;

/**
 * Entry point of a flat kernel: `i` is the element index, folded over x and y of the dispatch
 * so tensors above 65535 workgroups still fit. Requires a uniform field `size: i32`.
 */
export function flatMain(body: string): string {
  return /* wgsl */ `
@compute @workgroup_size(${FLAT_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = i32((wid.y * nwg.x + wid.x) * ${FLAT_WG}u + lid);
  if (i >= u.size) { return; }
${body}
}`;
}

/** Workgroup counts for a flat kernel over n elements. */
export function flatGroups(n: number): [number, number] {
  const groups = Math.ceil(n / FLAT_WG);
  if (groups === 0) return [0, 1];
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x)];
}

/** `u.name[k / 4].xyzw[k % 4]`: a component of a vec4-packed uniform array. */
export function at(name: string, k: number): string {
  return `u.${name}[${k >> 2}].${"xyzw"[k & 3]}`;
}

/** Number of vec4 slots for `n` packed ints (at least one: WGSL arrays cannot be empty). */
export function vec4Count(n: number): number {
  return Math.max(1, Math.ceil(n / 4));
}

/** WGSL element type of a storage array for a dtype. */
export function elemType(dtype: "float32" | "int32"): "f32" | "i32" {
  return dtype === "int32" ? "i32" : "f32";
}

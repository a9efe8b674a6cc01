/** Block sizes shared by the two blocked GEMM drivers (gemm.ts and wasm/gemm-wasm.ts). */

/**
 * The largest k, row and column block a GEMM of m x n x k meets under the limits kc, mc and nc
 * (rows padded to mr, columns to nr). The k blocks are equal: a short last block would pay the
 * per-block C update and packing setup for little work.
 */
export function blockSizes(
  m: number,
  n: number,
  k: number,
  limits: { kc: number; mc: number; nc: number; mr: number; nr: number },
): { kcMax: number; mcMax: number; ncMax: number } {
  const kBlocks = Math.ceil(k / limits.kc);
  return {
    kcMax: Math.ceil(k / kBlocks),
    mcMax: Math.min(limits.mc, Math.ceil(m / limits.mr) * limits.mr),
    ncMax: Math.min(limits.nc, Math.ceil(n / limits.nr) * limits.nr),
  };
}

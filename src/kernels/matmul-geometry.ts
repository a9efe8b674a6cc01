/**
 * Shape arithmetic of the backends' batched matmul: a [B|1, M, K] (or [B|1, K, M] when transA)
 * times b [B|1, K, N] (or [B|1, N, K] when transB); a batch of 1 broadcasts.
 */
export interface MatmulGeometry {
  /** Output batch: the larger of the two (the other is 1 or equal). */
  batch: number;
  m: number;
  k: number;
  n: number;
}

export function matmulGeometry(
  aShape: readonly number[],
  bShape: readonly number[],
  transA: boolean,
  transB: boolean,
): MatmulGeometry {
  const [ba, ar, ac] = aShape;
  const [bb, br, bc] = bShape;
  return {
    batch: Math.max(ba, bb),
    m: transA ? ac : ar,
    k: transA ? ar : ac,
    n: transB ? br : bc,
  };
}

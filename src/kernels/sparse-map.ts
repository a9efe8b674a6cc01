/**
 * A sparse linear map along one axis, in CSR form: out[o] = sum_j weights[j] * in[cols[j]] for
 * j in [rowStart[o], rowStart[o + 1]). Resizing (nearest, bilinear, bicubic, antialiased),
 * separable blurs with any border mode and adaptive average pooling are all such maps; the
 * gradient of applying a map is applying its transpose.
 */
export interface AxisMap {
  readonly inLength: number;
  readonly outLength: number;
  readonly rowStart: Int32Array;
  readonly cols: Int32Array;
  readonly weights: Float32Array;
}

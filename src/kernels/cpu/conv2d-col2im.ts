/**
 * The input gradient of a strided convolution as one GEMM and a col2im (Caffe's and PyTorch's
 * backward-data): cols = W^T dy holds, for every output pixel of the forward conv, what each of
 * its C kh kw taps sends back, and col2im adds each into dx at the input pixel that tap read.
 *
 * The phase split (conv2d-phases.ts) computes the same sums as stride^2 smaller convs; where the
 * forward conv has many output channels and few pixels (ResNet's 256 -> 512 stride-2 conv at
 * 14x14) those are four GEMMs of a few hundred columns, each with its own kernel gather and a
 * strided scatter of its result, and took twice the forward's time. Here the one GEMM has
 * C kh kw rows, the forward's output channels as its depth and every image's pixels as columns,
 * and each block of its product is added into dx while it is still in wasm memory (the GEMM's
 * sink, wasm/scatter-add.ts): dx is accumulated there and copied out once per group of images.
 */
import type { Conv2dGeometry } from "../conv-geometry.ts";
import { conv2dGeometry } from "../conv-geometry.ts";
import { allocF32Unset } from "./buffers.ts";
import { colMatrix } from "./conv2d-col-matrix.ts";
import { ColPacker } from "./conv2d-packers.ts";
import { activeGemmImpl, type CSink, gemmPackB } from "./gemm.ts";
import type { GemmSimd } from "./wasm/gemm-simd.ts";
import { GEMM_WORKSPACE_FLOATS, gemmSimd, packScratch } from "./wasm/gemm-wasm.ts";

/**
 * Fewest output channels of the forward conv (the GEMM's depth) for which its input gradient
 * takes col2im rather than the phase split. 1: always. bench/strided-input-grad.ts, col2im's
 * time over the phase split's: 0.61-0.90 on every strided conv of ResNet-18 at batch 10,
 * 0.15-0.55 on small ones, 1.15 on a 3 -> 8 5x5 at batch 2 (0.05 ms).
 */
let minDepth = 1;
/**
 * Sets the fewest forward output channels for which strided convs' input gradients take col2im
 * (Infinity: never); returns the previous value. For benchmarks and tests that compare paths.
 */
export function setCol2imMinDepth(channels: number): number {
  const prev = minDepth;
  minDepth = channels;
  return prev;
}

/** Most floats of dy staged in wasm memory at once: images go through in groups within it. */
const STAGE_FLOATS = 1 << 22;

/**
 * Whether conv2dInputGradCol2im computes `g`: the conv, on dy, whose output is the input
 * gradient of a strided conv (its stride is g's input dilation), one group, no stride and at
 * least minDepth forward output channels, on the wasm GEMM.
 */
export function col2imInputGradPays(g: Conv2dGeometry): boolean {
  const [idh, idw] = g.inputDilation;
  return (
    (idh > 1 || idw > 1) &&
    g.stride[0] === 1 &&
    g.stride[1] === 1 &&
    g.groups === 1 &&
    g.inChannels >= minDepth &&
    activeGemmImpl() === "wasm" &&
    gemmSimd() !== null
  );
}

/**
 * dx [N, O, outH, outW] = conv(dy, w') for g (col2imInputGradPays) and the forward kernel
 * w [C, O, kh, kw] (w' its flip-swap, as conv2dFlippedKernel): for the forward conv of stride
 * s = g's input dilation, dilation d and pads pt, pl,
 *   dx[n, o, oy s + ky dh - pt, ox s + kx dw - pl] += sum_c w[c, o, ky, kx] dy[n, c, oy, ox].
 * Images go through in groups of at most `stageFloats` floats of dy (at least one image).
 */
export function conv2dInputGradCol2im(
  dy: Float32Array,
  w: Float32Array,
  g: Conv2dGeometry,
  stageFloats = STAGE_FLOATS,
): Float32Array {
  const s = gemmSimd() as GemmSimd;
  const { batch: N, inChannels: C, outChannels: O, kernelH: kh, kernelW: kw } = g;
  const { inHeight: Hd, inWidth: Wd, outHeight: H, outWidth: W } = g;
  const [sy, sx] = g.inputDilation;
  const [dh, dw] = g.dilation;
  // The forward conv's pads (g's reach the kernel's far side).
  const pt = dh * (kh - 1) - g.pad[0];
  const pl = dw * (kw - 1) - g.pad[2];
  const taps = kh * kw;
  const rows = O * taps;
  const P = Hd * Wd;
  const plane = H * W;
  const dx = allocF32Unset(N * O * plane);
  const images = Math.max(1, Math.min(N, Math.floor(stageFloats / (C * P))));
  // dy's channels as the GEMM's depth: a pointwise conv's column matrix over `images` images.
  const pointwise = conv2dGeometry([N, C, Hd, Wd], [rows, C, 1, 1], {
    stride: [1, 1],
    dilation: [1, 1],
    inputDilation: [1, 1],
    pad: [0, 0, 0, 0],
    groups: 1,
  });
  const src = colMatrix(dy, pointwise);
  const packer = new ColPacker(src);
  // Per GEMM row m = (o kh + ky) kw + kx: the output pixels whose tap stays inside dx, and
  // where in an image's dx that tap of output pixel (0, 0) lands.
  const oyRange = axisRange(kh, Hd, H, sy, dh, pt);
  const oxRange = axisRange(kw, Wd, W, sx, dw, pl);
  const rowOf = (m: number) => {
    const t = m % taps;
    const [ky, kx] = [Math.floor(t / kw), t % kw];
    const [oy0, oy1] = oyRange[ky];
    const [ox0, ox1] = oxRange[kx];
    const origin = Math.floor(m / taps) * plane + (ky * dh - pt) * W + kx * dw - pl;
    return { oy0, oy1, ox0, ox1, origin };
  };
  const tapRows = Array.from({ length: rows }, (_, m) => rowOf(m));
  const srcRow = 4 * Wd;
  const dstRow = 4 * sy * W;
  const dstStep = 4 * sx;
  for (let n0 = 0; n0 < N; n0 += images) {
    const count = Math.min(images, N - n0);
    src.setInput(n0 * C * P, count);
    // This group's dx, accumulated in wasm memory past the staged dy, then copied out once.
    const dxAt = Math.ceil(src.wasmEnd / 16) * 16;
    const dxFloats = count * O * plane;
    const staged = s.memory.buffer;
    packScratch(s, dxAt + dxFloats - GEMM_WORKSPACE_FLOATS).fill(0, dxAt, dxAt + dxFloats);
    // Growing a private memory detaches the view the column matrix took when staging.
    if (!s.shared && s.memory.buffer !== staged) src.setInput(n0 * C * P, count);
    // A C block: rows ic .. ic + mc - 1, this group's columns jc .. jc + nc - 1, i.e. pixels
    // of images floor(jc / P) on. Each (row, image) adds its pixels' output rows, the first
    // and last of them possibly cut by the block, the ones between whole.
    const sink: CSink = ({ at, ld, ic, mc, jc, nc }) => {
      const scatter = (m: number, n: number, oy: number, a: number, b: number, span: number) => {
        const t = tapRows[m];
        const from = at + (m - ic) * ld + n * P + oy * Wd + a - jc;
        const to = dxAt + n * O * plane + t.origin + oy * sy * W + a * sx;
        s.scatteradd(4 * from, srcRow, span, b - a, 4 * to, dstRow, dstStep);
      };
      for (let m = ic; m < ic + mc; m++) {
        const { oy0, oy1, ox0, ox1 } = tapRows[m];
        if (oy0 >= oy1 || ox0 >= ox1) continue;
        for (let n = Math.floor(jc / P); n * P < jc + nc; n++) {
          const qa = Math.max(0, jc - n * P);
          const qb = Math.min(P, jc + nc - n * P);
          const first = Math.max(oy0, Math.floor(qa / Wd));
          const last = Math.min(oy1, Math.ceil(qb / Wd)) - 1;
          for (const oy of first === last ? [first] : [first, last]) {
            if (oy < first || oy > last) continue;
            const a = Math.max(ox0, qa - oy * Wd);
            const b = Math.min(ox1, qb - oy * Wd);
            if (a < b) scatter(m, n, oy, a, b, 1);
          }
          if (last - first > 1) scatter(m, n, first + 1, ox0, ox1, last - first - 1);
        }
      }
    };
    // C [rows, count P] = w^T [rows, C] dy [C, count P], into the sink.
    const none = new Float32Array(0);
    const [m, n] = [rows, count * P];
    gemmPackB(
      m,
      n,
      C,
      w,
      0,
      rows,
      true,
      packer,
      none,
      0,
      0,
      false,
      n0 > 0,
      undefined,
      undefined,
      sink,
    );
    const f = packScratch(s, dxAt + dxFloats - GEMM_WORKSPACE_FLOATS);
    dx.set(f.subarray(dxAt, dxAt + dxFloats), n0 * O * plane);
  }
  return dx;
}

/**
 * Per tap k along one axis: the output positions [first, end) of the forward conv (size `outs`)
 * whose tap k lands inside the input (size `size`): 0 <= pos s + k d - pad < size.
 */
function axisRange(
  taps: number,
  outs: number,
  size: number,
  s: number,
  d: number,
  pad: number,
): [number, number][] {
  const ranges: [number, number][] = [];
  for (let k = 0; k < taps; k++) {
    const off = k * d - pad;
    const first = Math.max(0, Math.ceil(-off / s));
    const end = Math.min(outs, Math.floor((size - 1 - off) / s) + 1);
    ranges.push([first, Math.max(first, end)]);
  }
  return ranges;
}

/**
 * Stride-1 convolutions with input dilation split into idh*idw plain convolutions (phases), one
 * per output residue, so the structural zeros of the dilated input are never multiplied.
 */
import type { Conv2dGeometry } from "../conv-geometry.ts";
import { ColMatrix, imagesPerGemm } from "./conv2d-col-matrix.ts";
import { ColPacker } from "./conv2d-packers.ts";
import { gemmPackB } from "./gemm.ts";
import { directConv, directConvUsable } from "./wasm/direct-conv.ts";

/** Reused across calls so repeated convolutions do not churn the GC. */
let phaseOut = new Float32Array(0);

/**
 * Stride 1 with input dilation (transposed convs, input gradients of strided convs): output
 * pixels with oy = ry (mod idh), ox = rx (mod idw) only meet kernel taps that land on real
 * input pixels for one residue of ky*dh (and of kx*dw), so each of the idh*idw phases is a
 * plain convolution of the undilated input with that subset of taps. This skips the
 * structural zeros entirely: (idh*idw)x fewer multiply-adds than correlating the dilated input.
 * Writes out without bias or relu.
 */
export function forwardPhases(
  x: Float32Array,
  w: Float32Array,
  g: Conv2dGeometry,
  out: Float32Array,
) {
  const { batch: N, inChannels: C, outChannels: O, groups, kernelH: kh, kernelW: kw } = g;
  const { inHeight: H, inWidth: W, outHeight: outH, outWidth: outW } = g;
  const [idh, idw] = g.inputDilation;
  const [dh, dw] = g.dilation;
  const cg = C / groups;
  const og = O / groups;
  const P = outH * outW;
  const inPlane = H * W;
  for (let ry = 0; ry < Math.min(idh, outH); ry++) {
    // Dilated row ry + ky*dh - padTop must be a multiple of idh; it then is input row
    // i + (ry + ky*dh - padTop) / idh for the phase's i-th output row.
    const kys: number[] = [];
    for (let ky = 0; ky < kh; ky++) if ((ry + ky * dh - g.pad[0]) % idh === 0) kys.push(ky);
    for (let rx = 0; rx < Math.min(idw, outW); rx++) {
      const kxs: number[] = [];
      for (let kx = 0; kx < kw; kx++) if ((rx + kx * dw - g.pad[2]) % idw === 0) kxs.push(kx);
      const ni = Math.ceil((outH - ry) / idh);
      const nj = Math.ceil((outW - rx) / idw);
      const ks = cg * kys.length * kxs.length;
      if (ks === 0) continue;
      const tapC = new Int32Array(ks);
      const tapY = new Int32Array(ks);
      const tapX = new Int32Array(ks);
      // wSub [O x ks]: each output channel's weights at the phase's taps, in tap order.
      const wSub = new Float32Array(O * ks);
      let t = 0;
      for (let c = 0; c < cg; c++) {
        for (const ky of kys) {
          for (const kx of kxs) {
            tapC[t] = c * inPlane;
            tapY[t] = (ry + ky * dh - g.pad[0]) / idh;
            tapX[t] = (rx + kx * dw - g.pad[2]) / idw;
            t++;
          }
        }
      }
      // Output channel by output channel: each reads its own kernels in order and writes its
      // row of wSub (the transposed loop, strided through w, made a 512 -> 256 stride-2 input
      // gradient 45.5 ms instead of 38.8).
      const ny = kys.length;
      const nx = kxs.length;
      for (let o = 0; o < O; o++) {
        let at = o * ks;
        for (let c = 0; c < cg; c++) {
          const kernel = (o * cg + c) * kh;
          for (let a = 0; a < ny; a++) {
            const row = (kernel + kys[a]) * kw;
            for (let b = 0; b < nx; b++) wSub[at++] = w[row + kxs[b]];
          }
        }
      }
      const pp = ni * nj;
      // Scatters phase output image n (og planes of ni x nj at tmp[from..]) into out.
      const place = (tmp: Float32Array, from: number, n: number, grp: number) => {
        for (let o = 0; o < og; o++) {
          const plane = (n * O + grp * og + o) * P;
          for (let i = 0; i < ni; i++) {
            let dst = plane + (ry + i * idh) * outW + rx;
            let src = from + o * pp + i * nj;
            for (let j = 0; j < nj; j++, dst += idw) out[dst] = tmp[src++];
          }
        }
      };
      // Few output channels: the phase is a plain conv with a kys x kxs kernel over x itself
      // (its taps' rows and columns are consecutive), which the direct wasm kernel computes
      // without packing 1024 taps per pixel for 3 outputs (ResNet-18 stem's input gradient).
      const ty0 = tapY[0];
      const tx0 = tapX[0];
      if (og <= 8 && dh === 1 && dw === 1 && ty0 <= 0 && tx0 <= 0 && directConvUsable()) {
        if (phaseOut.length < og * pp) phaseOut = new Float32Array(og * pp);
        const tmp = phaseOut;
        for (let grp = 0; grp < groups; grp++) {
          for (let n = 0; n < N; n++) {
            const xOff = (n * C + grp * cg) * inPlane;
            const wOff = grp * og * ks;
            directConv(
              x,
              xOff,
              cg,
              H,
              W,
              wSub,
              wOff,
              og,
              kys.length,
              kxs.length,
              -ty0,
              -tx0,
              ni,
              nj,
              tmp,
              0,
            );
            place(tmp, 0, n, grp);
          }
        }
        continue;
      }
      const cols = new ColMatrix(x, H, W, ni, nj, 1, 1, 1, 1, tapC, tapY, tapX);
      const packer = new ColPacker(cols);
      // Small phases of several batch items go through one GEMM (tmp holds image after image).
      const per = imagesPerGemm(N, groups, pp);
      if (phaseOut.length < per * og * pp) phaseOut = new Float32Array(per * og * pp);
      const tmp = phaseOut;
      const cImages = per > 1 ? { cols: pp, stride: og * pp } : undefined;
      // Batch items inner: each group's weights are packed once for all of them (sameA).
      for (let grp = 0; grp < groups; grp++) {
        for (let n0 = 0; n0 < N; n0 += per) {
          const images = Math.min(per, N - n0);
          cols.setInput((n0 * C + grp * cg) * inPlane, images);
          gemmPackB(
            og,
            images * pp,
            ks,
            wSub,
            grp * og * ks,
            ks,
            false,
            packer,
            tmp,
            0,
            pp,
            false,
            n0 > 0,
            cImages,
          );
          for (let n = n0; n < n0 + images; n++) place(tmp, (n - n0) * og * pp, n, grp);
        }
      }
    }
  }
}

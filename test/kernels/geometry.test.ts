/**
 * conv2dGeometry and poolGeometry, the shape arithmetic every conv and pooling kernel trusts:
 * output sizes against PyTorch's documented formulas (written here from the docs of
 * torch.nn.Conv2d, ConvTranspose-style input dilation as XLA's lhs_dilation, and MaxPool2d's
 * ceil_mode rule), every parameter carried over exactly and nothing else (the geometry used to
 * spread its options object, so a caller's extra fields rode along), and the errors naming what
 * was wrong.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { conv2dGeometry } from "../../src/kernels/conv-geometry.ts";
import { poolGeometry } from "../../src/kernels/pool-geometry.ts";

/** torch.nn.Conv2d: floor((H + pads - dilation (k - 1) - 1) / stride) + 1, H input-dilated first. */
function convOut(h: number, k: number, s: number, d: number, id: number, p0: number, p1: number) {
  const dilated = (h - 1) * id + 1;
  return Math.floor((dilated + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}

const CONV_KEYS = [
  "batch",
  "dilation",
  "groups",
  "inChannels",
  "inHeight",
  "inWidth",
  "inputDilation",
  "kernelH",
  "kernelW",
  "outChannels",
  "outHeight",
  "outWidth",
  "pad",
  "stride",
].sort();

describe("conv2dGeometry", () => {
  test("output sizes follow PyTorch's formula; the parameters are carried over, and nothing else", () => {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 3 }),
      groups: fc.integer({ min: 1, max: 3 }),
      cPer: fc.integer({ min: 1, max: 3 }),
      oPer: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 1, max: 20 }),
      w: fc.integer({ min: 1, max: 20 }),
      kh: fc.integer({ min: 1, max: 5 }),
      kw: fc.integer({ min: 1, max: 5 }),
      stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      dilation: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      inputDilation: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      pad: fc.tuple(
        fc.integer({ min: -1, max: 4 }),
        fc.integer({ min: -1, max: 4 }),
        fc.integer({ min: -1, max: 4 }),
        fc.integer({ min: -1, max: 4 }),
      ),
    });
    let checked = 0;
    fc.assert(
      fc.property(arb, (c) => {
        const C = c.groups * c.cPer;
        const O = c.groups * c.oPer;
        const oh = convOut(
          c.h,
          c.kh,
          c.stride[0],
          c.dilation[0],
          c.inputDilation[0],
          c.pad[0],
          c.pad[1],
        );
        const ow = convOut(
          c.w,
          c.kw,
          c.stride[1],
          c.dilation[1],
          c.inputDilation[1],
          c.pad[2],
          c.pad[3],
        );
        const params = {
          stride: c.stride,
          dilation: c.dilation,
          inputDilation: c.inputDilation,
          pad: c.pad,
          groups: c.groups,
          // Fields of a caller's options object that are not geometry.
          relu: true,
          wShape: [9, 9],
        };
        const build = () => conv2dGeometry([c.n, C, c.h, c.w], [O, c.cPer, c.kh, c.kw], params);
        if (oh < 1 || ow < 1) {
          expect(build).toThrow(/leaves an empty output/);
          return;
        }
        checked++;
        const g = build();
        expect(Object.keys(g).sort()).toEqual(CONV_KEYS);
        expect(g).toEqual({
          stride: c.stride,
          dilation: c.dilation,
          inputDilation: c.inputDilation,
          pad: c.pad,
          groups: c.groups,
          batch: c.n,
          inChannels: C,
          inHeight: c.h,
          inWidth: c.w,
          outChannels: O,
          kernelH: c.kh,
          kernelW: c.kw,
          outHeight: oh,
          outWidth: ow,
        });
      }),
      { numRuns: 400, seed: 8 },
    );
    expect(checked).toBeGreaterThan(100);
  });

  test("errors name the shapes and parameters that are wrong", () => {
    const p = {
      stride: [1, 1] as const,
      dilation: [1, 1] as const,
      inputDilation: [1, 1] as const,
      pad: [0, 0, 0, 0] as const,
      groups: 1,
    };
    expect(() => conv2dGeometry([1, 3, 8], [4, 3, 3, 3], p)).toThrow(
      "conv2d: expected input [N, C, H, W] and weight [O, C/groups, kh, kw], got input [1,3,8] and weight [4,3,3,3]",
    );
    expect(() => conv2dGeometry([1, 6, 8, 8], [4, 3, 3, 3], { ...p, groups: 4 })).toThrow(
      "conv2d: groups=4 must divide both input channels (6) and output channels (4)",
    );
    expect(() => conv2dGeometry([1, 8, 8, 8], [4, 3, 3, 3], p, "Conv")).toThrow(
      "Conv: weight [4,3,3,3] expects 3 input channels (3 per group x 1 groups) but input [1,8,8,8] has 8",
    );
    expect(() => conv2dGeometry([1, 3, 8, 8], [4, 3, 3, 3], { ...p, stride: [0, 1] })).toThrow(
      "conv2d: stride must be positive integers, got [0,1]",
    );
    expect(() => conv2dGeometry([1, 3, 2, 8], [4, 3, 3, 3], p)).toThrow(
      "conv2d: input [1,3,2,8] with kernel 3x3, padding [0,0,0,0], dilation [1,1] and stride [1,1] leaves an empty output (0x6)",
    );
  });
});

/** torch.nn.MaxPool2d: floor or ceil of (H + pads - k) / s, + 1; with ceil_mode the last window must start inside the input or the left padding. */
function poolOut(h: number, k: number, s: number, p0: number, p1: number, ceil: boolean) {
  let out = (ceil ? Math.ceil : Math.floor)((h + p0 + p1 - k) / s) + 1;
  if (ceil && (out - 1) * s >= h + p0) out--;
  return out;
}

describe("poolGeometry", () => {
  test("output sizes follow PyTorch's formula (floor and ceil mode); the parameters are carried over, and nothing else", () => {
    const arb = fc.record({
      h: fc.integer({ min: 1, max: 20 }),
      w: fc.integer({ min: 1, max: 20 }),
      kh: fc.integer({ min: 1, max: 5 }),
      kw: fc.integer({ min: 1, max: 5 }),
      sh: fc.integer({ min: 1, max: 4 }),
      sw: fc.integer({ min: 1, max: 4 }),
      pads: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
      ceil: fc.boolean(),
      countIncludePad: fc.boolean(),
    });
    let checked = 0;
    fc.assert(
      fc.property(arb, (c) => {
        // PyTorch's limit: padding at most half the kernel.
        const pad = [
          Math.min(c.pads[0], Math.floor(c.kh / 2)),
          Math.min(c.pads[1], Math.floor(c.kh / 2)),
          Math.min(c.pads[2], Math.floor(c.kw / 2)),
          Math.min(c.pads[3], Math.floor(c.kw / 2)),
        ] as const;
        const oh = poolOut(c.h, c.kh, c.sh, pad[0], pad[1], c.ceil);
        const ow = poolOut(c.w, c.kw, c.sw, pad[2], pad[3], c.ceil);
        const params = {
          kernel: [c.kh, c.kw] as const,
          stride: [c.sh, c.sw] as const,
          pad,
          countIncludePad: c.countIncludePad,
          xShape: [1, 2, 3, 4], // a caller's extra field: not geometry
        };
        const build = () => poolGeometry([2, 3, c.h, c.w], params, c.ceil, "maxPool2d");
        if (oh < 1 || ow < 1) {
          expect(build).toThrow(/maxPool2d: input \[2,3,.*\] is smaller than the/);
          return;
        }
        checked++;
        expect(build()).toEqual({
          kernel: [c.kh, c.kw],
          stride: [c.sh, c.sw],
          pad,
          countIncludePad: c.countIncludePad,
          batch: 2,
          channels: 3,
          inHeight: c.h,
          inWidth: c.w,
          outHeight: oh,
          outWidth: ow,
        });
      }),
      { numRuns: 400, seed: 9 },
    );
    expect(checked).toBeGreaterThan(100);
  });

  test("errors name what is wrong", () => {
    const p = {
      kernel: [3, 3] as const,
      stride: [1, 1] as const,
      pad: [0, 0, 0, 0] as const,
      countIncludePad: true,
    };
    expect(() => poolGeometry([1, 3, 8], p)).toThrow(
      "pool2d: expected input [N, C, H, W], got [1,3,8]",
    );
    expect(() => poolGeometry([1, 3, 8, 8], { ...p, stride: [1, 0] })).toThrow(
      "pool2d: kernel [3,3] and stride [1,0] must be positive integers",
    );
    expect(() =>
      poolGeometry([1, 3, 8, 8], { ...p, pad: [2, 0, 0, 0] }, false, "avgPool2d"),
    ).toThrow("avgPool2d: padding [2,0,0,0] must be at most half the kernel [3,3]");
    expect(() => poolGeometry([1, 3, 8, 8], { ...p, pad: [0, -1, 0, 0] })).toThrow(
      "pool2d: padding [0,-1,0,0] must be non-negative integers",
    );
  });
});

/**
 * Winograd F(2x2, 3x3), F(2x2, 2x2), F(4x4, 3x3) and F(4x4, 2x2) convolution (conv2d-winograd.ts +
 * wasm/winograd-block.ts, wasm/winograd-f4x4.ts) against a float64 direct convolution, with the
 * error bound scaled by the largest sum of |terms| in each output plane.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conv2dGeometry } from "../../src/kernels/conv-geometry.ts";
import { conv2dForward } from "../../src/kernels/cpu/conv2d.ts";
import {
  conv2dWinograd,
  setWinograd4x4Min,
  setWinogradBandFloats,
  setWinogradChunkFloats,
  setWinogradMinOut,
  setWinogradPipeline,
  winogradApplies,
  winogradPays,
  winogradTile,
} from "../../src/kernels/cpu/conv2d-winograd.ts";
import {
  setWinogradChunkedMin,
  winogradChunked,
} from "../../src/kernels/cpu/conv2d-winograd-chunked.ts";
import { setGemmImpl } from "../../src/kernels/cpu/gemm.ts";
import {
  gemmThreadsActive,
  helperReady,
  setCpuThreads,
} from "../../src/kernels/cpu/wasm/gemm-threads.ts";
import { gemmSimd } from "../../src/kernels/cpu/wasm/gemm-wasm.ts";
import { winoTiles } from "../../src/kernels/cpu/winograd-tiles.ts";
import { nd } from "../reference/nd.ts";
import { conv2dRefWithScale } from "../reference/nn.ts";
import { uniformSource } from "../reference/rng.ts";
import { recordStaging } from "./staging-spy.ts";

interface Case {
  /** Kernel size (3 by default). */
  r?: 2 | 3;
  N: number;
  C: number;
  K: number;
  H: number;
  W: number;
  pad: [number, number, number, number];
  bias: boolean;
  seed: number;
  /** max(0, .) in the output transform. */
  relu?: boolean;
  /** Output tile: 4 forces F(4x4, .), 2 F(2x2, .) (default: conv2d-winograd.ts's choice). */
  tile?: 2 | 4;
  /** GEMMs split by output channels (conv2d-winograd-chunked.ts): forced on or off. */
  chunked?: boolean;
}

/** Runs `f` with F(4x4, .) forced (tile 4) or ruled out (tile 2), chunked GEMMs on or off. */
function withTile<T>(tile: 2 | 4 | undefined, f: () => T, chunked?: boolean): T {
  const prev =
    tile === undefined ? undefined : setWinograd4x4Min(tile === 4 ? 1 : Number.POSITIVE_INFINITY);
  const prevChunked =
    chunked === undefined
      ? undefined
      : setWinogradChunkedMin(chunked ? 1 : Number.POSITIVE_INFINITY);
  try {
    return f();
  } finally {
    if (prev !== undefined) setWinograd4x4Min(prev);
    if (prevChunked !== undefined) setWinogradChunkedMin(prevChunked);
  }
}

function geometry(c: Case) {
  const r = c.r ?? 3;
  return conv2dGeometry([c.N, c.C, c.H, c.W], [c.K, c.C, r, r], {
    stride: [1, 1],
    pad: c.pad,
    dilation: [1, 1],
    inputDilation: [1, 1],
    groups: 1,
  });
}

function inputs(c: Case) {
  const r = uniformSource(c.seed);
  const x = Float32Array.from({ length: c.N * c.C * c.H * c.W }, () => 2 * r() - 1);
  const k = c.r ?? 3;
  const w = Float32Array.from({ length: c.K * c.C * k * k }, () => 2 * r() - 1);
  const b = c.bias ? Float32Array.from({ length: c.K }, () => 2 * r() - 1) : null;
  return { x, w, b };
}

/** Runs the Winograd path into a NaN-filled buffer (every output must be written). */
function winograd(c: Case): Float32Array {
  const g = geometry(c);
  const { x, w, b } = inputs(c);
  const out = new Float32Array(c.N * c.K * g.outHeight * g.outWidth).fill(Number.NaN);
  // Finite inputs: the path must not hand the conv back.
  expect(withTile(c.tile, () => conv2dWinograd(x, w, g, b, out, c.relu), c.chunked)).toBe(true);
  return out;
}

/**
 * `bound`: 2e-6 of the plane's largest sum of |terms| for F(2x2, .); F(4x4, 3x3)'s transforms
 * (entries up to 8 in A^T, 5 in B^T, 1/24 in G) round about 10x more.
 */
function expectMatchesReference(c: Case, got: Float32Array, relu = false, bound = 2e-6): void {
  const { x, w, b } = inputs(c);
  const { out: want, scale } = conv2dRefWithScale(
    nd([c.N, c.C, c.H, c.W], x),
    nd([c.K, c.C, c.r ?? 3, c.r ?? 3], w),
    { stride: [1, 1], pad: c.pad, dilation: [1, 1], groups: 1 },
    b === null ? null : nd([c.K], b),
    relu,
  );
  expect(got.length).toBe(want.data.length);
  // Relative to the largest sum of |terms| in the output plane: a tile's transforms add and
  // cancel products of neighbouring pixels too, so an output whose own terms are tiny still
  // carries rounding from its tile's larger ones.
  const plane = got.length / (c.N * c.K);
  let worst = 0;
  for (let p0 = 0; p0 < got.length; p0 += plane) {
    let top = 1e-30;
    for (let i = p0; i < p0 + plane; i++) top = Math.max(top, scale[i]);
    for (let i = p0; i < p0 + plane; i++) {
      const err = Math.abs(got[i] - want.data[i]) / top;
      if (!(err <= worst)) worst = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
    }
  }
  expect(worst).toBeLessThan(bound);
}

/** Random cases: up to 3 images, `maxC` channels, H x W in [minHW, maxHW], pads up to maxPad. */
function caseArb(o: { maxC: number; minHW: number; maxH: number; maxW: number; maxPad: number }) {
  const pad = () => fc.integer({ min: 0, max: o.maxPad });
  return fc.record({
    N: fc.integer({ min: 1, max: 3 }),
    C: fc.integer({ min: 1, max: o.maxC }),
    K: fc.integer({ min: 1, max: o.maxC }),
    H: fc.integer({ min: o.minHW, max: o.maxH }),
    W: fc.integer({ min: o.minHW, max: o.maxW }),
    pad: fc.tuple(pad(), pad(), pad(), pad()),
    bias: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1e6 }),
    relu: fc.boolean(),
  });
}

/**
 * The case on two threads equals it on one, bitwise (where the helper is up: the GEMM thread
 * test requires it wherever Node supports it), and matches float64 within `bound`.
 */
function expectSplitBitwise(c: Case, bound: number): void {
  setCpuThreads(1);
  const one = winograd(c);
  setCpuThreads(2);
  const two = winograd(c);
  if (gemmThreadsActive()) expect(Array.from(two)).toEqual(Array.from(one));
  else console.warn("gemm helper thread unavailable: the split was not exercised");
  expectMatchesReference(c, two, false, bound);
}

const available = gemmSimd() !== null;

beforeAll(async () => {
  setGemmImpl("auto");
  await helperReady(gemmSimd());
});

afterAll(() => setCpuThreads(2));

describe.runIf(available)("Winograd F(2x2, 3x3) conv", () => {
  it("matches a float64 direct conv on random shapes, pads and channel counts", () => {
    setCpuThreads(1);
    fc.assert(
      fc.property(
        fc
          .tuple(
            fc.constantFrom<2 | 3>(2, 3),
            caseArb({ maxC: 19, minHW: 1, maxH: 19, maxW: 27, maxPad: 2 }),
          )
          .map(([r, c]) => ({ ...c, r })),
        (c) => {
          if (c.H + c.pad[0] + c.pad[1] < c.r || c.W + c.pad[2] + c.pad[3] < c.r) return;
          expectMatchesReference(c, winograd(c), c.relu);
        },
      ),
      { numRuns: 150 },
    );
    setCpuThreads(2);
  });

  it("splits tile blocks with the helper thread, bitwise as on one thread", () => {
    // Many blocks per chunk: 2 images of 37x45, 24 -> 20 channels (F(4x4) has its own test).
    for (const r of [3, 2] as const) {
      const c: Case = {
        r,
        tile: 2,
        N: 2,
        C: 24,
        K: 20,
        H: 37,
        W: 45,
        pad: [1, 1, 1, 0],
        bias: true,
        seed: 7,
      };
      expectSplitBitwise(c, 2e-6);
    }
  });

  it("gives each image the same result whether or not it shares a chunk with others", () => {
    // 64 channels of 130x130 exceed one chunk's staged floats at 4 images, so 5 images run in
    // two chunks; each must equal the image run alone.
    const c: Case = { N: 5, C: 64, K: 3, H: 130, W: 130, pad: [1, 1, 1, 1], bias: true, seed: 3 };
    const all = winograd(c);
    const { x, w, b } = inputs(c);
    const one = { ...c, N: 1 };
    const g1 = geometry(one);
    const plane = c.K * g1.outHeight * g1.outWidth;
    for (let n = 0; n < c.N; n++) {
      const out = new Float32Array(plane);
      const xn = x.subarray(n * c.C * c.H * c.W, (n + 1) * c.C * c.H * c.W);
      expect(conv2dWinograd(xn, w, g1, b, out)).toBe(true);
      expect(Array.from(all.subarray(n * plane, (n + 1) * plane))).toEqual(Array.from(out));
    }
  });

  it("is what conv2dForward takes for 3x3 stride-1 convs, bias and ReLU included", () => {
    const c: Case = { N: 2, C: 5, K: 6, H: 9, W: 11, pad: [1, 1, 1, 1], bias: true, seed: 11 };
    const g = geometry(c);
    expect(winogradPays(g)).toBe(true);
    const { x, w, b } = inputs(c);
    expectMatchesReference(c, conv2dForward(x, w, g, b, true), true);
  });

  it("picks the same path for a batch item whatever the batch size (bitwise equal)", () => {
    // 8x8 (4 tile groups per image: Winograd) and 6x6 (3: the GEMM path) at batch 3 and 1.
    for (const H of [8, 6]) {
      const c: Case = { N: 3, C: 4, K: 5, H, W: H, pad: [1, 1, 1, 1], bias: true, seed: H };
      const { x, w, b } = inputs(c);
      const all = conv2dForward(x, w, geometry(c), b, false);
      expect(winogradPays(geometry(c))).toBe(H === 8);
      const plane = c.C * H * H;
      const outPlane = c.K * H * H;
      for (let n = 0; n < c.N; n++) {
        const one = conv2dForward(
          x.subarray(n * plane, (n + 1) * plane),
          w,
          geometry({ ...c, N: 1 }),
          b,
          false,
        );
        expect(Array.from(one)).toEqual(Array.from(all.subarray(n * outPlane, (n + 1) * outPlane)));
      }
    }
  });

  it("hands convs with Inf or NaN outputs back to the direct-sum paths (their Inf/NaN semantics)", () => {
    const c: Case = { N: 1, C: 3, K: 4, H: 12, W: 12, pad: [1, 1, 1, 1], bias: true, seed: 5 };
    const g = geometry(c);
    // With the ReLU too: -Inf outputs become 0 after it, so the check must see them before.
    for (const bad of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]) {
      for (const relu of [false, true]) {
        const { x, w, b } = inputs(c);
        x[5 * 12 + 6] = bad;
        // Winograd alone reports the non-finite result...
        expect(conv2dWinograd(x, w, g, b, new Float32Array(4 * 144), relu)).toBe(false);
        // ...and conv2dForward's result is then the GEMM path's, Infs where the direct sum has them.
        const got = conv2dForward(x, w, g, b, relu);
        const prev = setWinogradMinOut(Number.POSITIVE_INFINITY);
        const want = conv2dForward(x, w, g, b, relu);
        setWinogradMinOut(prev);
        expect(Array.from(got)).toEqual(Array.from(want));
        // Outputs whose 3x3 window misses the pixel stay finite.
        expect(Number.isFinite(got[0])).toBe(true);
      }
    }
    const { x, w, b } = inputs(c);
    expect(conv2dWinograd(x, w, g, b, new Float32Array(4 * 144))).toBe(true);
  });

  it("declines geometries it cannot compute", () => {
    const base = {
      stride: [1, 1],
      pad: [1, 1, 1, 1],
      dilation: [1, 1],
      inputDilation: [1, 1],
      groups: 1,
    } as const;
    const ok = conv2dGeometry([1, 4, 8, 8], [4, 4, 3, 3], base);
    expect(winogradApplies(ok)).toBe(true);
    expect(
      winogradApplies(conv2dGeometry([1, 4, 8, 8], [4, 4, 3, 3], { ...base, stride: [2, 2] })),
    ).toBe(false);
    expect(
      winogradApplies(conv2dGeometry([1, 4, 8, 8], [4, 4, 3, 3], { ...base, dilation: [2, 2] })),
    ).toBe(false);
    expect(
      winogradApplies(conv2dGeometry([1, 4, 8, 8], [4, 2, 3, 3], { ...base, groups: 2 })),
    ).toBe(false);
    expect(winogradApplies(conv2dGeometry([1, 4, 8, 8], [4, 4, 5, 5], base))).toBe(false);
    expect(winogradApplies(conv2dGeometry([1, 4, 8, 8], [4, 4, 2, 3], base))).toBe(false);
    expect(winogradApplies(conv2dGeometry([1, 4, 8, 8], [4, 4, 2, 2], base))).toBe(true);
    const prev = setWinogradMinOut(Number.POSITIVE_INFINITY);
    expect(winogradPays(ok)).toBe(false);
    setWinogradMinOut(prev);
  });
});

for (const r of [3, 2] as const) {
  describe.runIf(available)(`Winograd F(4x4, ${r}x${r}) conv`, () => {
    it("matches a float64 direct conv on random shapes, pads and channel counts", () => {
      setCpuThreads(1);
      fc.assert(
        fc.property(caseArb({ maxC: 19, minHW: 1, maxH: 27, maxW: 27, maxPad: 2 }), (c) => {
          if (c.H + c.pad[0] + c.pad[1] < r || c.W + c.pad[2] + c.pad[3] < r) return;
          const f4: Case = { ...c, r, tile: 4 };
          expectMatchesReference(f4, winograd(f4), c.relu, 1e-5);
        }),
        { numRuns: 150 },
      );
      setCpuThreads(2);
    });

    it("rounds within 1e-5 of the terms' size at ResNet widths (F(2x2): 2e-6), and is not F(2x2)", () => {
      // 128 channels: the GEMM sums 128 products per point, the transforms mix 36 (or 25) of them.
      const c: Case = {
        r,
        N: 1,
        C: 128,
        K: 8,
        H: 12,
        W: 20,
        pad: [1, 1, 1, 1],
        bias: true,
        seed: 9,
      };
      const f4 = winograd({ ...c, tile: 4 });
      const f2 = winograd({ ...c, tile: 2 });
      expectMatchesReference(c, f4, false, 1e-5);
      expectMatchesReference(c, f2);
      expect(Array.from(f4)).not.toEqual(Array.from(f2));
    });

    it("splits 2x2-tile groups with the helper thread, bitwise as on one thread", () => {
      const c: Case = {
        r,
        N: 2,
        C: 24,
        K: 20,
        H: 37,
        W: 45,
        pad: [1, 1, 1, 0],
        bias: true,
        seed: 7,
        tile: 4,
      };
      expectSplitBitwise(c, 1e-5);
    });

    it("hands convs with Inf or NaN outputs back, and applies the ReLU after the check", () => {
      const c: Case = { r, N: 1, C: 3, K: 4, H: 12, W: 12, pad: [1, 1, 1, 1], bias: true, seed: 5 };
      const g = geometry(c);
      for (const bad of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]) {
        for (const relu of [false, true]) {
          const { x, w, b } = inputs(c);
          x[5 * 12 + 6] = bad;
          const out = new Float32Array(4 * 144);
          expect(withTile(4, () => conv2dWinograd(x, w, g, b, out, relu))).toBe(false);
        }
      }
    });
  });
}

describe.runIf(available)("Winograd F(4x4, .) tile choice", () => {
  it("is taken from 16 output channels and 24x24 outputs on (32x32 under 32 channels), per image whatever the batch", () => {
    const tile = (N: number, C: number, K: number, H: number, k = 3) =>
      winogradTile(
        geometry({ N, C, K, H, W: H, pad: [1, 1, 1, 1], bias: false, seed: 1, r: k as 2 | 3 }),
      );
    expect(tile(1, 32, 32, 24)).toBe(4);
    // Under 32 channels from 32x32 outputs.
    expect(tile(1, 16, 16, 32)).toBe(4);
    expect(tile(1, 16, 16, 31)).toBe(2);
    expect(tile(10, 16, 64, 28)).toBe(2);
    expect(tile(10, 64, 64, 56)).toBe(4);
    // Few input channels: F(4x4) from twice the output channels and 48x48 outputs.
    expect(tile(1, 3, 32, 48)).toBe(4);
    expect(tile(1, 3, 31, 56)).toBe(2);
    expect(tile(1, 3, 64, 47)).toBe(2);
    expect(tile(10, 1, 16, 28)).toBe(2);
    expect(tile(1, 64, 15, 56)).toBe(2);
    expect(tile(10, 128, 128, 7)).toBe(2);
    expect(tile(64, 64, 64, 23)).toBe(2);
    // 2x2 kernels (upsampling convs per phase) take F(4x4, 2x2) by the same rule.
    expect(tile(1, 64, 64, 56, 2)).toBe(4);
    expect(tile(1, 64, 15, 56, 2)).toBe(2);
    expect(tile(64, 64, 64, 22, 2)).toBe(2); // 23x23 outputs
    // conv2dForward's F(4x4) result is the reference's for a conv the rule picks it for.
    const c: Case = { N: 2, C: 16, K: 17, H: 32, W: 34, pad: [1, 1, 1, 1], bias: true, seed: 4 };
    expect(winogradTile(geometry(c))).toBe(4);
    const { x, w, b } = inputs(c);
    const got = conv2dForward(x, w, geometry(c), b, true);
    expect(Array.from(got)).toEqual(Array.from(winograd({ ...c, relu: true })));
    expectMatchesReference(c, got, true, 1e-5);
  });
});

/**
 * With an Inf at x[i] for each i of `at` in turn (pieces after the first), the Winograd path of
 * `c` (16 -> 16 channels, F(4x4)), run `within` its piece setting, hands the conv back on one
 * thread and two; conv2dForward's redo then puts Inf in exactly the 3x3 outputs around the last
 * one in each of the 16 output planes, as a direct sum does.
 */
function expectInfHandedBack(c: Case, at: number[], within: <T>(f: () => T) => T): void {
  const g = geometry(c);
  for (const threads of [1, 2] as const) {
    setCpuThreads(threads);
    for (const i of at) {
      const { x, w, b } = inputs(c);
      x[i] = Number.POSITIVE_INFINITY;
      const out = new Float32Array(c.N * c.K * c.H * c.W);
      const ok = within(() => withTile(4, () => conv2dWinograd(x, w, g, b, out)));
      expect(ok, `Inf at ${i}, ${threads} thread(s)`).toBe(false);
    }
    const { x, w } = inputs(c);
    x[at[at.length - 1]] = Number.POSITIVE_INFINITY;
    const got = within(() => conv2dForward(x, w, g, null, false));
    expect(Array.from(got).filter((v) => !Number.isFinite(v)).length).toBe(16 * 9);
  }
  setCpuThreads(2);
}

describe.runIf(available)(
  "Winograd over several chunks of images, the next staged while the helper starts",
  () => {
    /** Runs `f` with `images` images a chunk, pipeline on or off. */
    function withChunks<T>(c: Case, images: number, pipeline: boolean, f: () => T): T {
      // The staged planes of one image: C padded planes of the tile grid.
      const t = winoTiles(geometry(c), c.tile ?? 2);
      const prevFloats = setWinogradChunkFloats(images * c.C * t.Hp * t.Wp);
      const prevPipe = setWinogradPipeline(pipeline);
      try {
        return f();
      } finally {
        setWinogradChunkFloats(prevFloats);
        setWinogradPipeline(prevPipe);
      }
    }

    for (const [tile, name] of [
      [2, "F(2x2, 3x3)"],
      [4, "F(4x4, 3x3)"],
    ] as const) {
      it(`${name}: 5 images in chunks of 1 and 2 equal one chunk bitwise, on one thread and two, and the float64 conv`, () => {
        const c: Case = {
          N: 5,
          C: 18,
          K: 21,
          H: 19,
          W: 23,
          pad: [1, 1, 1, 1],
          bias: true,
          relu: true,
          seed: 31,
          tile,
        };
        setCpuThreads(1);
        const whole = withChunks(c, 5, false, () => winograd(c));
        expectMatchesReference(c, whole, true, tile === 4 ? 1e-5 : 2e-6);
        for (const threads of [1, 2] as const) {
          setCpuThreads(threads);
          for (const images of [1, 2]) {
            for (const pipeline of [false, true]) {
              const got = withChunks(c, images, pipeline, () => winograd(c));
              expect(
                Array.from(got),
                `${threads} thread(s), ${images} a chunk, pipeline ${pipeline}`,
              ).toEqual(Array.from(whole));
            }
          }
        }
        setCpuThreads(2);
      });
    }

    it("hands the conv back when a later chunk has a non-finite output, on one thread and two", () => {
      const c: Case = {
        N: 4,
        C: 16,
        K: 16,
        H: 24,
        W: 24,
        pad: [1, 1, 1, 1],
        bias: false,
        seed: 3,
        tile: 4,
      };
      // Pixel (4, 4) of channel 5 in image 1, then in image 3 (chunks of one image).
      const at = [1, 3].map((image) => (image * c.C + 5) * c.H * c.W + 100);
      expectInfHandedBack(c, at, (f) => withChunks(c, 1, true, f));
    });
  },
);

describe.runIf(available)("Winograd over bands of an image's rows", () => {
  /**
   * Runs `f` with images split into bands of `rows` group rows (rows of tiles: 8 output rows in
   * F(4x4), 2 in F(2x2)), pipeline on or off; returns f's result and the padplanes calls'
   * staged row counts (its H argument).
   */
  function withBands<T>(c: Case, rows: number, pipeline: boolean, f: () => T) {
    const tile = c.tile ?? 2;
    const t = winoTiles(geometry(c), tile);
    const groupRows = t.Ho2 / t.tH;
    // A band's staged planes: groupRows rows a group row, plus the rows its patches reach below.
    const bandFloats = c.C * t.Wp * (groupRows * rows + t.Hp - groupRows * t.tH);
    const prevBand = setWinogradBandFloats(bandFloats);
    const prevPipe = setWinogradPipeline(pipeline);
    try {
      return recordStaging(f);
    } finally {
      setWinogradBandFloats(prevBand);
      setWinogradPipeline(prevPipe);
    }
  }

  for (const [tile, r, name] of [
    [2, 3, "F(2x2, 3x3)"],
    [2, 2, "F(2x2, 2x2)"],
    [4, 3, "F(4x4, 3x3)"],
    [4, 2, "F(4x4, 2x2)"],
  ] as const) {
    it(`${name}: bands of 1 to 3 tile rows equal whole images bitwise, on one thread and two, and the float64 conv`, () => {
      // 2 images; output rows not a multiple of the group rows (the last band partial, its
      // rows cropped), a top pad of 2 and a bottom pad of 0 (the bands' input rows shift).
      const H = tile === 4 ? 37 : 9;
      const c: Case = {
        r,
        N: 2,
        C: 17,
        K: 19,
        H,
        W: 21,
        pad: r === 3 ? [2, 0, 1, 1] : [1, 0, 0, 1],
        bias: true,
        relu: true,
        seed: 41,
        tile,
      };
      const g = geometry(c);
      const groupRows = tile === 4 ? 8 : 2;
      const tH = Math.ceil(g.outHeight / groupRows);
      setCpuThreads(1);
      const whole = withBands(c, Number.POSITIVE_INFINITY, false, () => winograd(c));
      expect(whole.staged).toEqual([c.H]); // one piece: both images
      expectMatchesReference(c, whole.result, true, tile === 4 ? 1e-5 : 2e-6);
      for (const threads of [1, 2] as const) {
        setCpuThreads(threads);
        for (const rows of [1, 2, 3]) {
          for (const pipeline of [false, true]) {
            const got = withBands(c, rows, pipeline, () => winograd(c));
            const label = `${threads} thread(s), bands of ${rows}, pipeline ${pipeline}`;
            expect(Array.from(got.result), label).toEqual(Array.from(whole.result));
            // Per image, ceil(tH / rows) bands, each staging the rows of its padded planes (its
            // group rows and 2 below: winoTiles' Hp) that hold input rows (shifted by the top pad).
            const want: number[] = [];
            for (let n = 0; n < c.N; n++)
              for (let gr = 0; gr < tH; gr += rows) {
                const y0 = gr * groupRows - c.pad[0];
                const end = y0 + groupRows * Math.min(rows, tH - gr) + 2;
                want.push(Math.min(c.H, end) - Math.max(0, y0));
              }
            expect(got.staged, label).toEqual(want);
          }
        }
      }
      setCpuThreads(2);
    });
  }

  it("computes the flipped kernel's conv (an input gradient) in bands, bitwise as whole", () => {
    const c: Case = {
      N: 1,
      C: 20,
      K: 16,
      H: 30,
      W: 17,
      pad: [1, 1, 1, 1],
      bias: false,
      seed: 8,
      tile: 4,
    };
    const g = geometry(c);
    const { x } = inputs(c);
    // w [C, K, 3, 3]: the kernel of the conv whose input gradient this is.
    const w = inputs({ ...c, C: c.K, K: c.C }).w;
    const run = () => {
      const out = new Float32Array(c.N * c.K * c.H * c.W).fill(Number.NaN);
      expect(withTile(4, () => conv2dWinograd(x, w, g, null, out, false, true))).toBe(true);
      return Array.from(out);
    };
    const whole = withBands(c, Number.POSITIVE_INFINITY, false, run).result;
    // Against float64 with the flip-swapped kernel written out.
    const flip = new Float32Array(c.K * c.C * 9);
    for (let k = 0; k < c.K; k++)
      for (let ci = 0; ci < c.C; ci++)
        for (let t = 0; t < 9; t++) flip[(k * c.C + ci) * 9 + t] = w[(ci * c.K + k) * 9 + 8 - t];
    const { out: want, scale } = conv2dRefWithScale(
      nd([c.N, c.C, c.H, c.W], x),
      nd([c.K, c.C, 3, 3], flip),
      { stride: [1, 1], pad: c.pad, dilation: [1, 1], groups: 1 },
      null,
      false,
    );
    const top = Math.max(...scale);
    whole.forEach((v, i) => expect(Math.abs(v - want.data[i]) / top).toBeLessThan(1e-5));
    for (const threads of [1, 2] as const) {
      setCpuThreads(threads);
      const banded = withBands(c, 1, true, run);
      expect(banded.result).toEqual(whole);
      // 4 bands of 8 output rows, each staging input rows [8 b - 1, 8 b + 9) clipped to the image.
      expect(banded.staged).toEqual([9, 10, 10, 7]);
    }
    setCpuThreads(2);
  });

  it("hands the conv back when a later band has a non-finite output, on one thread and two", () => {
    const c: Case = {
      N: 1,
      C: 16,
      K: 16,
      H: 40,
      W: 24,
      pad: [1, 1, 1, 1],
      bias: false,
      seed: 3,
      tile: 4,
    };
    // Row 36 (the fifth band of 8 rows), column 10, channel 5.
    const at = [(5 * c.H + 36) * c.W + 10];
    expectInfHandedBack(c, at, (f) => withBands(c, 1, true, f).result);
  });
});

describe.runIf(available)("Winograd with its GEMMs split by output channels", () => {
  it("matches a float64 direct conv in F(2x2) and F(4x4), partial last panels included", () => {
    setCpuThreads(1);
    fc.assert(
      fc.property(
        fc
          .tuple(
            fc.constantFrom<2 | 4>(2, 4),
            caseArb({ maxC: 40, minHW: 3, maxH: 20, maxW: 20, maxPad: 1 }),
          )
          .map(([tile, c]) => ({ ...c, tile })),
        (c) => {
          const chunked: Case = { ...c, chunked: true };
          expectMatchesReference(chunked, winograd(chunked), c.relu, c.tile === 4 ? 1e-5 : 2e-6);
        },
      ),
      { numRuns: 80 },
    );
    setCpuThreads(2);
  });

  it("shares groups and output-channel chunks with the helper thread, bitwise as on one thread", () => {
    // 72 output channels: 18 panels, several chunks per thread; 3 images of 14x14.
    for (const tile of [2, 4] as const) {
      const c: Case = {
        N: 3,
        C: 300,
        K: 70,
        H: 14,
        W: 13,
        pad: [1, 1, 1, 1],
        bias: true,
        seed: 12,
        tile,
        chunked: true,
      };
      expectSplitBitwise(c, tile === 4 ? 1e-5 : 2e-6);
    }
  });

  it("hands convs with Inf or NaN outputs back", () => {
    const c: Case = { N: 1, C: 3, K: 4, H: 12, W: 12, pad: [1, 1, 1, 1], bias: true, seed: 5 };
    const g = geometry(c);
    for (const bad of [Number.POSITIVE_INFINITY, Number.NaN]) {
      const { x, w, b } = inputs(c);
      x[5 * 12 + 6] = bad;
      const out = new Float32Array(4 * 144);
      expect(withTile(4, () => conv2dWinograd(x, w, g, b, out, true), true)).toBe(false);
    }
  });

  it("is taken from 256 x 256 channels on, with F(4x4) whatever the image size", () => {
    const rule = (C: number, K: number, H: number) => {
      const g = geometry({ N: 1, C, K, H, W: H, pad: [1, 1, 1, 1], bias: false, seed: 1 });
      return winogradTile(g);
    };
    expect(rule(512, 512, 7)).toBe(4);
    expect(rule(256, 256, 14)).toBe(4);
    expect(rule(128, 128, 14)).toBe(2);
    const g = (C: number, K: number) =>
      geometry({ N: 1, C, K, H: 7, W: 7, pad: [1, 1, 1, 1], bias: false, seed: 1 });
    expect(winogradChunked(g(256, 256))).toBe(true);
    expect(winogradChunked(g(512, 128))).toBe(true);
    expect(winogradChunked(g(255, 256))).toBe(false);
    expect(
      winogradChunked(
        geometry({
          N: 1,
          C: 512,
          K: 512,
          H: 7,
          W: 7,
          pad: [0, 0, 0, 0],
          bias: false,
          seed: 1,
          r: 2,
        }),
      ),
    ).toBe(false);
  });
});

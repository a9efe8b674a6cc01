import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  avgPool2d,
  avgPool2dBackward,
  maxPool2d,
  maxPool2dBackward,
} from "../../src/kernels/cpu/pool2d.ts";
import { type PoolGeometry, poolGeometry } from "../../src/kernels/pool-geometry.ts";

type Flat = (number | null)[];

interface PoolCase {
  shape: [number, number, number, number];
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number, number, number];
  ceilMode: boolean;
  input: Flat;
  outShape: number[];
  avgInclude: { out: Flat; dy: Flat; dx: Flat };
  avgExclude: { out: Flat; dy: Flat; dx: Flat };
  max: { out: Flat; argmax: number[]; dy?: Flat; dx?: Flat };
}

// From scripts/fixtures/make_resize_fixtures.py (torch 1.13 max_pool2d / avg_pool2d; asymmetric
// padding emulated there with F.pad). NaN is stored as null.
const fx: { cases: PoolCase[] } = JSON.parse(
  readFileSync(new URL("../fixtures/resize/pool.json", import.meta.url), "utf8"),
);

const f32 = (a: Flat) => Float32Array.from(a, (v) => v ?? Number.NaN);

function expectClose(actual: ArrayLike<number>, expected: Flat, tol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    if (e === null) {
      expect(Number.isNaN(actual[i]), `${what}[${i}] should be NaN, got ${actual[i]}`).toBe(true);
    } else {
      expect(
        Math.abs(actual[i] - e),
        `${what}[${i}]: got ${actual[i]}, want ${e}`,
      ).toBeLessThanOrEqual(tol);
    }
  }
}

function geometry(c: PoolCase, countIncludePad: boolean): PoolGeometry {
  return poolGeometry(
    c.shape,
    { kernel: c.kernel, stride: c.stride, pad: c.pad, countIncludePad },
    c.ceilMode,
  );
}

const label = (c: PoolCase) =>
  `[${c.shape}] k=${c.kernel} s=${c.stride} pad=${c.pad}${c.ceilMode ? " ceil" : ""}`;

describe("PyTorch pooling fixtures", () => {
  for (const c of fx.cases) {
    it(`max_pool2d ${label(c)}`, () => {
      const g = geometry(c, true);
      expect([g.batch, g.channels, g.outHeight, g.outWidth]).toEqual(c.outShape);
      const { out, argmax } = maxPool2d(f32(c.input), g);
      // The max is one of the inputs: both are stored with the same 8 digits, so they parse to
      // the same float32.
      expectClose(
        out,
        Array.from(f32(c.max.out), (v) => (Number.isNaN(v) ? null : v)),
        0,
        "out",
      );
      expect(Array.from(argmax)).toEqual(c.max.argmax);
      if (c.max.dy && c.max.dx) {
        expectClose(maxPool2dBackward(f32(c.max.dy), argmax, g), c.max.dx, 1e-6, "dx");
      }
    });
    for (const include of [true, false]) {
      it(`avg_pool2d count_include_pad=${include} ${label(c)}`, () => {
        const g = geometry(c, include);
        const ref = include ? c.avgInclude : c.avgExclude;
        expectClose(avgPool2d(f32(c.input), g), ref.out, 1e-5, "out");
        expectClose(avgPool2dBackward(f32(ref.dy), g), ref.dx, 1e-5, "dx");
      });
    }
  }

  it("2x2 stride 2 windows (the unrolled path): NaN, -inf and ties follow PyTorch's rule", () => {
    // One [2, 10] plane, five windows: a NaN first; two NaNs (the later wins); all -inf (the
    // first pixel); all equal (the first); the maximum last. PyTorch: val > max || isnan(val).
    const N = Number.NaN;
    const I = Number.NEGATIVE_INFINITY;
    const x = Float32Array.from([N, 5, 1, N, I, I, 2, 2, 0, 1, 1, 3, N, 0, I, I, 2, 2, 3, 9]);
    const g = poolGeometry([1, 1, 2, 10], {
      kernel: [2, 2],
      stride: [2, 2],
      pad: [0, 0, 0, 0],
      countIncludePad: true,
    });
    const { out, argmax } = maxPool2d(x, g);
    expect(Array.from(out)).toEqual([N, N, I, 2, 9]);
    expect(Array.from(argmax)).toEqual([0, 12, 4, 6, 19]);
  });

  it("3x3 windows inside the input (unrolled rows, SIMD at stride 2): values, argmax, NaN, ties, -0 as PyTorch's rule", () => {
    // A plain loop over each window in row-major order with PyTorch's `val > max || isnan(val)`
    // from the first in-bounds pixel, on values drawn from a small set (ties) with NaN and -inf.
    const pick = [0, 1, 2, 2, Number.NaN, Number.NEGATIVE_INFINITY, -1, -0];
    let seed = 9;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return pick[seed % pick.length];
    };
    for (const [H, W, s, pad] of [
      [9, 11, 2, 1],
      [8, 8, 1, 0],
      [10, 7, 2, 0],
      [6, 13, 3, 1],
      // Stride 2 with several groups of 4 windows per row (the wasm SIMD pass) and tails.
      [17, 23, 2, 1],
      [16, 20, 2, 0],
      [12, 40, 2, 1],
      [112, 112, 2, 1],
    ]) {
      const x = Float32Array.from({ length: 2 * H * W }, next);
      const g = poolGeometry([1, 2, H, W], {
        kernel: [3, 3],
        stride: [s, s],
        pad: [pad, pad, pad, pad],
        countIncludePad: true,
      });
      const { out, argmax } = maxPool2d(x, g);
      let q = 0;
      for (let p = 0; p < 2; p++) {
        for (let oy = 0; oy < g.outHeight; oy++) {
          for (let ox = 0; ox < g.outWidth; ox++, q++) {
            let best = Number.NEGATIVE_INFINITY;
            let at = -1;
            for (let y = oy * s - pad; y < oy * s - pad + 3; y++) {
              for (let c = ox * s - pad; c < ox * s - pad + 3; c++) {
                if (y < 0 || y >= H || c < 0 || c >= W) continue;
                const v = x[p * H * W + y * W + c];
                if (at < 0 || v > best || Number.isNaN(v)) {
                  best = v;
                  at = y * W + c;
                }
              }
            }
            expect(Object.is(out[q], best)).toBe(true);
            expect(argmax[q]).toBe(at);
          }
        }
      }
    }
  });

  it("covers ties, NaN and ceil-mode windows past the padding", () => {
    expect(fx.cases.some((c) => c.max.out.includes(null))).toBe(true);
    expect(fx.cases.some((c) => c.ceilMode && c.pad.some((p) => p > 0))).toBe(true);
  });
});

// --- properties -------------------------------------------------------------------------------

/** Random valid geometries, including asymmetric padding and ceil mode. */
const geomArb: fc.Arbitrary<PoolGeometry> = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 2 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    extraH: fc.integer({ min: 0, max: 5 }),
    extraW: fc.integer({ min: 0, max: 5 }),
    pads: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    ceil: fc.boolean(),
    include: fc.boolean(),
  })
  .map((r) => {
    const pad = [
      r.pads[0] % (Math.floor(r.kh / 2) + 1),
      r.pads[1] % (Math.floor(r.kh / 2) + 1),
      r.pads[2] % (Math.floor(r.kw / 2) + 1),
      r.pads[3] % (Math.floor(r.kw / 2) + 1),
    ] as const;
    return poolGeometry(
      [r.n, r.c, r.kh + r.extraH, r.kw + r.extraW],
      { kernel: [r.kh, r.kw], stride: [r.sh, r.sw], pad, countIncludePad: r.include },
      r.ceil,
    );
  });

const sizes = (g: PoolGeometry) => ({
  nx: g.batch * g.channels * g.inHeight * g.inWidth,
  ny: g.batch * g.channels * g.outHeight * g.outWidth,
});

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe("pooling properties", () => {
  it("maxPool2dBackward equals central finite differences when maxima are unique", () => {
    fc.assert(
      fc.property(
        geomArb.chain((g) => {
          const { nx, ny } = sizes(g);
          return fc.tuple(
            fc.constant(g),
            // A permutation of 0..nx-1: values 1 apart, so a step of 0.25 never changes a winner.
            fc.shuffledSubarray(
              Array.from({ length: nx }, (_, i) => i),
              { minLength: nx, maxLength: nx },
            ),
            fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: ny, maxLength: ny }),
          );
        }),
        ([g, perm, dyArr]) => {
          const x = Float32Array.from(perm);
          const dy = Float32Array.from(dyArr);
          const { argmax } = maxPool2d(x, g);
          const dx = maxPool2dBackward(dy, argmax, g);
          const h = 0.25;
          for (let i = 0; i < x.length; i++) {
            const xp = x.slice();
            xp[i] += h;
            const xm = x.slice();
            xm[i] -= h;
            const fd = (dot(maxPool2d(xp, g).out, dy) - dot(maxPool2d(xm, g).out, dy)) / (2 * h);
            expect(Math.abs(dx[i] - fd)).toBeLessThan(1e-5);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("avgPool2dBackward is the adjoint of avgPool2d", () => {
    fc.assert(
      fc.property(
        geomArb.chain((g) => {
          const { nx, ny } = sizes(g);
          const v = (n: number) =>
            fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n, maxLength: n });
          return fc.tuple(fc.constant(g), v(nx), v(ny));
        }),
        ([g, xArr, dyArr]) => {
          const x = Float32Array.from(xArr);
          const dy = Float32Array.from(dyArr);
          const lhs = dot(avgPool2d(x, g), dy);
          const rhs = dot(x, avgPool2dBackward(dy, g));
          expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("avgPool2d of a constant image is that constant wherever padding is not counted", () => {
    fc.assert(
      fc.property(geomArb, (g) => {
        const { nx } = sizes(g);
        const out = avgPool2d(new Float32Array(nx).fill(3), { ...g, countIncludePad: false });
        for (const v of out) expect(v).toBeCloseTo(3, 5);
      }),
    );
  });
});

describe("argument checks", () => {
  const g = poolGeometry([1, 1, 4, 4], {
    kernel: [2, 2],
    stride: [2, 2],
    pad: [0, 0, 0, 0],
    countIncludePad: true,
  });
  it("rejects buffers whose length does not match the geometry", () => {
    expect(() => maxPool2d(new Float32Array(15), g)).toThrow(
      /maxPool2d: x has length 15, expected 16/,
    );
    expect(() => avgPool2d(new Float32Array(17), g)).toThrow(/avgPool2d: x has length 17/);
    expect(() => avgPool2dBackward(new Float32Array(3), g)).toThrow(/avgPool2dBackward: dy/);
    expect(() => maxPool2dBackward(new Float32Array(4), new Int32Array(3), g)).toThrow(
      /maxPool2dBackward: argmax has length 3, expected 4/,
    );
  });
});

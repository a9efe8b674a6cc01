import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyAxisMap } from "../../src/kernels/cpu/apply-axis-map.ts";
import {
  type AntialiasFilter,
  adaptiveAvgPoolMap,
  antialiasResizeMap,
  type BorderMode,
  bicubicMap,
  bilinearMap,
  correlationMap,
  gaussianBlurMap1d,
  gaussianKernel1d,
  nearestMap,
  opencvAnchor,
  transposeAxisMap,
} from "../../src/kernels/resample-maps.ts";
import type { AxisMap } from "../../src/kernels/sparse-map.ts";

// Fixtures come from scripts/fixtures/make_resize_fixtures.py (torch 1.13, Pillow 9.4,
// scipy 1.10, OpenCV 4.6).
function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/resize/${name}`, import.meta.url), "utf8"));
}

type Flat = (number | null)[];

function expectClose(actual: ArrayLike<number>, expected: Flat, tol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] ?? Number.NaN;
    const d = Math.abs(actual[i] - e);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  expect(
    worst,
    `${what}: worst |diff| at ${at}: got ${actual[at]}, want ${expected[at]}`,
  ).toBeLessThanOrEqual(tol);
}

/** Separable 2-D application: the H map (axis 0), then the W map (axis 1). */
function apply2d(img: ArrayLike<number>, h: number, w: number, mh: AxisMap, mw: AxisMap) {
  const a = applyAxisMap(Float32Array.from(img as number[]), [h, w], 0, mh);
  return applyAxisMap(a, [mh.outLength, w], 1, mw);
}

function rowSums(m: AxisMap): number[] {
  const s: number[] = [];
  for (let o = 0; o < m.outLength; o++) {
    let acc = 0;
    for (let j = m.rowStart[o]; j < m.rowStart[o + 1]; j++) acc += m.weights[j];
    s.push(acc);
  }
  return s;
}

/** CSR invariants: monotone rowStart, in-range, strictly ascending columns in every row. */
function expectWellFormed(m: AxisMap): void {
  expect(m.rowStart.length).toBe(m.outLength + 1);
  expect(m.rowStart[0]).toBe(0);
  expect(m.rowStart[m.outLength]).toBe(m.cols.length);
  expect(m.weights.length).toBe(m.cols.length);
  for (let o = 0; o < m.outLength; o++) {
    expect(m.rowStart[o + 1]).toBeGreaterThanOrEqual(m.rowStart[o]);
    for (let j = m.rowStart[o]; j < m.rowStart[o + 1]; j++) {
      expect(m.cols[j]).toBeGreaterThanOrEqual(0);
      expect(m.cols[j]).toBeLessThan(m.inLength);
      if (j > m.rowStart[o]) expect(m.cols[j]).toBeGreaterThan(m.cols[j - 1]);
    }
  }
}

function dense(m: AxisMap): number[][] {
  const a = Array.from({ length: m.outLength }, () => new Array<number>(m.inLength).fill(0));
  for (let o = 0; o < m.outLength; o++) {
    for (let j = m.rowStart[o]; j < m.rowStart[o + 1]; j++) a[o][m.cols[j]] += m.weights[j];
  }
  return a;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

interface InterpCase {
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  input: number[];
  nearest: number[];
  bilinear: number[];
  bilinear_ac: number[];
  bicubic: number[];
  bicubic_ac: number[];
  adaptive_avg: number[];
}

describe("PyTorch F.interpolate / adaptive_avg_pool2d fixtures", () => {
  const fx = fixture<{
    cases: InterpCase[];
    nearest1d: { in: number; out: number; src: number[] }[];
  }>("interp.json");
  const builders: [keyof InterpCase, (i: number, o: number) => AxisMap][] = [
    ["nearest", nearestMap],
    ["bilinear", (i, o) => bilinearMap(i, o, false)],
    ["bilinear_ac", (i, o) => bilinearMap(i, o, true)],
    ["bicubic", (i, o) => bicubicMap(i, o, false)],
    ["bicubic_ac", (i, o) => bicubicMap(i, o, true)],
    ["adaptive_avg", adaptiveAvgPoolMap],
  ];
  for (const c of fx.cases) {
    for (const [key, build] of builders) {
      it(`${key} ${c.inH}x${c.inW} -> ${c.outH}x${c.outW}`, () => {
        const out = apply2d(c.input, c.inH, c.inW, build(c.inH, c.outH), build(c.inW, c.outW));
        expectClose(out, c[key] as number[], 1e-5, key);
      });
    }
  }
  it("nearest source indices match torch where in/out is inexact in float32", () => {
    for (const c of fx.nearest1d) {
      const m = nearestMap(c.in, c.out);
      expect(Array.from(m.cols), `${c.in} -> ${c.out}`).toEqual(c.src);
      expect(Array.from(m.weights)).toEqual(new Array(c.out).fill(1));
    }
  });
});

interface PilCase {
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  inputF: number[];
  inputL: number[];
  [key: string]: number | number[];
}

describe("PIL Image.resize fixtures", () => {
  const fx = fixture<{ cases: PilCase[] }>("pil.json");
  const filters: AntialiasFilter[] = ["bicubic", "bilinear", "box", "lanczos", "hamming"];
  for (const c of fx.cases) {
    for (const f of filters) {
      const mh = () => antialiasResizeMap(c.inH, c.outH, f);
      const mw = () => antialiasResizeMap(c.inW, c.outW, f);
      it(`${f} "F" ${c.inH}x${c.inW} -> ${c.outH}x${c.outW} (float, 1e-5)`, () => {
        expectClose(apply2d(c.inputF, c.inH, c.inW, mh(), mw()), c[`${f}F`] as number[], 1e-5, f);
      });
      it(`${f} "L" ${c.inH}x${c.inW} -> ${c.outH}x${c.outW} (uint8, within 1 level)`, () => {
        // PIL rounds to uint8 (with fixed-point weights) after each pass; we round once.
        const out = apply2d(c.inputL, c.inH, c.inW, mh(), mw()).map((v) =>
          Math.min(255, Math.max(0, Math.round(v))),
        );
        expectClose(out, c[`${f}L`] as number[], 1, f);
      });
    }
  }
});

const SCIPY_MODE: Record<string, BorderMode> = {
  constant: "zero",
  mirror: "reflect101",
  reflect: "reflect",
  nearest: "replicate",
};

describe("blur fixtures (scipy, OpenCV)", () => {
  const fx = fixture<{
    gaussian: {
      h: number;
      w: number;
      sigma: number;
      mode: string;
      input: number[];
      out: number[];
    }[];
    correlate: {
      taps: number[];
      anchor: number;
      border: BorderMode;
      input: number[];
      out: number[];
    }[];
    lam: {
      l: number;
      sigma: number;
      h: number;
      w: number;
      kernel2d: number[];
      input: number[];
      filter2d: number[];
      filter2dAnchorAtZero?: number[];
      anchorAtZero?: number;
    }[];
  }>("blur.json");

  for (const c of fx.gaussian) {
    it(`scipy gaussian_filter sigma=${c.sigma} mode=${c.mode} on ${c.h}x${c.w}`, () => {
      const border = SCIPY_MODE[c.mode];
      const mh = gaussianBlurMap1d(c.h, c.sigma, { border });
      const mw = gaussianBlurMap1d(c.w, c.sigma, { border });
      expectClose(apply2d(c.input, c.h, c.w, mh, mw), c.out, 1e-5, "gaussian_filter");
    });
  }

  it("correlation with taps longer than the axis matches OpenCV copyMakeBorder + correlate", () => {
    for (const c of fx.correlate) {
      const m = correlationMap(c.input.length, c.taps, c.anchor, c.border);
      expectWellFormed(m);
      const out = applyAxisMap(Float32Array.from(c.input), [c.input.length], 0, m);
      expectClose(out, c.out, 1e-5, `${c.border} anchor ${c.anchor}`);
    }
  });

  for (const c of fx.lam) {
    it(`LAM kernel l=${c.l} sigma=${c.sigma}: outer product and cv2.filter2D`, () => {
      const k = gaussianKernel1d(c.sigma, c.l);
      const outer: number[] = [];
      for (let i = 0; i < c.l; i++) for (let j = 0; j < c.l; j++) outer.push(k[i] * k[j]);
      expectClose(outer, c.kernel2d, 1e-8, "kernel2d");
      const m = correlationMap(c.h, k, opencvAnchor(c.l), "reflect101");
      const mw = correlationMap(c.w, k, opencvAnchor(c.l), "reflect101");
      expectClose(apply2d(c.input, c.h, c.w, m, mw), c.filter2d, 1e-5, "filter2D");
    });
  }

  it("even LAM kernels: cv2's default anchor is l // 2, one past coordinate 0", () => {
    const even = fx.lam.filter((c) => c.l % 2 === 0);
    expect(even.length).toBeGreaterThan(0);
    for (const c of even) {
      const k = gaussianKernel1d(c.sigma, c.l);
      const at0 = c.anchorAtZero!;
      expect(at0).toBe(opencvAnchor(c.l) - 1);
      const run = (anchor: number) =>
        apply2d(
          c.input,
          c.h,
          c.w,
          correlationMap(c.h, k, anchor, "reflect101"),
          correlationMap(c.w, k, anchor, "reflect101"),
        );
      expectClose(run(at0), c.filter2dAnchorAtZero!, 1e-5, "anchor at coordinate 0");
      // The default-anchor result (what LAM uses) is a different image.
      const diff = run(at0).reduce((m, v, i) => Math.max(m, Math.abs(v - c.filter2d[i])), 0);
      expect(diff).toBeGreaterThan(1e-3);
    }
  });
});

// --- properties -------------------------------------------------------------------------------

const len = fc.integer({ min: 1, max: 40 });
const filterArb = fc.constantFrom<AntialiasFilter>(
  "bicubic",
  "bilinear",
  "box",
  "lanczos",
  "hamming",
);
const borderArb = fc.constantFrom<BorderMode>("reflect101", "reflect", "replicate", "zero");

/** Any map the builders produce, for structural and adjoint properties. */
const anyMap: fc.Arbitrary<AxisMap> = fc.oneof(
  fc.tuple(len, len).map(([a, b]) => nearestMap(a, b)),
  fc.tuple(len, len, fc.boolean()).map(([a, b, ac]) => bilinearMap(a, b, ac)),
  fc.tuple(len, len, fc.boolean()).map(([a, b, ac]) => bicubicMap(a, b, ac)),
  fc.tuple(len, len, filterArb).map(([a, b, f]) => antialiasResizeMap(a, b, f)),
  fc.tuple(len, len).map(([a, b]) => adaptiveAvgPoolMap(a, b)),
  fc
    .tuple(len, fc.double({ min: 0, max: 30, noNaN: true }), borderArb)
    .map(([n, s, border]) => gaussianBlurMap1d(n, s, { border })),
  fc
    .tuple(
      len,
      fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 1, maxLength: 90 }),
      borderArb,
    )
    .chain(([n, taps, border]) =>
      fc.integer({ min: 0, max: taps.length - 1 }).map((a) => correlationMap(n, taps, a, border)),
    ),
);

const vec = (n: number) =>
  fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n, maxLength: n });

describe("map properties", () => {
  it("every map is well-formed CSR with sorted unique columns", () => {
    fc.assert(
      fc.property(anyMap, (m) => expectWellFormed(m)),
      { numRuns: 300 },
    );
  });

  it("resize and adaptive-pool rows sum to 1", () => {
    const resize = fc.oneof(
      fc.tuple(len, len).map(([a, b]) => nearestMap(a, b)),
      fc.tuple(len, len, fc.boolean()).map(([a, b, ac]) => bilinearMap(a, b, ac)),
      fc.tuple(len, len, fc.boolean()).map(([a, b, ac]) => bicubicMap(a, b, ac)),
      fc.tuple(len, len, filterArb).map(([a, b, f]) => antialiasResizeMap(a, b, f)),
      fc.tuple(len, len).map(([a, b]) => adaptiveAvgPoolMap(a, b)),
    );
    fc.assert(
      fc.property(resize, (m) => {
        for (const s of rowSums(m)) expect(Math.abs(s - 1)).toBeLessThan(1e-5);
      }),
      { numRuns: 300 },
    );
  });

  it("blurs with a reflecting or replicating border keep every row sum at 1", () => {
    fc.assert(
      fc.property(
        len,
        fc.double({ min: 0, max: 60, noNaN: true }),
        fc.constantFrom<BorderMode>("reflect101", "reflect", "replicate"),
        (n, sigma, border) => {
          const m = gaussianBlurMap1d(n, sigma, { border });
          for (const s of rowSums(m)) expect(Math.abs(s - 1)).toBeLessThan(1e-5);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("zero-border blur rows sum to at most 1, and to 1 away from the edges", () => {
    fc.assert(
      fc.property(len, fc.double({ min: 0.1, max: 5, noNaN: true }), (n, sigma) => {
        const radius = Math.trunc(4 * sigma + 0.5);
        rowSums(gaussianBlurMap1d(n, sigma)).forEach((s, o) => {
          expect(s).toBeLessThanOrEqual(1 + 1e-6);
          if (o >= radius && o < n - radius) expect(Math.abs(s - 1)).toBeLessThan(1e-5);
        });
      }),
    );
  });

  it("correlationMap matches the definition with OpenCV's iterative border folding", () => {
    // borderInterpolate from OpenCV, written as its loop (not the closed form used in the map).
    const ref = (p: number, n: number, border: BorderMode): number => {
      if (border === "zero") return p >= 0 && p < n ? p : -1;
      if (border === "replicate") return Math.min(Math.max(p, 0), n - 1);
      if (n === 1) return 0;
      const delta = border === "reflect101" ? 1 : 0;
      while (p < 0 || p >= n) p = p < 0 ? -p - 1 + delta : n - 1 - (p - n) - delta;
      return p;
    };
    fc.assert(
      fc.property(
        len,
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 100 }),
        borderArb,
        fc.nat(),
        (n, taps, border, a) => {
          const anchor = a % taps.length;
          const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + 0.3));
          const got = applyAxisMap(x, [n], 0, correlationMap(n, taps, anchor, border));
          for (let o = 0; o < n; o++) {
            let want = 0;
            taps.forEach((t, i) => {
              const c = ref(o + i - anchor, n, border);
              if (c >= 0) want += t * x[c];
            });
            expect(Math.abs(got[o] - want)).toBeLessThan(1e-4);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("the transpose is the adjoint: <A x, y> = <x, A^T y>", () => {
    fc.assert(
      fc.property(
        anyMap.chain((m) => fc.tuple(fc.constant(m), vec(m.inLength), vec(m.outLength))),
        ([m, x, y]) => {
          const t = transposeAxisMap(m);
          expectWellFormed(t);
          expect([t.inLength, t.outLength]).toEqual([m.outLength, m.inLength]);
          const ax = applyAxisMap(Float32Array.from(x), [x.length], 0, m);
          const aty = applyAxisMap(Float32Array.from(y), [y.length], 0, t);
          const lhs = dot(ax, y);
          const rhs = dot(x, aty);
          const scale =
            1 + dot(Array.from(m.weights, Math.abs), new Array(m.weights.length).fill(1));
          expect(Math.abs(lhs - rhs)).toBeLessThan(1e-5 * scale);
          expect(dense(transposeAxisMap(t))).toEqual(dense(m));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("applyAxisMap along any axis of a 4-D tensor equals the dense matrix product", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        (shape, axis, outLen, cubic) => {
          const m = cubic
            ? bicubicMap(shape[axis], outLen)
            : adaptiveAvgPoolMap(shape[axis], outLen);
          const n = shape.reduce((a, b) => a * b, 1);
          const x = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.9));
          const got = applyAxisMap(x, shape, axis, m);
          const a = dense(m);
          const outShape = shape.slice();
          outShape[axis] = outLen;
          const strides = (s: number[]) =>
            s.map((_, i) => s.slice(i + 1).reduce((p, q) => p * q, 1));
          const si = strides(shape);
          const so = strides(outShape);
          expect(got.length).toBe(outShape.reduce((p, q) => p * q, 1));
          for (let f = 0; f < got.length; f++) {
            const idx = so.map((s, i) => Math.floor(f / s) % outShape[i]);
            let want = 0;
            for (let j = 0; j < shape[axis]; j++) {
              const src = idx.reduce((acc, v, i) => acc + (i === axis ? j : v) * si[i], 0);
              want += a[idx[axis]][j] * x[src];
            }
            expect(Math.abs(got[f] - want)).toBeLessThan(1e-5);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("exact cases and argument checks", () => {
  it("same-size resizes are the identity", () => {
    for (const m of [
      nearestMap(7, 7),
      bilinearMap(7, 7),
      bilinearMap(7, 7, true),
      bicubicMap(7, 7),
      bicubicMap(7, 7, true),
      antialiasResizeMap(7, 7, "bicubic"),
      antialiasResizeMap(7, 7, "box"),
      adaptiveAvgPoolMap(7, 7),
      gaussianBlurMap1d(7, 0),
    ]) {
      expect(dense(m)).toEqual(dense(correlationMap(7, [1], 0, "zero")));
    }
    // sin(k pi) is not exactly 0 in floating point, so PIL's lanczos keeps ~1e-17 side weights.
    const lanczos = dense(antialiasResizeMap(7, 7, "lanczos"));
    lanczos.forEach((row, o) => {
      row.forEach((w, i) => {
        expect(Math.abs(w - (i === o ? 1 : 0))).toBeLessThan(1e-12);
      });
    });
  });

  it("LAM coordinates follow Python floor division (l = 4 peaks at index 1)", () => {
    const k = gaussianKernel1d(1, 4);
    expect(k[1]).toBeCloseTo(Math.max(...k), 15);
    expect(k[0]).toBeCloseTo(k[2], 15);
    expect(opencvAnchor(4)).toBe(2);
    expect(opencvAnchor(9)).toBe(4);
  });

  it("rejects bad arguments with a message naming the function and the value", () => {
    expect(() => nearestMap(0, 3)).toThrow(/nearestMap: inLen must be a positive integer, got 0/);
    expect(() => bilinearMap(3, 2.5)).toThrow(/bilinearMap: outLen .* got 2.5/);
    expect(() => bicubicMap(Number.NaN, 2)).toThrow(/bicubicMap: inLen/);
    expect(() => antialiasResizeMap(4, 2, "nearest" as AntialiasFilter)).toThrow(
      /antialiasResizeMap: filter must be one of .*got nearest/,
    );
    expect(() => gaussianKernel1d(-1, 3)).toThrow(/gaussianKernel1d: sigma .* got -1/);
    expect(() => gaussianBlurMap1d(5, Number.POSITIVE_INFINITY)).toThrow(
      /gaussianBlurMap1d: sigma/,
    );
    expect(() => correlationMap(5, [1, 2], 2, "zero")).toThrow(/correlationMap: anchor .* got 2/);
    expect(() => correlationMap(5, [], 0, "zero")).toThrow(/correlationMap: taps/);
    expect(() => correlationMap(5, [1], 0, "wrap" as BorderMode)).toThrow(/correlationMap: border/);
    expect(() => adaptiveAvgPoolMap(3, -1)).toThrow(/adaptiveAvgPoolMap: outLen/);
    expect(() => applyAxisMap(new Float32Array(6), [2, 3], 1, nearestMap(4, 2))).toThrow(
      /shape\[1\] = 3 but the map expects inLength 4/,
    );
    expect(() => applyAxisMap(new Float32Array(5), [2, 3], 1, nearestMap(3, 2))).toThrow(
      /data length 5/,
    );
  });
});

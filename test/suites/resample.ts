/**
 * Resampling and filtering: resize (nearest, bilinear and bicubic with align_corners false/true,
 * PIL antialiased bicubic/bilinear), upsample, LAM's Gaussian blur, scipy-style gaussianFilter,
 * depthwiseFilter2d with every border, and mapAxis with an arbitrary sparse map.
 *
 * The references implement the PyTorch / PIL / OpenCV / scipy formulas in float64 (see
 * test/reference/resample.ts). Tolerances: forward 2e-5 / 1e-4 (the engine builds its weights in
 * float32), backward 2e-5 / 1e-4; these ops are linear, so finite differences are exact.
 */
import * as s from "../../src/index.ts";
import { applyMatrixAlongAxis } from "../reference/layout.ts";
import { shapeStr } from "../reference/nd.ts";
import {
  type Border64,
  csrToDense,
  filter2dRef,
  gaussianFilterRef,
  lamBlurRef,
  lamKernel2dRef,
  type ResizeMode64,
  resizeRef,
} from "../reference/resample.ts";
import { Rng } from "../reference/rng.ts";
import { checkOp, property, type SuiteCase, seedArb, tol } from "./harness.ts";

const FWD = tol(2e-5, 1e-4);
const BWD = tol(2e-5, 1e-4);

const MODES: [ResizeMode64, boolean][] = [
  ["nearest", false],
  ["bilinear", false],
  ["bilinear", true],
  ["bicubic", false],
  ["bicubic", true],
  ["antialias-bicubic", false],
  ["antialias-bilinear", false],
];

function resizeCase(mode: ResizeMode64, alignCorners: boolean): SuiteCase {
  const name = `resize ${mode}${mode === "bilinear" || mode === "bicubic" ? ` alignCorners ${alignCorners}` : ""} (up and down, each axis 1..8): forward vs float64 formulas, backward`;
  return {
    name,
    run: (ctx) =>
      property(ctx, name, 15, seedArb, async (seed) => {
        const r = new Rng(seed);
        const shape = [r.int(1, 2), r.int(1, 2), r.int(1, 8), r.int(1, 8)];
        const [oh, ow] = [r.int(1, 8), r.int(1, 8)];
        await checkOp(ctx, {
          op: `resize(${mode}${alignCorners ? ", alignCorners" : ""})`,
          desc: `x ${shapeStr(shape)} to [${oh},${ow}]`,
          inputs: [r.nd(shape, -2, 2)],
          engine: ([t]) => s.resize(t, [oh, ow], { mode, alignCorners }),
          reference: ([v]) => resizeRef(v, oh, ow, mode, alignCorners),
          fwd: FWD,
          bwd: BWD,
          seed,
        });
      }),
  };
}

const upsampleCase: SuiteCase = {
  name: "upsample by integer factors (nearest, bilinear): forward vs float64, backward",
  run: (ctx) =>
    property(ctx, "upsample", 10, seedArb, async (seed) => {
      const r = new Rng(seed);
      const shape = [1, r.int(1, 2), r.int(1, 5), r.int(1, 5)];
      const f = r.int(1, 4);
      for (const mode of ["nearest", "bilinear"] as const) {
        await checkOp(ctx, {
          op: `upsample(${mode})`,
          desc: `x ${shapeStr(shape)} factor ${f}`,
          inputs: [r.nd(shape, -2, 2)],
          engine: ([t]) => s.upsample(t, f, mode),
          reference: ([v]) => resizeRef(v, shape[2] * f, shape[3] * f, mode),
          fwd: FWD,
          bwd: BWD,
          seed,
        });
      }
    }),
};

const BORDERS: Border64[] = ["reflect101", "reflect", "replicate", "zero"];

const lamBlurCase: SuiteCase = {
  name: "lamGaussianBlur (odd and even sizes, kernels longer than the image, every border): forward vs 2-D float64 filter2D, backward; lamGaussianKernel2d values",
  run: (ctx) =>
    property(ctx, "lamGaussianBlur", 15, seedArb, async (seed) => {
      const r = new Rng(seed);
      const shape = [1, r.int(1, 2), r.int(1, 6), r.int(1, 6)];
      const sigma = r.uniform(0.3, 3);
      const size = r.int(1, 7);
      const border = r.pick(BORDERS);
      await checkOp(ctx, {
        op: "lamGaussianBlur",
        desc: `x ${shapeStr(shape)} sigma ${sigma} size ${size} border ${border}`,
        inputs: [r.nd(shape, -2, 2)],
        engine: ([t]) => s.lamGaussianBlur(t, sigma, size, border),
        reference: ([v]) => lamBlurRef(v, sigma, size, border),
        fwd: FWD,
        bwd: BWD,
        seed,
      });
      await checkOp(ctx, {
        op: "lamGaussianKernel2d",
        desc: `sigma ${sigma} size ${size}`,
        inputs: [],
        engine: () => s.lamGaussianKernel2d(sigma, size),
        reference: () => lamKernel2dRef(sigma, size),
        fwd: tol(1e-7, 1e-5),
      });
    }),
};

const gaussianFilterCase: SuiteCase = {
  name: "gaussianFilter (scipy radius rule, sigma 0 included, every border): forward vs float64, backward",
  run: (ctx) =>
    property(ctx, "gaussianFilter", 15, seedArb, async (seed) => {
      const r = new Rng(seed);
      const shape = [1, r.int(1, 2), r.int(1, 7), r.int(1, 7)];
      const sigma = r.bool(0.15) ? 0 : r.uniform(0.3, 2);
      const truncate = r.pick([4, r.uniform(0.5, 3)]);
      const border = r.pick(BORDERS);
      await checkOp(ctx, {
        op: "gaussianFilter",
        desc: `x ${shapeStr(shape)} sigma ${sigma} truncate ${truncate} border ${border}`,
        inputs: [r.nd(shape, -2, 2)],
        engine: ([t]) => s.gaussianFilter(t, sigma, { truncate, border }),
        reference: ([v]) => gaussianFilterRef(v, sigma, truncate, border),
        fwd: FWD,
        bwd: BWD,
        seed,
      });
    }),
};

const depthwiseFilterCase: SuiteCase = {
  name: "depthwiseFilter2d (kernel 1..4 incl. even, borders reflect101/replicate/zero): forward vs float64 filter2D, backward (x and kernel)",
  run: (ctx) =>
    property(ctx, "depthwiseFilter2d", 15, seedArb, async (seed) => {
      const r = new Rng(seed);
      const [kh, kw] = [r.int(1, 4), r.int(1, 4)];
      const shape = [r.int(1, 2), r.int(1, 3), r.int(kh, 6), r.int(kw, 6)];
      const border = r.pick(["reflect101", "replicate", "zero"] as const);
      await checkOp(ctx, {
        op: "depthwiseFilter2d",
        desc: `x ${shapeStr(shape)} kernel [${kh},${kw}] border ${border}`,
        inputs: [r.nd(shape, -2, 2), r.nd([kh, kw])],
        engine: ([t, k]) => s.depthwiseFilter2d(t, k, border),
        reference: ([v, k]) => filter2dRef(v, k, border),
        fwd: FWD,
        bwd: tol(5e-5, 1e-4),
        seed,
      });
    }),
};

const mapAxisCase: SuiteCase = {
  name: "mapAxis with a random sparse (CSR) map on a random axis: forward vs dense float64 matrix, backward",
  run: (ctx) =>
    property(ctx, "mapAxis", 15, seedArb, async (seed) => {
      const r = new Rng(seed);
      const rank = r.int(1, 4);
      const shape = Array.from({ length: rank }, () => r.int(1, 4));
      const axis = r.int(0, rank - 1);
      const inLength = shape[axis];
      const outLength = r.int(1, 5);
      const rowStart = [0];
      const cols: number[] = [];
      const weights: number[] = [];
      for (let o = 0; o < outLength; o++) {
        const picked = r
          .perm(inLength)
          .slice(0, r.int(0, inLength))
          .sort((a, b) => a - b);
        for (const c of picked) {
          cols.push(c);
          weights.push(r.uniform(-1, 1));
        }
        rowStart.push(cols.length);
      }
      const map = {
        inLength,
        outLength,
        rowStart: Int32Array.from(rowStart),
        cols: Int32Array.from(cols),
        weights: Float32Array.from(weights),
      };
      const dense = csrToDense(inLength, outLength, rowStart, cols, weights);
      const written = r.bool() ? axis - rank : axis;
      await checkOp(ctx, {
        op: "mapAxis",
        desc: `x ${shapeStr(shape)} axis ${written} map ${inLength} -> ${outLength} (${cols.length} weights)`,
        inputs: [r.nd(shape, -2, 2)],
        engine: ([t]) => s.mapAxis(t, written, map),
        reference: ([v]) => applyMatrixAlongAxis(v, axis, dense),
        fwd: FWD,
        bwd: BWD,
        seed,
      });
    }),
};

export const resampleCases: SuiteCase[] = [
  ...MODES.map(([m, ac]) => resizeCase(m, ac)),
  upsampleCase,
  lamBlurCase,
  gaussianFilterCase,
  depthwiseFilterCase,
  mapAxisCase,
];

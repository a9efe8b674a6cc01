/**
 * 3-D convolution, 3-D transposed convolution and N-D (1-D to 3-D, dilated) pooling: forward
 * against the float64 loops of test/reference/nd-conv-pool.ts, backward (every input) against
 * central finite differences of those loops.
 *
 * Tolerances: convolutions forward 2e-5 / 1e-4, backward 5e-5 / 1e-4 (sums of up to ~100
 * products); pooling forward 1e-6 / 1e-5, backward 1e-5 / 1e-5 (max pooling's taps are distinct
 * random values, so no ties sit within the finite-difference step).
 */
import * as s from "../../src/index.ts";
import { conv3d, conv3dTransposeFull } from "../../src/ops/conv3d.ts";
import { avgPoolNd, maxPoolNd } from "../../src/ops/pool-nd.ts";
import type { Nd } from "../reference/nd.ts";
import { conv3dRef, conv3dTransposeRef, poolNdRef } from "../reference/nd-conv-pool.ts";
import { Rng } from "../reference/rng.ts";
import { checkOp, describeInputs, property, type SuiteCase, seedArb, tol } from "./harness.ts";

const CONV_FWD = tol(2e-5, 1e-4);
const CONV_BWD = tol(5e-5, 1e-4);

const triple = (f: () => number) => [f(), f(), f()];

const conv3dCase: SuiteCase = {
  name: "conv3d (stride, dilation, asymmetric pads, groups, bias): forward vs float64, backward (x, w, b)",
  run: (ctx) =>
    property(ctx, "conv3d", 12, seedArb, async (seed) => {
      const r = new Rng(seed);
      const groups = r.pick([1, 1, 2]);
      const [cin, cout] = [groups * r.int(1, 2), groups * r.int(1, 2)];
      const kernel = triple(() => r.int(1, 2));
      const stride = triple(() => r.int(1, 2));
      const dilation = triple(() => r.int(1, 2));
      const pads = triple(() => 0).map((): [number, number] => [r.int(0, 1), r.int(0, 1)]);
      const size = kernel.map((k, i) => dilation[i] * (k - 1) + 1 + r.int(0, 2));
      const x = r.nd([r.int(1, 2), cin, ...size]);
      const w = r.nd([cout, cin / groups, ...kernel]);
      const b = r.bool() ? r.nd([cout]) : null;
      const p = { stride, dilation, pads, groups };
      await checkOp(ctx, {
        op: "conv3d",
        desc: `${describeInputs(b ? [x, w, b] : [x, w], ["x", "w", "b"])} ${JSON.stringify(p)}`,
        inputs: b ? [x, w, b] : [x, w],
        engine: ([xt, wt, bt]) => conv3d(xt, wt, { ...p, bias: bt ?? null }),
        reference: ([xr, wr, br]) => conv3dRef(xr, wr, br ?? null, p),
        fwd: CONV_FWD,
        bwd: CONV_BWD,
        seed,
      });
    }),
};

const conv3dTransposeCase: SuiteCase = {
  name: "conv3dTransposeFull (stride, dilation, groups, bias): forward vs float64 scatter, backward (x, w, b)",
  run: (ctx) =>
    property(ctx, "conv3dTranspose", 12, seedArb, async (seed) => {
      const r = new Rng(seed);
      const groups = r.pick([1, 1, 2]);
      const [cin, coutG] = [groups * r.int(1, 2), r.int(1, 2)];
      const kernel = triple(() => r.int(1, 3));
      const stride = triple(() => r.int(1, 3));
      const dilation = triple(() => r.int(1, 2));
      const x = r.nd([r.int(1, 2), cin, ...triple(() => r.int(1, 3))]);
      const w = r.nd([cin, coutG, ...kernel]);
      const b = r.bool() ? r.nd([coutG * groups]) : null;
      const p = { stride, dilation, groups };
      const refParams = {
        ...p,
        pads: [0, 0, 0].map((): [number, number] => [0, 0]),
        outputPadding: [0, 0, 0],
      };
      await checkOp(ctx, {
        op: "conv3dTransposeFull",
        desc: `${describeInputs(b ? [x, w, b] : [x, w], ["x", "w", "b"])} ${JSON.stringify(p)}`,
        inputs: b ? [x, w, b] : [x, w],
        engine: ([xt, wt, bt]) => conv3dTransposeFull(xt, wt, { ...p, bias: bt ?? null }),
        reference: ([xr, wr, br]) => conv3dTransposeRef(xr, wr, br ?? null, refParams),
        fwd: CONV_FWD,
        bwd: CONV_BWD,
        seed,
      });
    }),
};

/** Distinct values (a shuffled grid with jitter) so max pooling has no near-ties. */
function distinct(r: Rng, shape: number[]): Nd {
  const x = r.nd(shape);
  const n = x.data.length;
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(0, i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (let i = 0; i < n; i++) x.data[order[i]] = Math.fround(-1 + (2 * (i + 0.5)) / n);
  return x;
}

function poolCase(kind: "max" | "avg"): SuiteCase {
  const name = kind === "max" ? "maxPoolNd" : "avgPoolNd";
  return {
    name: `${name} (1-D to 3-D, dilation, asymmetric pads, ceil mode${kind === "avg" ? ", count_include_pad" : ""}): forward vs float64, backward`,
    run: (ctx) =>
      property(ctx, name, 20, seedArb, async (seed) => {
        const r = new Rng(seed);
        const n = r.int(1, 3);
        const axes = Array.from({ length: n }, (_, i) => i);
        const kernel = axes.map(() => r.int(1, 3));
        const stride = axes.map(() => r.int(1, 2));
        const dilation = axes.map(() => r.int(1, 3));
        // Pads below the window so every window holds an input cell.
        const pads = kernel.map((k): [number, number] => [
          r.int(0, Math.floor((k - 1) / 2)),
          r.int(0, Math.floor((k - 1) / 2)),
        ]);
        const size = kernel.map((k, i) => dilation[i] * (k - 1) + 1 + r.int(0, 3));
        const x = distinct(r, [r.int(1, 2), r.int(1, 2), ...size]);
        const p = {
          kind,
          kernel,
          stride,
          dilation,
          pads,
          ceilMode: r.bool(),
          countIncludePad: kind === "avg" && r.bool(),
        };
        const engine = kind === "max" ? maxPoolNd : avgPoolNd;
        await checkOp(ctx, {
          op: name,
          desc: `${describeInputs([x], ["x"])} ${JSON.stringify(p)}`,
          inputs: [x],
          engine: ([xt]) => engine(xt, p),
          reference: ([xr]) => poolNdRef(xr, p),
          fwd: tol(1e-6, 1e-5),
          bwd: tol(1e-5, 1e-5),
          h: kind === "max" ? 1e-4 : 1e-5,
          seed,
        });
      }),
  };
}

const poolErrorsCase: SuiteCase = {
  name: "N-D pooling and conv3d refuse bad options with what was expected",
  run: async (ctx) => {
    const x = s.withBackend(ctx.backend, () => s.zeros([1, 1, 4, 4, 4]));
    try {
      const expect = (f: () => unknown, fragment: string) => {
        try {
          f();
        } catch (e) {
          if (!(e as Error).message.includes(fragment))
            throw new Error(`expected "${fragment}" in "${(e as Error).message}"`);
          return;
        }
        throw new Error(`expected an error mentioning "${fragment}"`);
      };
      s.withBackend(ctx.backend, () => {
        expect(() => maxPoolNd(x, { kernel: [2, 2] }), "kernel [2,2] must be 3 integers >= 1");
        expect(
          () => avgPoolNd(x, { kernel: [5, 1, 1] }),
          "window 5 (kernel 5, dilation 1) is larger than padded axis 0 (4)",
        );
        expect(
          () => conv3d(x, s.zeros([1, 2, 1, 1, 1])),
          "has 1 channels but w [1,2,1,1,1] expects 2",
        );
        expect(
          () => conv3d(x, s.zeros([1, 1, 1, 1, 1]), { stride: [1, 1] }),
          "stride [1,1] must have 3 entries",
        );
      });
    } finally {
      x.dispose();
    }
  },
};

export const ndOpCases: SuiteCase[] = [
  conv3dCase,
  conv3dTransposeCase,
  poolCase("max"),
  poolCase("avg"),
  poolErrorsCase,
];

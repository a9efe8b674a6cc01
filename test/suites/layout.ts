/**
 * Data-movement ops: reshape and its relatives, transpose, strided slices with negative steps,
 * reverse, split, pad (constant / reflect / replicate), concat, stack, gather and scatterAdd with
 * repeated indices, cast, pixel shuffle / unshuffle in both channel orders.
 *
 * Every forward is exact (tolerance 0: these ops only move float32 values); backward 1e-5 / 1e-5
 * (scatter-adds of repeated indices and reflected borders add a few float32 values).
 */
import fc from "fast-check";
import * as s from "../../src/index.ts";
import {
  concatRef,
  gatherRef,
  interleaveRef,
  padRef,
  pixelShuffleRef,
  pixelUnshuffleRef,
  scatterAddRef,
  sliceRef,
  transposeRef,
} from "../reference/layout.ts";
import { type Nd, shapeStr, sizeOf } from "../reference/nd.ts";
import { Rng } from "../reference/rng.ts";
import {
  checkOp,
  describeInputs,
  intTensor,
  property,
  type SuiteCase,
  type SuiteContext,
  seedArb,
  shapeArb,
  tol,
} from "./harness.ts";

const EXACT = tol(0);
const BWD = tol(1e-5, 1e-5);

/** A case whose spec is drawn from (shape, seed). */
function layoutCase(
  name: string,
  runs: number,
  shapes: fc.Arbitrary<number[]>,
  body: (ctx: SuiteContext, shape: number[], r: Rng, seed: number) => Promise<void>,
): SuiteCase {
  return {
    name,
    run: (ctx) =>
      property(ctx, name, runs, fc.tuple(shapes, seedArb), ([shape, seed]) =>
        body(ctx, shape, new Rng(seed), seed),
      ),
  };
}

const withShape = (x: Nd, shape: number[]): Nd => ({ shape, data: x.data });

/** A random shape with the same number of elements: permuted, merged and split dims, 1s. */
function reshapeTarget(shape: number[], r: Rng): number[] {
  const dims = r.perm(shape.length).map((i) => shape[i]);
  const out: number[] = [];
  for (const d of dims) {
    if (out.length > 0 && r.bool(0.3)) out[out.length - 1] *= d;
    else out.push(d);
    if (r.bool(0.2)) out.push(1);
  }
  return out;
}

const reshapeCases: SuiteCase[] = [
  layoutCase(
    "reshape (with -1, merged / split / unit dims): forward vs float64, backward",
    15,
    shapeArb(0, 4, 1, 4),
    async (ctx, shape, r, seed) => {
      const target = reshapeTarget(shape, r);
      const spec = [...target];
      if (spec.length > 0 && sizeOf(shape) > 0 && r.bool()) spec[r.int(0, spec.length - 1)] = -1;
      await checkOp(ctx, {
        op: "reshape",
        desc: `x ${shapeStr(shape)} to [${spec}]`,
        inputs: [r.nd(shape)],
        engine: ([t]) => s.reshape(t, spec),
        reference: ([v]) => withShape(v, target),
        fwd: EXACT,
        bwd: BWD,
        seed,
      });
    },
  ),
  layoutCase(
    "flatten / squeeze / expandDims: forward vs float64, backward",
    10,
    shapeArb(1, 4, 1, 3),
    async (ctx, shape, r, seed) => {
      const rank = shape.length;
      const a = r.int(0, rank - 1);
      const b = r.int(a, rank - 1);
      const flat = [...shape.slice(0, a), sizeOf(shape.slice(a, b + 1)), ...shape.slice(b + 1)];
      const x = r.nd(shape);
      await checkOp(ctx, {
        op: "flatten",
        desc: `x ${shapeStr(shape)} start ${a} end ${b - rank}`,
        inputs: [x],
        engine: ([t]) => s.flatten(t, a, b - rank),
        reference: ([v]) => withShape(v, flat),
        fwd: EXACT,
        bwd: BWD,
        seed,
      });
      const ax = r.int(-rank - 1, rank);
      const pos = ax < 0 ? ax + rank + 1 : ax;
      await checkOp(ctx, {
        op: "expandDims",
        desc: `x ${shapeStr(shape)} axis ${ax}`,
        inputs: [x],
        engine: ([t]) => s.expandDims(t, ax),
        reference: ([v]) => withShape(v, [...shape.slice(0, pos), 1, ...shape.slice(pos)]),
        fwd: EXACT,
        bwd: BWD,
        seed,
      });
      const ones = shape.flatMap((d, i) => (d === 1 ? [i] : []));
      const which = r.bool() ? undefined : ones.filter(() => r.bool());
      const drop = which ?? ones;
      await checkOp(ctx, {
        op: "squeeze",
        desc: `x ${shapeStr(shape)} axes ${JSON.stringify(which)}`,
        inputs: [x],
        engine: ([t]) => s.squeeze(t, which),
        reference: ([v]) =>
          withShape(
            v,
            shape.filter((_, i) => !drop.includes(i)),
          ),
        fwd: EXACT,
        bwd: BWD,
        seed,
      });
    },
  ),
];

const transposeCase = layoutCase(
  "transpose / permute (random permutation, some axes negative): forward vs float64, backward",
  15,
  shapeArb(0, 5, 1, 4),
  async (ctx, shape, r, seed) => {
    const perm = r.perm(shape.length);
    const written = perm.map((p) => (r.bool(0.3) ? p - shape.length : p));
    await checkOp(ctx, {
      op: "transpose",
      desc: `x ${shapeStr(shape)} perm [${written}]`,
      inputs: [r.nd(shape)],
      engine: ([t]) => s.transpose(t, written),
      reference: ([v]) => transposeRef(v, perm),
      fwd: EXACT,
      bwd: BWD,
      seed,
    });
  },
);

const sliceCase = layoutCase(
  "slice (negative begin, size -1, strides incl. negative steps, missing axes): forward vs float64, backward",
  25,
  shapeArb(1, 4, 1, 6),
  async (ctx, shape, r, seed) => {
    const given = r.int(0, shape.length);
    const begin: number[] = [];
    const size: number[] = [];
    const step: number[] = [];
    for (let ax = 0; ax < given; ax++) {
      const n = shape[ax];
      const k = r.pick([1, 1, 2, 3, -1, -2, -3]);
      const from = r.int(0, n - 1);
      const reach = k > 0 ? Math.ceil((n - from) / k) : Math.floor(from / -k) + 1;
      begin.push(r.bool(0.3) ? from - n : from);
      size.push(r.bool(0.3) ? -1 : r.int(0, reach));
      step.push(k);
    }
    await checkOp(ctx, {
      op: "slice",
      desc: `x ${shapeStr(shape)} begin [${begin}] size [${size}] step [${step}]`,
      inputs: [r.nd(shape)],
      engine: ([t]) => s.slice(t, begin, size, step),
      reference: ([v]) => sliceRef(v, begin, size, step),
      fwd: EXACT,
      bwd: BWD,
      seed,
    });
  },
);

const reverseSplitCase = layoutCase(
  "reverse and split: forward vs float64, backward",
  12,
  shapeArb(1, 4, 1, 5),
  async (ctx, shape, r, seed) => {
    const axes = shape.map((_, i) => i).filter(() => r.bool());
    await checkOp(ctx, {
      op: "reverse",
      desc: `x ${shapeStr(shape)} axes [${axes}]`,
      inputs: [r.nd(shape)],
      engine: ([t]) => s.reverse(t, axes),
      reference: ([v]) =>
        sliceRef(
          v,
          v.shape.map((d, i) => (axes.includes(i) ? d - 1 : 0)),
          undefined,
          v.shape.map((_, i) => (axes.includes(i) ? -1 : 1)),
        ),
      fwd: EXACT,
      bwd: BWD,
      seed,
    });
    const axis = r.int(0, shape.length - 1);
    const n = shape[axis];
    const sizes: number[] = [];
    for (let left = n; left > 0; ) {
      const d = r.int(1, left);
      sizes.push(d);
      left -= d;
    }
    if (r.bool(0.3)) sizes.push(0);
    for (let piece = 0; piece < sizes.length; piece++) {
      const start = sizes.slice(0, piece).reduce((a, b) => a + b, 0);
      await checkOp(ctx, {
        op: "split",
        desc: `x ${shapeStr(shape)} sizes [${sizes}] axis ${axis}, piece ${piece}`,
        inputs: [r.nd(shape)],
        engine: ([t]) => s.split(t, sizes, axis)[piece],
        reference: ([v]) =>
          sliceRef(
            v,
            v.shape.map((_, i) => (i === axis ? start : 0)),
            v.shape.map((d, i) => (i === axis ? sizes[piece] : d)),
          ),
        fwd: EXACT,
        bwd: BWD,
        seed,
      });
    }
  },
);

const padCase = layoutCase(
  "pad constant (any value) / reflect / replicate on random axes: forward vs float64, backward",
  25,
  shapeArb(1, 4, 1, 5),
  async (ctx, shape, r, seed) => {
    const mode = r.pick(["constant", "reflect", "replicate"] as const);
    // Fewer entries than axes pad only the leading axes.
    const given = r.int(1, shape.length);
    const pads = shape.slice(0, given).map((n) => {
      const most = mode === "reflect" ? n - 1 : 3;
      return [r.int(0, most), r.int(0, most)] as [number, number];
    });
    const value = mode === "constant" ? r.pick([0, r.uniform(-2, 2)]) : 0;
    await checkOp(ctx, {
      op: "pad",
      desc: `x ${shapeStr(shape)} pads ${JSON.stringify(pads)} mode ${mode} value ${value}`,
      inputs: [r.nd(shape)],
      engine: ([t]) => s.pad(t, pads, mode, value),
      reference: ([v]) => padRef(v, pads, mode, value),
      fwd: EXACT,
      bwd: BWD,
      seed,
    });
  },
);

const pad2dCase = layoutCase(
  "pad2d [top, bottom, left, right] on NCHW in every mode: forward vs float64, backward",
  10,
  fc.tuple(
    fc.integer({ min: 1, max: 2 }),
    fc.integer({ min: 1, max: 2 }),
    fc.integer({ min: 1, max: 5 }),
    fc.integer({ min: 1, max: 5 }),
  ),
  async (ctx, shape, r, seed) => {
    const [, , h, w] = shape;
    for (const mode of ["constant", "reflect", "replicate"] as const) {
      const mh = mode === "reflect" ? h - 1 : 3;
      const mw = mode === "reflect" ? w - 1 : 3;
      const p = [r.int(0, mh), r.int(0, mh), r.int(0, mw), r.int(0, mw)] as const;
      await checkOp(ctx, {
        op: "pad2d",
        desc: `x ${shapeStr(shape)} pads [${p}] mode ${mode}`,
        inputs: [r.nd(shape)],
        engine: ([t]) => s.pad2d(t, p, mode),
        reference: ([v]) =>
          padRef(
            v,
            [
              [0, 0],
              [0, 0],
              [p[0], p[1]],
              [p[2], p[3]],
            ],
            mode,
          ),
        fwd: EXACT,
        bwd: BWD,
        seed,
      });
    }
  },
);

const concatCase = layoutCase(
  "concat (1-4 pieces, any axis incl. negative) and stack: forward vs float64, backward for every piece",
  15,
  shapeArb(1, 4, 1, 4),
  async (ctx, shape, r, seed) => {
    const axis = r.int(0, shape.length - 1);
    const k = r.int(1, 4);
    const pieces = Array.from({ length: k }, () => {
      const sh = [...shape];
      sh[axis] = r.int(1, 3);
      return r.nd(sh);
    });
    const written = r.bool() ? axis - shape.length : axis;
    await checkOp(ctx, {
      op: "concat",
      desc: `${describeInputs(pieces)} axis ${written}`,
      inputs: pieces,
      engine: (ts) => s.concat(ts, written),
      reference: (vs) => concatRef(vs, axis),
      fwd: EXACT,
      bwd: BWD,
      seed,
    });
    const same = Array.from({ length: k }, () => r.nd(shape));
    const sAxis = r.int(0, shape.length);
    const expanded = (v: Nd) => withShape(v, [...shape.slice(0, sAxis), 1, ...shape.slice(sAxis)]);
    await checkOp(ctx, {
      op: "stack",
      desc: `${describeInputs(same)} axis ${sAxis}`,
      inputs: same,
      engine: (ts) => s.stack(ts, sAxis),
      reference: (vs) => concatRef(vs.map(expanded), sAxis),
      fwd: EXACT,
      bwd: BWD,
      seed,
    });
  },
);

const gatherCase = layoutCase(
  "gather and scatterAdd with repeated indices (array or int32 tensor): forward vs float64, backward",
  15,
  shapeArb(1, 4, 1, 4),
  async (ctx, shape, r, seed) => {
    const axis = r.int(0, shape.length - 1);
    const n = shape[axis];
    const m = r.int(1, 6);
    const idx = Array.from({ length: m }, () => r.int(0, n - 1));
    if (m > 1) idx[m - 1] = idx[0]; // at least one repeat
    const asTensor = r.bool();
    const index = () => (asTensor ? intTensor(idx) : idx);
    await checkOp(ctx, {
      op: "gather",
      desc: `x ${shapeStr(shape)} indices [${idx}] axis ${axis}`,
      inputs: [r.nd(shape)],
      engine: ([t]) => s.gather(t, index(), axis),
      reference: ([v]) => gatherRef(v, idx, axis),
      fwd: EXACT,
      bwd: BWD,
      seed,
    });
    const upd = [...shape];
    upd[axis] = m;
    await checkOp(ctx, {
      op: "scatterAdd",
      desc: `updates ${shapeStr(upd)} indices [${idx}] axis ${axis} length ${n}`,
      inputs: [r.nd(upd, -2, 2)],
      engine: ([t]) => s.scatterAdd(t, index(), axis, n),
      reference: ([v]) => scatterAddRef(v, idx, axis, n),
      fwd: tol(1e-6, 1e-6),
      bwd: BWD,
      seed,
    });
  },
);

const castCase = layoutCase(
  "cast float32 -> int32 (truncation toward zero) -> float32: forward vs float64",
  10,
  shapeArb(0, 3, 1, 5),
  async (ctx, shape, r) => {
    const x = r.nd(shape, -5, 5);
    const trunc = (v: Nd): Nd => ({ shape: v.shape, data: v.data.map(Math.trunc) });
    await checkOp(ctx, {
      op: "cast to int32",
      desc: `x ${shapeStr(shape)}`,
      inputs: [x],
      engine: ([t]) => s.cast(t, "int32"),
      reference: ([v]) => trunc(v),
      fwd: EXACT,
      dtype: "int32",
    });
    await checkOp(ctx, {
      op: "cast to int32 and back",
      desc: `x ${shapeStr(shape)}`,
      inputs: [x],
      engine: ([t]) => s.cast(s.cast(t, "int32"), "float32"),
      reference: ([v]) => trunc(v),
      fwd: EXACT,
    });
  },
);

const shuffleArb = fc.tuple(
  fc.integer({ min: 1, max: 2 }),
  fc.integer({ min: 1, max: 3 }),
  fc.integer({ min: 1, max: 3 }),
  fc.integer({ min: 1, max: 3 }),
  fc.integer({ min: 1, max: 3 }),
);

const pixelShuffleCase: SuiteCase = {
  name: "pixelShuffle / pixelUnshuffle, orders torch (CRD) and tf (DCR): explicit index formulas, backward",
  run: (ctx) =>
    property(
      ctx,
      "pixelShuffle",
      12,
      fc.tuple(shuffleArb, seedArb),
      async ([[n, c, h, w, f], seed]) => {
        const r = new Rng(seed);
        for (const order of ["torch", "tf"] as const) {
          const deep = [n, c * f * f, h, w];
          await checkOp(ctx, {
            op: `pixelShuffle(${order})`,
            desc: `x ${shapeStr(deep)} factor ${f}`,
            inputs: [r.nd(deep)],
            engine: ([t]) => s.pixelShuffle(t, f, order),
            reference: ([v]) => pixelShuffleRef(v, f, order),
            fwd: EXACT,
            bwd: BWD,
            seed,
          });
          const wide = [n, c, h * f, w * f];
          await checkOp(ctx, {
            op: `pixelUnshuffle(${order})`,
            desc: `x ${shapeStr(wide)} factor ${f}`,
            inputs: [r.nd(wide)],
            engine: ([t]) => s.pixelUnshuffle(t, f, order),
            reference: ([v]) => pixelUnshuffleRef(v, f, order),
            fwd: EXACT,
            bwd: BWD,
            seed,
          });
        }
      },
    ),
};

const interleaveCase: SuiteCase = {
  name: "interleave: r*r phases into [N, C, H r, W r] (explicit index formula), backward (strided slices)",
  run: (ctx) =>
    property(
      ctx,
      "interleave",
      12,
      fc.tuple(shuffleArb, seedArb),
      async ([[n, c, h, w, f], seed]) => {
        const r = new Rng(seed);
        const phases = Array.from({ length: f * f }, () => r.nd([n, c, h, w]));
        await checkOp(ctx, {
          op: "interleave",
          desc: `${f * f} phases ${shapeStr([n, c, h, w])} factor ${f}`,
          inputs: phases,
          engine: (ts) => s.interleave(ts, f),
          reference: (vs) => interleaveRef(vs, f),
          fwd: EXACT,
          bwd: BWD,
          seed,
        });
      },
    ),
};

export const layoutCases: SuiteCase[] = [
  ...reshapeCases,
  transposeCase,
  sliceCase,
  reverseSplitCase,
  padCase,
  pad2dCase,
  concatCase,
  gatherCase,
  castCase,
  pixelShuffleCase,
  interleaveCase,
];

/**
 * Elementwise ops: every unary op, the broadcasting binary ops and comparisons, where and
 * broadcastTo, forward against the float64 reference and backward against finite differences.
 *
 * Tolerances (|got - want| <= atol + rtol |want|):
 * - unary forward: atol 2e-5, rtol 2e-5 (float32 rounding of the input is shared with the
 *   reference, so this only covers the backend's own transcendental functions);
 * - unary backward: atol 2e-5, rtol 1e-4 (the gradient is composed of float32 ops);
 * - binary forward 1e-5 / 1e-5 (pow 1e-5 / 3e-5), backward 2e-5 / 1e-4;
 * - comparisons, step, sign, floor, isnan, where's selection: exact.
 */
import fc from "fast-check";
import type { Tensor } from "../../src/index.ts";
import * as s from "../../src/index.ts";
import {
  binaryRef,
  broadcastIndex,
  broadcastShape,
  broadcastToRef,
  type UnaryParams64,
  unaryRef,
  whereRef,
} from "../reference/elementwise.ts";
import { type Nd, nd, shapeStr, unravel } from "../reference/nd.ts";
import { Rng } from "../reference/rng.ts";
import {
  assertClose,
  checkOp,
  describeInputs,
  evalOn,
  property,
  type SuiteCase,
  seedArb,
  shapeArb,
  type Tol,
  tol,
} from "./harness.ts";

interface UnaryCase {
  name: string;
  /** Input values for a shape (kept away from kinks and outside the domain). */
  gen: (rng: Rng, shape: number[]) => Nd;
  params?: (rng: Rng) => UnaryParams64;
  engine?: (x: Tensor, p: UnaryParams64) => Tensor;
  fwd?: Tol;
  /** Absent: no gradient (forward only). */
  bwd?: Tol | null;
}

const FWD = tol(2e-5, 2e-5);
const BWD = tol(2e-5, 1e-4);

const uni =
  (lo: number, hi: number) =>
  (r: Rng, sh: number[]): Nd =>
    r.nd(sh, lo, hi);
const away =
  (lo: number, hi: number) =>
  (r: Rng, sh: number[]): Nd =>
    r.ndAwayFromZero(sh, lo, hi);
/** Values from a small set with exact zeros and integers (for step, sign, floor). */
const coarse = (r: Rng, sh: number[]): Nd => {
  const x = r.nd(sh, -3, 3);
  for (let i = 0; i < x.data.length; i++) {
    const k = r.int(0, 3);
    if (k === 0) x.data[i] = 0;
    else if (k === 1) x.data[i] = r.int(-3, 3);
    else if (k === 2) x.data[i] = -x.data[i];
  }
  return x;
};

const UNARY: UnaryCase[] = [
  { name: "neg", gen: uni(-3, 3) },
  // |x| >= 0.05: the kink at 0 stays far from the finite-difference step.
  { name: "abs", gen: away(0.05, 3) },
  { name: "exp", gen: uni(-3, 3) },
  { name: "log", gen: uni(0.1, 5) },
  { name: "log1p", gen: uni(-0.8, 4) },
  { name: "sqrt", gen: uni(0.05, 5) },
  { name: "rsqrt", gen: uni(0.1, 5) },
  { name: "square", gen: uni(-3, 3) },
  { name: "reciprocal", gen: away(0.3, 3) },
  { name: "sigmoid", gen: uni(-6, 6) },
  { name: "tanh", gen: uni(-4, 4) },
  { name: "relu", gen: away(0.01, 3) },
  { name: "softplus", gen: uni(-6, 6) },
  { name: "gelu", gen: uni(-4, 4) },
  { name: "erf", gen: uni(-3, 3) },
  { name: "sin", gen: uni(-4, 4) },
  { name: "cos", gen: uni(-4, 4) },
  {
    name: "leakyRelu",
    gen: away(0.01, 3),
    params: (r) => ({ a: r.uniform(0, 0.5) }),
    engine: (x, p) => s.leakyRelu(x, p.a),
  },
  {
    // x is moved 0.02 away from both bounds in the property (the gradient jumps there).
    name: "clamp",
    gen: uni(-3, 3),
    params: (r) => {
      const lo = r.uniform(-2, 0);
      return { a: lo, b: Math.fround(lo + r.uniform(0.5, 3)) };
    },
    engine: (x, p) => s.clamp(x, p.a, p.b),
  },
  { name: "step", gen: coarse, bwd: null, fwd: tol(0, 0) },
  { name: "sign", gen: coarse, bwd: null, fwd: tol(0, 0) },
  { name: "floor", gen: coarse, bwd: null, fwd: tol(0, 0) },
  {
    name: "isnan",
    gen: (r, sh) => {
      const x = r.nd(sh, -3, 3);
      for (let i = 0; i < x.data.length; i++) if (r.bool(0.3)) x.data[i] = Number.NaN;
      return x;
    },
    bwd: null,
    fwd: tol(0, 0),
  },
];

function unaryCase(u: UnaryCase): SuiteCase {
  const differentiable = u.bwd !== null;
  const name = `unary ${u.name}: forward vs float64${differentiable ? ", backward vs finite differences" : " (no gradient)"}`;
  return {
    name,
    run: (ctx) =>
      property(ctx, name, 12, fc.tuple(shapeArb(0, 4, 1, 4), seedArb), async ([shape, seed]) => {
        const r = new Rng(seed);
        const p = u.params?.(r) ?? {};
        const x = u.gen(r, shape);
        if (u.name === "clamp") {
          // Keep x 0.02 away from both bounds (the gradient jumps there).
          for (let i = 0; i < x.data.length; i++) {
            for (const bound of [p.a as number, p.b as number]) {
              if (Math.abs(x.data[i] - bound) < 0.02) x.data[i] = Math.fround(bound + 0.05);
            }
          }
        }
        const engine =
          u.engine ??
          ((t: Tensor) => (s as unknown as Record<string, (t: Tensor) => Tensor>)[u.name](t));
        await checkOp(ctx, {
          op: u.name,
          desc: `x ${shapeStr(shape)}${p.a !== undefined ? ` params ${JSON.stringify(p)}` : ""}`,
          inputs: [x],
          engine: ([t]) => engine(t, p),
          reference: ([v]) => unaryRef(u.name, v, p),
          fwd: u.fwd ?? FWD,
          bwd: differentiable ? (u.bwd ?? BWD) : undefined,
          seed,
        });
      }),
  };
}

/** An output shape and two operand shapes that broadcast to it (ranks may differ, dims 1). */
const broadcastPairArb = fc.tuple(shapeArb(0, 4, 1, 4), seedArb).map(([out, seed]) => {
  const r = new Rng(seed);
  const operand = () => {
    const rank = r.int(0, out.length);
    return out.slice(out.length - rank).map((d) => (r.bool(0.3) ? 1 : d));
  };
  return { a: operand(), b: operand(), seed };
});

interface BinaryCase {
  name: string;
  gen: (r: Rng, a: number[], b: number[]) => [Nd, Nd];
  fwd: Tol;
  bwd?: Tol;
}

/** Min over broadcast pairs of |a - b|, to keep maximum/minimum away from ties. */
function minGap(a: Nd, b: Nd): number {
  const shape = broadcastShape(a.shape, b.shape);
  let gap = Infinity;
  const n = shape.reduce((p, d) => p * d, 1);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    gap = Math.min(
      gap,
      Math.abs(a.data[broadcastIndex(idx, a.shape)] - b.data[broadcastIndex(idx, b.shape)]),
    );
  }
  return gap;
}

const BINARY: BinaryCase[] = [
  { name: "add", gen: (r, a, b) => [r.nd(a, -3, 3), r.nd(b, -3, 3)], fwd: tol(1e-5), bwd: BWD },
  { name: "sub", gen: (r, a, b) => [r.nd(a, -3, 3), r.nd(b, -3, 3)], fwd: tol(1e-5), bwd: BWD },
  { name: "mul", gen: (r, a, b) => [r.nd(a, -3, 3), r.nd(b, -3, 3)], fwd: tol(1e-5), bwd: BWD },
  {
    name: "div",
    gen: (r, a, b) => [r.nd(a, -3, 3), r.ndAwayFromZero(b, 0.5, 2)],
    fwd: tol(1e-5),
    bwd: BWD,
  },
  { name: "maximum", gen: (r, a, b) => [r.nd(a, -3, 3), r.nd(b, -3, 3)], fwd: tol(0), bwd: BWD },
  { name: "minimum", gen: (r, a, b) => [r.nd(a, -3, 3), r.nd(b, -3, 3)], fwd: tol(0), bwd: BWD },
  // b away from 0 (the step's kink); its gradient is 0, the finite differences' too.
  {
    name: "mulStep",
    gen: (r, a, b) => [r.nd(a, -3, 3), r.ndAwayFromZero(b, 0.1, 3)],
    fwd: tol(0),
    bwd: BWD,
  },
  // Positive bases (the gradient with respect to the exponent needs log(base)).
  {
    name: "pow",
    gen: (r, a, b) => [r.nd(a, 0.2, 3), r.nd(b, -2, 2)],
    fwd: tol(1e-5, 3e-5),
    bwd: tol(2e-5, 2e-4),
  },
];

// Comparisons draw from a few integers so that ties (and equal) actually happen.
const tieValues = (r: Rng, sh: number[]): Nd => {
  const x = r.nd(sh);
  for (let i = 0; i < x.data.length; i++) x.data[i] = r.int(-2, 2) / 2;
  return x;
};
for (const name of ["greater", "greaterEqual", "less", "lessEqual", "equal"]) {
  BINARY.push({ name, gen: (r, a, b) => [tieValues(r, a), tieValues(r, b)], fwd: tol(0) });
}

function binaryCase(c: BinaryCase): SuiteCase {
  const name = `binary ${c.name} with broadcasting: forward vs float64${c.bwd ? ", backward (both operands) vs finite differences" : " (no gradient)"}`;
  return {
    name,
    run: (ctx) =>
      property(ctx, name, 15, broadcastPairArb, async ({ a, b, seed }) => {
        const r = new Rng(seed ^ 0x5bd1e995);
        const [x, y] = c.gen(r, a, b);
        if (c.name === "maximum" || c.name === "minimum") fc.pre(minGap(x, y) > 1e-3);
        const fn = (s as unknown as Record<string, (a: Tensor, b: Tensor) => Tensor>)[c.name];
        await checkOp(ctx, {
          op: c.name,
          desc: describeInputs([x, y], ["a", "b"]),
          inputs: [x, y],
          engine: ([u, v]) => fn(u, v),
          reference: ([u, v]) => binaryRef(c.name, u, v),
          fwd: c.fwd,
          bwd: c.bwd,
          seed,
        });
      }),
  };
}

/** Operand shapes against [N, C, H, W] outputs of 1024+ elements (the CPU's expand-then-loop path). */
const LARGE_PATTERNS: [string, (o: number[]) => [number[], number[]]][] = [
  [
    "per channel [C,1,1]",
    ([n, c, h, w]) => [
      [n, c, h, w],
      [c, 1, 1],
    ],
  ],
  [
    "per channel [1,C,1,1] on the left",
    ([n, c, h, w]) => [
      [1, c, 1, 1],
      [n, c, h, w],
    ],
  ],
  ["row [W]", ([n, c, h, w]) => [[n, c, h, w], [w]]],
  [
    "column [H,1]",
    ([n, c, h, w]) => [
      [n, c, h, w],
      [h, 1],
    ],
  ],
  ["scalar", ([n, c, h, w]) => [[n, c, h, w], []]],
  [
    "both broadcast [N,1,H,1] and [1,C,1,W]",
    ([n, c, h, w]) => [
      [n, 1, h, 1],
      [1, c, 1, w],
    ],
  ],
];

const largeBroadcastCase: SuiteCase = {
  name: "binary add/sub/mul/div/maximum/pow/greater/equal/mulStep broadcasting on 1024+ elements (per channel, row, column, scalar, both sides): forward vs float64",
  run: (ctx) =>
    property(ctx, "large broadcast", 4, seedArb, async (seed) => {
      const r = new Rng(seed);
      const out = [r.int(1, 3), r.int(2, 5), r.int(8, 20), r.int(9, 30)];
      fc.pre(out.reduce((p, d) => p * d, 1) >= 1024);
      for (const [pattern, shapes] of LARGE_PATTERNS) {
        const [sa, sb] = shapes(out);
        for (const name of [
          "add",
          "sub",
          "mul",
          "div",
          "maximum",
          "pow",
          "greater",
          "equal",
          "mulStep",
        ]) {
          const x = name === "pow" ? r.nd(sa, 0.2, 3) : tieValues(r, sa);
          const y = name === "div" ? r.ndAwayFromZero(sb, 0.5, 2) : tieValues(r, sb);
          const fn = (s as unknown as Record<string, (a: Tensor, b: Tensor) => Tensor>)[name];
          await checkOp(ctx, {
            op: name,
            desc: `${pattern}: ${describeInputs([x, y], ["a", "b"])}`,
            inputs: [x, y],
            engine: ([u, v]) => fn(u, v),
            reference: ([u, v]) => binaryRef(name, u, v),
            fwd: tol(1e-5, 3e-5),
            seed,
          });
        }
      }
    }),
};

const scalarOperandCase: SuiteCase = {
  name: "binary ops with a JS number operand (left and right): forward and backward",
  run: (ctx) =>
    property(
      ctx,
      "binary scalar operand",
      8,
      fc.tuple(shapeArb(0, 3), seedArb),
      async ([sh, seed]) => {
        const r = new Rng(seed);
        const k = r.ndAwayFromZero([], 0.5, 2).data[0];
        const x = r.ndAwayFromZero(sh, 0.5, 2);
        const kNd: Nd = { shape: [], data: Float64Array.of(k) };
        for (const name of ["add", "sub", "mul", "div"]) {
          const fn = (
            s as unknown as Record<string, (a: Tensor | number, b: Tensor | number) => Tensor>
          )[name];
          await checkOp(ctx, {
            op: `${name}(x, ${k})`,
            desc: `x ${shapeStr(sh)}`,
            inputs: [x],
            engine: ([t]) => fn(t, k),
            reference: ([v]) => binaryRef(name, v, kNd),
            fwd: tol(1e-5),
            bwd: BWD,
            seed,
          });
          await checkOp(ctx, {
            op: `${name}(${k}, x)`,
            desc: `x ${shapeStr(sh)}`,
            inputs: [x],
            engine: ([t]) => fn(k, t),
            reference: ([v]) => binaryRef(name, kNd, v),
            fwd: tol(1e-5),
            bwd: BWD,
            seed,
          });
        }
      },
    ),
};

/** Three shapes broadcasting to a common one. */
const broadcastTripleArb = fc.tuple(shapeArb(0, 4, 1, 4), seedArb).map(([out, seed]) => {
  const r = new Rng(seed);
  const operand = () => {
    const rank = r.int(0, out.length);
    return out.slice(out.length - rank).map((d) => (r.bool(0.3) ? 1 : d));
  };
  return { c: operand(), a: operand(), b: operand(), seed };
});

const whereCase: SuiteCase = {
  name: "where(cond, a, b) with broadcasting: forward vs float64, backward (a and b) vs finite differences",
  run: (ctx) =>
    property(ctx, "where", 15, broadcastTripleArb, async ({ c, a, b, seed }) => {
      const r = new Rng(seed);
      // Any non-zero condition selects a (here 1, -1 or 2.5).
      const cond = r.nd(c);
      for (let i = 0; i < cond.data.length; i++) cond.data[i] = r.pick([0, 0, 1, -1, 2.5]);
      const x = r.nd(a, -3, 3);
      const y = r.nd(b, -3, 3);
      await checkOp(ctx, {
        op: "where",
        desc: describeInputs([cond, x, y], ["cond", "a", "b"]),
        inputs: [cond, x, y],
        engine: ([t, u, v]) => s.where(t, u, v),
        reference: ([t, u, v]) => whereRef(t, u, v),
        fwd: tol(0),
        bwd: BWD,
        wrt: [1, 2],
        seed,
      });
    }),
};

const broadcastToCase: SuiteCase = {
  name: "broadcastTo: forward vs float64, backward (sum over broadcast axes) vs finite differences",
  run: (ctx) =>
    property(ctx, "broadcastTo", 15, broadcastPairArb, async ({ a, b, seed }) => {
      const target = broadcastShape(a, b);
      const r = new Rng(seed);
      const x = r.nd(a, -3, 3);
      await checkOp(ctx, {
        op: "broadcastTo",
        desc: `x ${shapeStr(a)} to ${shapeStr(target)}`,
        inputs: [x],
        engine: ([t]) => s.broadcastTo(t, target),
        reference: ([v]) => broadcastToRef(v, target),
        fwd: tol(0),
        bwd: tol(1e-5, 1e-5),
        seed,
      });
    }),
};

/**
 * Derivatives at the kinks, where finite differences cannot decide: PyTorch's conventions
 * (relu'(0) = 0, sign'(0) = 0 for abs, leakyRelu'(0) = prelu'(0) = slope, clamp passes on the
 * closed interval, ties of maximum / minimum and of max / min reductions share evenly, max-pool
 * ties go to the first element of the window), except sqrt'(0) = 0 (PyTorch: inf), which the
 * engine chose so that a zero upstream gradient never turns into NaN.
 */
const kinkCase: SuiteCase = {
  name: "gradient conventions at kinks and ties (relu, abs, leakyRelu, prelu, clamp, maximum/minimum, max/min reductions, max-pool, sqrt at 0): exact values",
  run: async (ctx) => {
    const v = (...xs: number[]) => s.tensor(xs);
    const cases: [string, () => Tensor[], number[][]][] = [
      ["relu at [-1,0,2]", () => [s.grad((t) => s.sum(s.relu(t)))(v(-1, 0, 2))], [[0, 0, 1]]],
      ["abs at [-1,0,2]", () => [s.grad((t) => s.sum(s.abs(t)))(v(-1, 0, 2))], [[-1, 0, 1]]],
      [
        "leakyRelu(0.25) at [-1,0,2]",
        () => [s.grad((t) => s.sum(s.leakyRelu(t, 0.25)))(v(-1, 0, 2))],
        [[0.25, 0.25, 1]],
      ],
      [
        "prelu(alpha [0.25]) at [[-1,0,2]]: d/dx and d/dalpha",
        () =>
          s.grads((t: Tensor, a: Tensor) => s.sum(s.prelu(t, a)))([
            s.tensor([[-1, 0, 2]]),
            v(0.25),
          ]),
        [[0.25, 0.25, 1], [-1]],
      ],
      [
        "clamp(0, 1) at [-1,0,0.5,1,2]",
        () => [s.grad((t) => s.sum(s.clamp(t, 0, 1)))(v(-1, 0, 0.5, 1, 2))],
        [[0, 1, 1, 1, 0]],
      ],
      [
        "maximum([1,2,3], [1,0,5])",
        () => s.grads((a: Tensor, b: Tensor) => s.sum(s.maximum(a, b)))([v(1, 2, 3), v(1, 0, 5)]),
        [
          [0.5, 1, 0],
          [0.5, 0, 1],
        ],
      ],
      [
        "minimum([1,2,3], [1,0,5])",
        () => s.grads((a: Tensor, b: Tensor) => s.sum(s.minimum(a, b)))([v(1, 2, 3), v(1, 0, 5)]),
        [
          [0.5, 0, 1],
          [0.5, 1, 0],
        ],
      ],
      ["max of [1,3,3]", () => [s.grad((t) => s.max(t))(v(1, 3, 3))], [[0, 0.5, 0.5]]],
      ["min of [2,1,1,5]", () => [s.grad((t) => s.min(t))(v(2, 1, 1, 5))], [[0, 0.5, 0.5, 0]]],
      [
        "maxPool2d 2x2 of ones [1,1,2,4]",
        () => [s.grad((t) => s.sum(s.maxPool2d(t, { kernel: 2 })))(s.ones([1, 1, 2, 4]))],
        [[1, 0, 1, 0, 0, 0, 0, 0]],
      ],
      ["sqrt at [0,4]", () => [s.grad((t) => s.sum(s.sqrt(t)))(v(0, 4))], [[0, 0.25]]],
      [
        "step, sign, floor (no gradient)",
        () => [
          s.grad((t) => s.sum(s.add(s.add(s.step(t), s.sign(t)), s.floor(t))))(v(-1.5, 0, 2.5)),
        ],
        [[0, 0, 0]],
      ],
    ];
    for (const [what, fn, want] of cases) {
      const { values } = await evalOn(ctx.backend, () => fn().map((g) => s.reshape(g, [-1])));
      want.forEach((w, i) =>
        assertClose(
          `${what} gradient ${i}`,
          values[i],
          [values[i].length],
          nd([w.length], w),
          tol(0),
        ),
      );
    }
  },
};

/** IEEE corner values: signed zeros, subnormals, the largest floats, infinities and NaN. */
const SPECIAL = [
  -0,
  0,
  1e-45,
  -1e-45,
  1.2e-38,
  -1.2e-38,
  3.4028234e38,
  -3.4028234e38,
  1,
  -1,
  0.5,
  -2.5,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
].map(Math.fround);

const specialValuesCase: SuiteCase = {
  name: "relu and step on IEEE corner values (signed zeros, subnormals, max floats, infinities, NaN), shuffled into every position of 15-700 elements: exact",
  run: (ctx) =>
    property(ctx, "relu/step special values", 6, seedArb, async (seed) => {
      const r = new Rng(seed);
      // Short and long (the CPU's wasm loop takes 256+ elements).
      const n = r.bool() ? r.int(SPECIAL.length, 3 * SPECIAL.length) : r.int(256, 700);
      const x = nd(
        [n],
        Array.from({ length: n }, () => SPECIAL[r.int(0, SPECIAL.length - 1)]),
      );
      for (const [name, op] of [
        ["relu", s.relu],
        ["step", s.step],
      ] as const) {
        await checkOp(ctx, {
          op: name,
          desc: `x of ${n}: [${x.data.slice(0, 24).join(", ")}${n > 24 ? ", ..." : ""}]`,
          inputs: [x],
          engine: ([t]) => op(t),
          reference: ([v]) => unaryRef(name, v, {}),
          fwd: tol(0, 0),
          seed,
        });
      }
    }),
};

export const elementwiseCases: SuiteCase[] = [
  specialValuesCase,
  largeBroadcastCase,
  kinkCase,
  ...UNARY.map(unaryCase),
  ...BINARY.map(binaryCase),
  scalarOperandCase,
  whereCase,
  broadcastToCase,
];

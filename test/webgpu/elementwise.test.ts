/**
 * Parity of fill, cast, unary, binary and select against the CPU backend.
 *
 * Tolerances (|gpu - cpu| <= atol + rtol * |cpu|):
 *   exact: fill, cast, neg, abs, square, relu, step, sign, floor, isnan, clamp,
 *          add, sub, mul, max, min, comparisons, select (IEEE-exact operations, NaN rules included)
 *   rtol 1e-6: reciprocal, div, sqrt, rsqrt (WGSL allows 2.5 ulp for division/sqrt)
 *   rtol 2.4e-7: leakyRelu (the CPU scales by the float64 slope, the GPU by its f32 rounding)
 *   atol 2e-6 rtol 4e-6: exp, log, log1p, sigmoid, tanh, softplus, gelu, erf, sin, cos
 *   atol 1e-6 rtol 1e-5: pow (exp2(b * log2 |a|) loses about |b log2 a| ulp)
 */
import fc from "fast-check";
import { BINARY_OPS, type BinaryOp, UNARY_OPS, type UnaryOp } from "../../src/kernels/backend.ts";
import { cpu, EXACT, parity, seedArb, shapeArb, size, type Tol, tol, values } from "./parity.ts";

const SPECIALS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0];

/** Per op: value range and tolerance. */
const UNARY: Record<UnaryOp, { lo: number; hi: number; t: Tol; specials?: boolean }> = {
  neg: { lo: -5, hi: 5, t: EXACT, specials: true },
  abs: { lo: -5, hi: 5, t: EXACT, specials: true },
  exp: { lo: -10, hi: 10, t: tol(2e-6, 4e-6) },
  log: { lo: 0.01, hi: 10, t: tol(2e-6, 4e-6) },
  log1p: { lo: -0.99, hi: 10, t: tol(2e-6, 4e-6) },
  sqrt: { lo: 0, hi: 10, t: tol(0, 1e-6) },
  rsqrt: { lo: 0.01, hi: 10, t: tol(0, 1e-6) },
  square: { lo: -5, hi: 5, t: EXACT },
  reciprocal: { lo: 0.1, hi: 5, t: tol(0, 1e-6) },
  sigmoid: { lo: -20, hi: 20, t: tol(2e-6, 4e-6) },
  tanh: { lo: -12, hi: 12, t: tol(2e-6, 4e-6) },
  relu: { lo: -5, hi: 5, t: EXACT, specials: true },
  step: { lo: -5, hi: 5, t: EXACT, specials: true },
  sign: { lo: -5, hi: 5, t: EXACT, specials: true },
  softplus: { lo: -20, hi: 20, t: tol(2e-6, 4e-6) },
  gelu: { lo: -6, hi: 6, t: tol(2e-6, 4e-6) },
  erf: { lo: -4, hi: 4, t: tol(2e-6, 4e-6) },
  sin: { lo: -4, hi: 4, t: tol(2e-6, 4e-6) },
  cos: { lo: -4, hi: 4, t: tol(2e-6, 4e-6) },
  floor: { lo: -5, hi: 5, t: EXACT, specials: true },
  isnan: { lo: -5, hi: 5, t: EXACT, specials: true },
  // The CPU multiplies by the slope in float64 (slope not rounded to f32): 1 ulp apart.
  leakyRelu: { lo: -5, hi: 5, t: tol(0, 2.4e-7), specials: true },
  clamp: { lo: -5, hi: 5, t: EXACT, specials: true },
};

const BINARY: Record<BinaryOp, Tol> = {
  add: EXACT,
  sub: EXACT,
  mul: EXACT,
  div: tol(0, 1e-6),
  max: EXACT,
  min: EXACT,
  pow: tol(1e-6, 1e-5),
  greater: EXACT,
  greaterEqual: EXACT,
  less: EXACT,
  lessEqual: EXACT,
  equal: EXACT,
  mulStep: EXACT,
};

function withSpecials(v: Float32Array, seed: number): Float32Array {
  for (let i = 0; i < SPECIALS.length && i < v.length; i++)
    v[(seed + i * 7) % v.length] = SPECIALS[i];
  return v;
}

Deno.test("fill (float32, int32) matches the CPU backend exactly", async () => {
  await parity(
    "fill",
    fc.tuple(shapeArb(0, 3), fc.integer({ min: -1000, max: 1000 })),
    async (s, [shape, v]) => {
      await s.check(
        "fill f32",
        s.gpu.fill(shape, v / 7, "float32"),
        cpu.fill(shape, v / 7, "float32"),
        shape,
        EXACT,
      );
      await s.check(
        "fill i32",
        s.gpu.fill(shape, v, "int32"),
        cpu.fill(shape, v, "int32"),
        shape,
        EXACT,
        "int32",
      );
    },
  );
});

Deno.test("cast float32 <-> int32 truncates toward zero like the CPU backend", async () => {
  await parity("cast", fc.tuple(shapeArb(1, 3), seedArb), async (s, [shape, seed]) => {
    const x = s.input(values(seed, size(shape), -50, 50), shape);
    await s.check(
      "cast f32->i32",
      s.gpu.cast(x.g, "int32"),
      cpu.cast(x.c, "int32"),
      shape,
      EXACT,
      "int32",
    );
    const i = s.input(
      Int32Array.from(values(seed + 1, size(shape), -1e6, 1e6), Math.trunc),
      shape,
      "int32",
    );
    await s.check(
      "cast i32->f32",
      s.gpu.cast(i.g, "float32"),
      cpu.cast(i.c, "float32"),
      shape,
      EXACT,
    );
  });
});

for (const op of UNARY_OPS) {
  const spec = UNARY[op];
  Deno.test(`unary ${op} (atol ${spec.t.atol}, rtol ${spec.t.rtol})`, async () => {
    await parity(
      `unary ${op}`,
      fc.tuple(shapeArb(0, 4), seedArb, fc.boolean()),
      async (s, [shape, seed, int]) => {
        let v = values(seed, size(shape), spec.lo, spec.hi);
        if (spec.specials) v = withSpecials(v, seed);
        const params = op === "leakyRelu" ? { a: 0.2 } : op === "clamp" ? { a: -1.5, b: 2 } : {};
        const x =
          int && !spec.specials
            ? s.input(Int32Array.from(v, Math.round), shape, "int32")
            : s.input(v, shape);
        await s.check(
          `unary ${op} [${shape}] ${x.g.dtype}`,
          s.gpu.unary(op, x.g, params),
          cpu.unary(op, x.c, params),
          shape,
          spec.t,
        );
      },
      8,
    );
  });
}

/** An output shape and two operand shapes broadcasting to it (dims set to 1 or dropped). */
const broadcastArb = fc
  .tuple(
    shapeArb(0, 5, 4),
    fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 10, maxLength: 10 }),
    fc.nat(5),
    fc.nat(5),
  )
  .map(([out, picks, dropA, dropB]) => {
    const operand = (k: number, drop: number) =>
      out
        .map((d, i) => (picks[(i + k) % picks.length] === 0 ? 1 : d))
        .slice(Math.min(drop, out.length));
    return { out, a: operand(0, dropA % 3), b: operand(5, dropB % 3) };
  });

for (const op of BINARY_OPS) {
  const t = BINARY[op];
  Deno.test(`binary ${op} with broadcasting (atol ${t.atol}, rtol ${t.rtol})`, async () => {
    await parity(
      `binary ${op}`,
      fc.tuple(broadcastArb, seedArb, fc.boolean()),
      async (s, [{ out, a, b }, seed, int]) => {
        const lo = op === "pow" ? 0.1 : -3;
        let va = values(seed, size(a), lo, 3);
        let vb = values(seed + 1, size(b), op === "pow" ? -3 : -3, 3);
        if (op === "pow") {
          // Negative bases with integer exponents are defined too.
          va = va.map((x, i) => (i % 3 === 0 ? -x : x));
          vb = vb.map((x, i) => (i % 2 === 0 ? Math.round(x) : x));
        } else if (op !== "div") {
          // Ties and NaN: quantise, then plant a NaN.
          va = va.map((x) => Math.round(x * 2) / 2);
          vb = vb.map((x) => Math.round(x * 2) / 2);
          if (va.length > 1) va[seed % va.length] = Number.NaN;
        }
        const A = s.input(va, a);
        const B =
          int && op !== "pow"
            ? s.input(Int32Array.from(vb, Math.round), b, "int32")
            : s.input(vb, b);
        await s.check(
          `${op} [${a}] x [${b}] -> [${out}]`,
          s.gpu.binary(op, A.g, B.g, out),
          cpu.binary(op, A.c, B.c, out),
          out,
          t,
        );
      },
      10,
    );
  });
}

Deno.test("select with broadcasting; NaN and -0 conditions; int32 condition (exact)", async () => {
  await parity(
    "select",
    fc.tuple(broadcastArb, seedArb, fc.boolean()),
    async (s, [{ out, a, b }, seed, int]) => {
      const condShape = a;
      const cv = values(seed, size(condShape), -1, 1).map((x, i) =>
        i % 3 === 0 ? 0 : i % 5 === 1 ? Number.NaN : i % 7 === 2 ? -0 : x,
      );
      const c = int
        ? s.input(
            Int32Array.from(cv, (x) => (Number.isNaN(x) ? 1 : Math.round(x))),
            condShape,
            "int32",
          )
        : s.input(cv, condShape);
      const A = s.input(values(seed + 1, size(b)), b);
      const B = s.input(values(seed + 2, size(out)), out);
      await s.check(
        `select [${condShape}] [${b}] [${out}]`,
        s.gpu.select(c.g, A.g, B.g, out),
        cpu.select(c.c, A.c, B.c, out),
        out,
        EXACT,
      );
    },
  );
});

/**
 * Parity of reductions and data-movement kernels against the CPU backend.
 *
 * Tolerances: exact for everything here (copies, max/min, argMax, gathers) except
 *   reduce sum: atol 1e-6 * (group length) + rtol 1e-6 (the CPU accumulates in float64, the GPU in
 *   float32 chunks), scatterAdd: rtol 1e-6 (same summation order, float32 vs CPU float32).
 */
import fc from "fast-check";
import type { PadMode } from "../../src/kernels/backend.ts";
import { cpu, EXACT, parity, seedArb, shapeArb, size, tol, values } from "./parity.ts";

const subsetArb = (rank: number) =>
  fc
    .array(fc.boolean(), { minLength: rank, maxLength: rank })
    .map((bits) => bits.flatMap((b, i) => (b ? [i] : [])));

Deno.test("reduce sum/max/min over random axis sets (NaN propagates in max/min)", async () => {
  const arb = shapeArb(1, 5, 6).chain((shape) =>
    fc.tuple(fc.constant(shape), subsetArb(shape.length), seedArb, fc.boolean()),
  );
  await parity(
    "reduce",
    arb,
    async (s, [shape, axes, seed, nan]) => {
      const v = values(seed, size(shape), -2, 2).map((x) => Math.round(x * 4) / 4);
      if (nan) v[seed % v.length] = Number.NaN;
      const x = s.input(v, shape);
      const out = shape.filter((_, i) => !axes.includes(i));
      const group = axes.reduce((a, i) => a * shape[i], 1);
      for (const op of ["sum", "max", "min"] as const) {
        const t = op === "sum" ? tol(1e-6 * group, 1e-6) : EXACT;
        await s.check(
          `reduce ${op} [${shape}] axes [${axes}]`,
          s.gpu.reduce(op, x.g, axes),
          cpu.reduce(op, x.c, axes),
          out,
          t,
        );
      }
    },
    25,
  );
});

Deno.test("reduce sum splits long groups into partial sums (1 x 100000, 3 x 20000)", async () => {
  await parity(
    "reduce long",
    fc.tuple(fc.constantFrom([100000], [3, 20000], [20000, 3]), seedArb),
    async (s, [shape, seed]) => {
      const x = s.input(values(seed, size(shape)), shape);
      for (const axes of shape.length === 1 ? [[0]] : [[0], [1], [0, 1]]) {
        const out = shape.filter((_, i) => !axes.includes(i));
        const group = axes.reduce((a, i) => a * shape[i], 1);
        await s.check(
          `sum [${shape}] axes [${axes}]`,
          s.gpu.reduce("sum", x.g, axes),
          cpu.reduce("sum", x.c, axes),
          out,
          tol(1e-6 * Math.sqrt(group), 1e-5),
        );
        await s.check(
          `max [${shape}] axes [${axes}]`,
          s.gpu.reduce("max", x.g, axes),
          cpu.reduce("max", x.c, axes),
          out,
          EXACT,
        );
      }
    },
    3,
  );
});

Deno.test("argMax: first maximum on ties, first NaN wins (exact)", async () => {
  const arb = shapeArb(1, 4, 6).chain((shape) =>
    fc.tuple(fc.constant(shape), fc.nat(shape.length - 1), seedArb, fc.boolean()),
  );
  await parity(
    "argMax",
    arb,
    async (s, [shape, axis, seed, nan]) => {
      const v = values(seed, size(shape), 0, 3).map(Math.floor);
      if (nan) {
        v[seed % v.length] = Number.NaN;
        v[(seed * 7) % v.length] = Number.NaN;
      }
      const x = s.input(v, shape);
      const out = shape.filter((_, i) => i !== axis);
      await s.check(
        `argMax [${shape}] axis ${axis}`,
        s.gpu.argMax(x.g, axis),
        cpu.argMax(x.c, axis),
        out,
        EXACT,
        "int32",
      );
    },
    20,
  );
});

Deno.test("transpose: random permutations, float32 and int32 (exact)", async () => {
  const arb = shapeArb(1, 6, 4).chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.shuffledSubarray(
        shape.map((_, i) => i),
        { minLength: shape.length, maxLength: shape.length },
      ),
      seedArb,
    ),
  );
  await parity(
    "transpose",
    arb,
    async (s, [shape, perm, seed]) => {
      const out = perm.map((p) => shape[p]);
      const x = s.input(values(seed, size(shape)), shape);
      await s.check(
        `transpose [${shape}] [${perm}]`,
        s.gpu.transpose(x.g, perm),
        cpu.transpose(x.c, perm),
        out,
        EXACT,
      );
      const i = s.input(
        Int32Array.from(values(seed, size(shape), -1e6, 1e6), Math.trunc),
        shape,
        "int32",
      );
      await s.check(
        `transpose int32 [${shape}]`,
        s.gpu.transpose(i.g, perm),
        cpu.transpose(i.c, perm),
        out,
        EXACT,
        "int32",
      );
    },
    20,
  );
});

Deno.test("strided slice with negative steps (exact)", async () => {
  const axisArb = (d: number) =>
    fc
      .tuple(
        fc.integer({ min: 0, max: d - 1 }),
        fc.integer({ min: -3, max: 3 }).filter((st) => st !== 0),
      )
      .map(([b, st]) => {
        const room = st > 0 ? Math.floor((d - 1 - b) / st) + 1 : Math.floor(b / -st) + 1;
        return { b, st, n: room };
      });
  const arb = shapeArb(1, 4, 6).chain((shape) =>
    fc.tuple(fc.constant(shape), fc.tuple(...shape.map(axisArb)), seedArb),
  );
  await parity(
    "slice",
    arb,
    async (s, [shape, axes, seed]) => {
      const begin = axes.map((a) => a.b);
      const sz = axes.map((a) => a.n);
      const step = axes.map((a) => a.st);
      const x = s.input(values(seed, size(shape)), shape);
      await s.check(
        `slice [${shape}] begin [${begin}] size [${sz}] step [${step}]`,
        s.gpu.slice(x.g, begin, sz, step),
        cpu.slice(x.c, begin, sz, step),
        sz,
        EXACT,
      );
    },
    25,
  );
});

Deno.test("pad constant / reflect (reflect-101) / replicate, float32 and int32 (exact)", async () => {
  const arb = shapeArb(1, 4, 5).chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.constantFrom<PadMode>("constant", "reflect", "replicate"),
      fc.tuple(
        ...shape.map(() =>
          fc
            .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
            .map(([a, b]) => [a, b] as [number, number]),
        ),
      ),
      seedArb,
      fc.boolean(),
    ),
  );
  await parity(
    "pad",
    arb,
    async (s, [shape, mode, pads0, seed, int]) => {
      // reflect-101 needs pads < dim (the ops layer enforces it).
      const pads =
        mode === "reflect"
          ? pads0.map(
              ([a, b], i) =>
                [Math.min(a, shape[i] - 1), Math.min(b, shape[i] - 1)] as [number, number],
            )
          : pads0;
      const out = shape.map((d, i) => d + pads[i][0] + pads[i][1]);
      const dtype = int ? "int32" : "float32";
      const v = values(seed, size(shape), -100, 100);
      const x = s.input(int ? Int32Array.from(v, Math.trunc) : v, shape, dtype);
      const value = int ? 7 : -2.5;
      await s.check(
        `pad ${mode} [${shape}] [${JSON.stringify(pads)}]`,
        s.gpu.pad(x.g, pads, mode, value),
        cpu.pad(x.c, pads, mode, value),
        out,
        EXACT,
        dtype,
      );
    },
    25,
  );
});

Deno.test("concat of 1-3 tensors along any axis (exact)", async () => {
  const arb = shapeArb(1, 4, 4).chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.nat(shape.length - 1),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
      seedArb,
    ),
  );
  await parity(
    "concat",
    arb,
    async (s, [shape, axis, lens, seed]) => {
      const parts = lens.map((l, j) => {
        const sh = shape.map((d, i) => (i === axis ? l : d));
        return s.input(values(seed + j, size(sh)), sh);
      });
      const out = shape.map((d, i) => (i === axis ? lens.reduce((a, b) => a + b, 0) : d));
      await s.check(
        `concat [${lens}] on axis ${axis} of [${shape}]`,
        s.gpu.concat(
          parts.map((p) => p.g),
          axis,
          out,
        ),
        cpu.concat(
          parts.map((p) => p.c),
          axis,
          out,
        ),
        out,
        EXACT,
      );
    },
    20,
  );
});

Deno.test("gather and scatterAdd, with host-known and GPU-computed indices", async () => {
  const arb = shapeArb(1, 4, 4).chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.nat(shape.length - 1),
      fc.array(fc.nat(10), { minLength: 1, maxLength: 7 }),
      seedArb,
      fc.boolean(),
    ),
  );
  await parity(
    "gather",
    arb,
    async (s, [shape, axis, raw, seed, onGpu]) => {
      const n = shape[axis];
      const idxValues = Int32Array.from(raw, (r) => r % n);
      // Indices produced on the GPU (a cast) have no host copy: the kernels take their scan path.
      const idx = onGpu
        ? (() => {
            const f = s.input(Float32Array.from(idxValues), [idxValues.length]);
            return s.wrap(
              s.gpu.cast(f.g, "int32"),
              cpu.cast(f.c, "int32"),
              [idxValues.length],
              "int32",
            );
          })()
        : s.input(idxValues, [idxValues.length], "int32");
      const x = s.input(values(seed, size(shape)), shape);
      const out = shape.map((d, i) => (i === axis ? idxValues.length : d));
      await s.check(
        `gather [${shape}] axis ${axis} [${idxValues}]`,
        s.gpu.gather(x.g, idx.g, axis),
        cpu.gather(x.c, idx.c, axis),
        out,
        EXACT,
      );
      const upd = s.input(values(seed + 1, size(out)), out);
      await s.check(
        `scatterAdd [${out}] axis ${axis} -> ${n}`,
        s.gpu.scatterAdd(upd.g, idx.g, axis, n),
        cpu.scatterAdd(upd.c, idx.c, axis, n),
        shape,
        tol(0, 1e-6),
      );
    },
    25,
  );
});

Deno.test("gather/scatterAdd reject out-of-range host-known indices like the CPU backend", async () => {
  await parity(
    "gather range",
    fc.constant(0),
    async (s) => {
      const x = s.input(new Float32Array(6), [2, 3]);
      const bad = s.input(new Int32Array([0, 3]), [2], "int32");
      for (const run of [
        () => s.gpu.gather(x.g, bad.g, 1),
        () => s.gpu.scatterAdd(x.g, bad.g, 0, 2),
      ]) {
        let msg = "";
        try {
          run();
        } catch (e) {
          msg = (e as Error).message;
        }
        if (!/index \d+ is out of range for an axis of length \d/.test(msg))
          throw new Error(`expected a range error, got "${msg}"`);
      }
    },
    1,
  );
});

/**
 * Parity of matmul, conv2d, conv2dBackpropFilter, pooling and axisMap against the CPU backend,
 * for both matmul/conv variants (barrier-free register tiles and workgroup-memory tiles).
 *
 * Tolerances (|gpu - cpu| <= atol + rtol * |cpu|):
 *   matmul, conv2d: atol 1e-6 * K + rtol 1e-5 (K = reduction length; CPU sums in float64 blocks)
 *   conv2dBackpropFilter: atol 1e-6 * N*outH*outW + rtol 1e-5 (split-K partial sums)
 *   maxPool2d values, argmax, maxPool2dBackward: exact (same tie and NaN rules; same add order)
 *   avgPool2d, avgPool2dBackward, axisMap: atol 1e-6 + rtol 1e-6
 */
import fc from "fast-check";
import { conv2dGeometry } from "../../src/kernels/conv-geometry.ts";
import { poolGeometry } from "../../src/kernels/pool-geometry.ts";
import {
  adaptiveAvgPoolMap,
  bicubicMap,
  bilinearMap,
  transposeAxisMap,
} from "../../src/kernels/resample-maps.ts";
import type { WebGPUBackend } from "../../src/kernels/webgpu/index.ts";
import { gpuBackend, gpuBackendSharedTiles } from "./gpu.ts";
import { cpu, EXACT, parity, seedArb, shapeArb, size, tol, values } from "./parity.ts";

const VARIANTS: [string, () => Promise<WebGPUBackend>][] = [
  ["registers", gpuBackend],
  ["shared", gpuBackendSharedTiles],
];

const matmulArb = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  bcast: fc.constantFrom("none", "a", "b"),
  m: fc.integer({ min: 1, max: 40 }),
  n: fc.integer({ min: 1, max: 40 }),
  k: fc.integer({ min: 0, max: 40 }),
  transA: fc.boolean(),
  transB: fc.boolean(),
  seed: seedArb,
});

/** A valid generalised conv geometry (output at least 1x1). */
const convArb = fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }),
    groups: fc.integer({ min: 1, max: 3 }),
    cg: fc.integer({ min: 1, max: 3 }),
    og: fc.constantFrom(1, 2, 3, 5, 8, 33),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    stride: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    inputDilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    pad: fc.tuple(
      fc.integer({ min: -1, max: 2 }),
      fc.integer({ min: -1, max: 2 }),
      fc.integer({ min: -1, max: 2 }),
      fc.integer({ min: -1, max: 2 }),
    ),
    bias: fc.boolean(),
    relu: fc.boolean(),
    seed: seedArb,
  })
  .filter((c) => {
    try {
      conv2dGeometry([c.batch, c.cg * c.groups, c.h, c.w], [c.og * c.groups, c.cg, c.kh, c.kw], c);
      return true;
    } catch {
      return false;
    }
  });

for (const [variant, backend] of VARIANTS) {
  Deno.test(`matmul (${variant} tiles): batches, broadcast batch, transposes`, async () => {
    await parity(
      `matmul ${variant}`,
      matmulArb,
      async (s, c) => {
        const ba = c.bcast === "a" ? 1 : c.batch;
        const bb = c.bcast === "b" ? 1 : c.batch;
        const aShape = c.transA ? [ba, c.k, c.m] : [ba, c.m, c.k];
        const bShape = c.transB ? [bb, c.n, c.k] : [bb, c.k, c.n];
        const a = s.input(values(c.seed, size(aShape)), aShape);
        const b = s.input(values(c.seed + 1, size(bShape)), bShape);
        const out = [Math.max(ba, bb), c.m, c.n];
        await s.check(
          `matmul ${JSON.stringify(c)}`,
          s.gpu.matmul(a.g, b.g, c.transA, c.transB),
          cpu.matmul(a.c, b.c, c.transA, c.transB),
          out,
          tol(1e-6 * c.k, 1e-5),
        );
      },
      20,
      backend(),
    );
  });

  Deno.test(`conv2d (${variant} tiles): groups, depthwise, stride, dilation, input dilation, negative pads, bias + relu`, async () => {
    await parity(
      `conv2d ${variant}`,
      convArb,
      async (s, c) => {
        const xShape = [c.batch, c.cg * c.groups, c.h, c.w];
        const wShape = [c.og * c.groups, c.cg, c.kh, c.kw];
        const g = conv2dGeometry(xShape, wShape, c);
        const x = s.input(values(c.seed, size(xShape)), xShape);
        const w = s.input(values(c.seed + 1, size(wShape)), wShape);
        const b = c.bias ? s.input(values(c.seed + 2, g.outChannels), [g.outChannels]) : null;
        const out = [g.batch, g.outChannels, g.outHeight, g.outWidth];
        const K = c.cg * c.kh * c.kw;
        await s.check(
          `conv2d ${JSON.stringify(c)}`,
          s.gpu.conv2d(x.g, w.g, g, b?.g ?? null, c.relu),
          cpu.conv2d(x.c, w.c, g, b?.c ?? null, c.relu),
          out,
          tol(1e-6 * K, 1e-5),
        );
      },
      30,
      backend(),
    );
  });
}

Deno.test("conv2dBackpropFilter (split-K reduction): the same geometries, and long reductions", async () => {
  const bigArb = fc.record({
    batch: fc.integer({ min: 1, max: 3 }),
    groups: fc.constant(1),
    cg: fc.integer({ min: 1, max: 4 }),
    og: fc.integer({ min: 1, max: 6 }),
    h: fc.integer({ min: 16, max: 24 }),
    w: fc.integer({ min: 16, max: 24 }),
    kh: fc.constant(3),
    kw: fc.constant(3),
    stride: fc.constant([1, 1] as [number, number]),
    dilation: fc.constant([1, 1] as [number, number]),
    inputDilation: fc.constant([1, 1] as [number, number]),
    pad: fc.constant([1, 1, 1, 1] as [number, number, number, number]),
    bias: fc.constant(false),
    relu: fc.constant(false),
    seed: seedArb,
  });
  await parity(
    "conv2dBackpropFilter",
    fc.oneof(convArb, bigArb),
    async (s, c) => {
      const xShape = [c.batch, c.cg * c.groups, c.h, c.w];
      const wShape = [c.og * c.groups, c.cg, c.kh, c.kw];
      const g = conv2dGeometry(xShape, wShape, c);
      const dyShape = [g.batch, g.outChannels, g.outHeight, g.outWidth];
      const x = s.input(values(c.seed, size(xShape)), xShape);
      const dy = s.input(values(c.seed + 1, size(dyShape)), dyShape);
      const R = g.batch * g.outHeight * g.outWidth;
      await s.check(
        `conv2dBackpropFilter ${JSON.stringify(c)}`,
        s.gpu.conv2dBackpropFilter(x.g, dy.g, g),
        cpu.conv2dBackpropFilter(x.c, dy.c, g),
        wShape,
        tol(1e-6 * R, 1e-5),
      );
    },
    30,
  );
});

const poolArb = fc
  .record({
    shape: shapeArb(4, 4, 7),
    kernel: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    pad: fc.tuple(fc.nat(1), fc.nat(1), fc.nat(1), fc.nat(1)),
    countIncludePad: fc.boolean(),
    ceil: fc.boolean(),
    seed: seedArb,
  })
  .map((c) => ({
    ...c,
    pad: c.pad.map((p, i) => Math.min(p, Math.floor(c.kernel[i < 2 ? 0 : 1] / 2))) as [
      number,
      number,
      number,
      number,
    ],
  }))
  .filter((c) => {
    try {
      poolGeometry(c.shape, c, c.ceil);
      return true;
    } catch {
      return false;
    }
  });

Deno.test("maxPool2d + argmax + backward (gather): ties, NaN, -inf, overlapping windows (exact)", async () => {
  await parity(
    "maxPool2d",
    poolArb,
    async (s, c) => {
      const g = poolGeometry(c.shape, c, c.ceil);
      const v = values(c.seed, size(c.shape), 0, 3).map(Math.floor);
      v[c.seed % v.length] = Number.NaN;
      v[(c.seed * 3) % v.length] = Number.NEGATIVE_INFINITY;
      const x = s.input(v, c.shape);
      const out = [g.batch, g.channels, g.outHeight, g.outWidth];
      const gp = s.gpu.maxPool2d(x.g, g);
      const cp = cpu.maxPool2d(x.c, g);
      await s.check(`maxPool2d ${JSON.stringify(c)}`, gp.out, cp.out, out, EXACT);
      const am = s.wrap(gp.argmax, cp.argmax, out, "int32");
      await s.check(
        `maxPool2d argmax ${JSON.stringify(c)}`,
        s.gpu.cast(am.g, "int32"),
        cpu.cast(am.c, "int32"),
        out,
        EXACT,
        "int32",
      );
      const dy = s.input(values(c.seed + 1, size(out)), out);
      await s.check(
        `maxPool2dBackward ${JSON.stringify(c)}`,
        s.gpu.maxPool2dBackward(dy.g, am.g, g),
        cpu.maxPool2dBackward(dy.c, am.c, g),
        c.shape,
        EXACT,
      );
    },
    30,
  );
});

Deno.test("avgPool2d + backward (gather): ceil mode, count_include_pad both ways", async () => {
  await parity(
    "avgPool2d",
    poolArb,
    async (s, c) => {
      const g = poolGeometry(c.shape, c, c.ceil);
      const x = s.input(values(c.seed, size(c.shape)), c.shape);
      const out = [g.batch, g.channels, g.outHeight, g.outWidth];
      await s.check(
        `avgPool2d ${JSON.stringify(c)}`,
        s.gpu.avgPool2d(x.g, g),
        cpu.avgPool2d(x.c, g),
        out,
        tol(1e-6, 1e-6),
      );
      const dy = s.input(values(c.seed + 1, size(out)), out);
      await s.check(
        `avgPool2dBackward ${JSON.stringify(c)}`,
        s.gpu.avgPool2dBackward(dy.g, g),
        cpu.avgPool2dBackward(dy.c, g),
        c.shape,
        tol(1e-6, 1e-6),
      );
    },
    30,
  );
});

Deno.test("axisMap: resize / adaptive-pool maps and their transposes on any axis", async () => {
  const arb = shapeArb(1, 4, 6).chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.nat(shape.length - 1),
      fc.integer({ min: 1, max: 9 }),
      fc.constantFrom("bilinear", "bicubic", "adaptive"),
      fc.boolean(),
      seedArb,
    ),
  );
  await parity(
    "axisMap",
    arb,
    async (s, [shape, axis, outLen, kind, transposed, seed]) => {
      const inLen = shape[axis];
      let map =
        kind === "bilinear"
          ? bilinearMap(inLen, outLen)
          : kind === "bicubic"
            ? bicubicMap(inLen, outLen)
            : adaptiveAvgPoolMap(inLen, outLen);
      if (transposed) {
        // The transposed map goes outLen -> inLen; apply it to a tensor whose axis has outLen.
        map = transposeAxisMap(map);
      }
      const xShape = shape.map((d, i) => (i === axis ? map.inLength : d));
      const out = shape.map((d, i) => (i === axis ? map.outLength : d));
      const x = s.input(values(seed, size(xShape)), xShape);
      await s.check(
        `axisMap ${kind}${transposed ? "^T" : ""} [${xShape}] axis ${axis}`,
        s.gpu.axisMap(x.g, axis, map),
        cpu.axisMap(x.c, axis, map),
        out,
        tol(1e-6, 1e-6),
      );
    },
    25,
  );
});

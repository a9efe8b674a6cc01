/**
 * nearest upsample + conv, forward and input gradient, three ways at the model rows' shapes:
 * "plain" conv2d(upsample(x)), "merged" (one low-res conv over every phase's merged taps, then
 * depth-to-space) and "phases" (one low-res conv per phase with only its own taps). GFLOP counts
 * the plain form's multiply-adds for every column, so the columns compare time. How the
 * per-phase threshold in src/ops/upsample-conv.ts was chosen:
 * `esbuild bench/upsample-conv.ts --bundle --platform=node --format=esm --outfile=/tmp/uc.mjs &&
 * node /tmp/uc.mjs [reps]`.
 */
import { valueAndGrad } from "../src/autodiff/grad.ts";
import type { Tensor } from "../src/autodiff/tensor.ts";
import { tidy } from "../src/autodiff/tidy.ts";
import { helperReady } from "../src/kernels/cpu/wasm/gemm-threads.ts";
import { gemmSimd } from "../src/kernels/cpu/wasm/gemm-wasm.ts";
import { mul } from "../src/ops/binary.ts";
import { conv2d } from "../src/ops/conv.ts";
import { tensor } from "../src/ops/creation.ts";
import { sum } from "../src/ops/reduce.ts";
import { upsample } from "../src/ops/resize.ts";
import { nearestUpsampleConv2d, setPhaseSplitMinOut } from "../src/ops/upsample-conv.ts";
import { clock, rng } from "./common.ts";

interface Case {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  r: number;
}

const CASES: Case[] = [
  { name: "CLI net up1 8x32x64x64 x2 3x3 ->32", x: [8, 32, 64, 64], w: [32, 32, 3, 3], r: 2 },
  { name: "CLI net up2 8x32x128x128 x2 3x3 ->32", x: [8, 32, 128, 128], w: [32, 32, 3, 3], r: 2 },
  { name: "8x64x32x32 x2 3x3 ->64", x: [8, 64, 32, 32], w: [64, 64, 3, 3], r: 2 },
  { name: "8x64x32x32 x2 3x3 ->16", x: [8, 64, 32, 32], w: [16, 64, 3, 3], r: 2 },
  { name: "8x64x32x32 x2 3x3 ->8", x: [8, 64, 32, 32], w: [8, 64, 3, 3], r: 2 },
  { name: "RDN slim SR 8x48x32x32 x4 3x3 ->3", x: [8, 48, 32, 32], w: [3, 48, 3, 3], r: 4 },
];

const WAYS = ["plain", "merged", "phases"] as const;

function fill(shape: number[], seed: number): Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Float32Array.from({ length: n }, () => r() - 0.5),
    shape,
  );
}

function run(
  c: Case,
  way: (typeof WAYS)[number],
  x: Tensor,
  w: Tensor,
  ct: Tensor,
): { wall: number; cpu: number } {
  setPhaseSplitMinOut(way === "phases" ? 1 : Number.POSITIVE_INFINITY);
  const f =
    way === "plain"
      ? (t: Tensor) => conv2d(upsample(t, c.r, "nearest"), w, { padding: "same" })
      : (t: Tensor) => nearestUpsampleConv2d(t, w, c.r, { padding: "same" });
  const { wall, cpu } = clock(() =>
    tidy(() => {
      const { value, grad } = valueAndGrad((t) => sum(mul(f(t), ct)))(x);
      grad.dataSync();
      value.dispose();
    }),
  );
  return { wall, cpu };
}

const reps = Number(process.argv[2] ?? 5);
await helperReady(gemmSimd());
console.log(
  "upsample + conv, forward + input gradient, wall ms / CPU ms (both threads; GFLOP/s of the plain form's work per wall second)",
);
console.log(`${"case".padEnd(40)} ${WAYS.map((w) => w.padStart(25)).join(" ")}`);
for (const c of CASES) {
  const [n, ch, h, wd] = c.x;
  const [o, , kh, kw] = c.w;
  const x = fill(c.x, 1);
  const w = fill(c.w, 2);
  const ct = fill([n, o, h * c.r, wd * c.r], 3);
  const flop = 2 * 2 * n * o * ch * kh * kw * h * c.r * wd * c.r;
  const times: Record<string, { wall: number; cpu: number }[]> = {
    plain: [],
    merged: [],
    phases: [],
  };
  for (const way of WAYS) run(c, way, x, w, ct);
  // Interleaved, so machine load shifts all three alike.
  for (let i = 0; i < reps; i++) for (const way of WAYS) times[way].push(run(c, way, x, w, ct));
  const cells = WAYS.map((way) => {
    const mid = (k: "wall" | "cpu") =>
      times[way].map((t) => t[k]).sort((a, b) => a - b)[Math.floor(reps / 2)];
    const t = mid("wall");
    return `${t.toFixed(1).padStart(7)} / ${mid("cpu").toFixed(1).padStart(7)} (${(flop / t / 1e6).toFixed(1).padStart(5)})`;
  });
  console.log(`${c.name.padEnd(40)} ${cells.join(" ")}`);
  for (const t of [x, w, ct]) t.dispose();
}
setPhaseSplitMinOut(16);

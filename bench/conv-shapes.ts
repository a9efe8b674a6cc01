/**
 * Micro-bench of the CPU conv kernel at the LAM profile's shapes (RDN slim x4: batch 8 of 64
 * channels, 3x3 and 5x5 kernels, 16x16 and 32x32 maps): GFLOP/s from wall time and from process
 * CPU time (covers the helper thread), median of runs.
 * `node /tmp/conv-shapes.mjs [reps]` after `esbuild bench/conv-shapes.ts --bundle --platform=node
 * --format=esm --outfile=/tmp/conv-shapes.mjs`.
 */
import { conv2dGeometry } from "../src/kernels/conv-geometry.ts";
import { conv2dForward } from "../src/kernels/cpu/conv2d.ts";
import { helperReady } from "../src/kernels/cpu/wasm/gemm-threads.ts";
import { gemmSimd } from "../src/kernels/cpu/wasm/gemm-wasm.ts";
import { rng } from "./common.ts";

interface Case {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
}

const CASES: Case[] = [
  { name: "8x64x16x16 3x3 ->64", x: [8, 64, 16, 16], w: [64, 64, 3, 3] },
  { name: "8x64x32x32 3x3 ->64", x: [8, 64, 32, 32], w: [64, 64, 3, 3] },
  { name: "8x64x32x32 5x5 ->64", x: [8, 64, 32, 32], w: [64, 64, 5, 5] },
  { name: "8x68x32x32 1x1 ->64", x: [8, 68, 32, 32], w: [64, 68, 1, 1] },
  { name: "8x64x32x32 3x3 ->32", x: [8, 64, 32, 32], w: [32, 64, 3, 3] },
];

function fill(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() - 0.5);
}

const reps = Number(process.argv[2] ?? 7);
await helperReady(gemmSimd());
for (const c of CASES) {
  const [N, C, H, W] = c.x;
  const [O, , kh, kw] = c.w;
  const x = fill(N * C * H * W, 1);
  const w = fill(O * C * kh * kw, 2);
  const b = fill(O, 3);
  const pad = (kh - 1) / 2;
  const g = conv2dGeometry(c.x, c.w, {
    stride: [1, 1],
    dilation: [1, 1],
    inputDilation: [1, 1],
    pad: [pad, pad, pad, pad],
    groups: 1,
  });
  const flop = 2 * N * O * C * kh * kw * g.outHeight * g.outWidth;
  for (let i = 0; i < 2; i++) conv2dForward(x, w, g, b, false);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    conv2dForward(x, w, g, b, false);
    const t1 = performance.now();
    const d = process.cpuUsage(c0);
    wall.push(t1 - t0);
    cpu.push((d.user + d.system) / 1000);
  }
  const med = (a: number[]) => a.sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const mw = med(wall);
  const mc = med(cpu);
  console.log(
    `${c.name.padEnd(22)} wall ${mw.toFixed(2).padStart(8)} ms ${(flop / mw / 1e6).toFixed(1).padStart(5)} GF/s | cpu ${mc.toFixed(2).padStart(8)} ms ${(flop / mc / 1e6).toFixed(1).padStart(5)} GF/s`,
  );
}

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
  /** Input dilation and pads of an input gradient (default: a forward conv, "same" pads). */
  inputDilation?: [number, number];
  pad?: [number, number, number, number];
}

const CASES: Case[] = [
  // The LAM profile's RDN slim x4 (64 channels) at 16x16 and 32x32 LR.
  { name: "8x64x16x16 3x3 ->64", x: [8, 64, 16, 16], w: [64, 64, 3, 3] },
  { name: "8x64x32x32 3x3 ->64", x: [8, 64, 32, 32], w: [64, 64, 3, 3] },
  { name: "8x64x32x32 5x5 ->64", x: [8, 64, 32, 32], w: [64, 64, 5, 5] },
  { name: "8x68x32x32 1x1 ->64", x: [8, 68, 32, 32], w: [64, 68, 1, 1] },
  { name: "8x64x32x32 3x3 ->32", x: [8, 64, 32, 32], w: [32, 64, 3, 3] },
  // The CLI LAM bench's RDN-like net (g0 32, growth 16) at 64x64 LR: growth layer, up convs.
  { name: "8x64x64x64 3x3 ->16", x: [8, 64, 64, 64], w: [16, 64, 3, 3] },
  { name: "8x32x256x256 3x3 ->32", x: [8, 32, 256, 256], w: [32, 32, 3, 3] },
  // The IG bench's ResNet (widths 16/32/64 on 28x28, batch 10).
  { name: "10x16x28x28 3x3 ->16", x: [10, 16, 28, 28], w: [16, 16, 3, 3] },
  { name: "10x64x7x7 3x3 ->64", x: [10, 64, 7, 7], w: [64, 64, 3, 3] },
  {
    name: "dx s2 10x64x7->14 3x3",
    x: [10, 64, 7, 7],
    w: [32, 64, 3, 3],
    inputDilation: [2, 2],
    pad: [1, 2, 1, 2],
  },
  // The input gradient of a stride-2 3x3 conv from 32x32 to 16x16 (phase-split path).
  {
    name: "dx s2 8x64x16->32 3x3",
    x: [8, 64, 16, 16],
    w: [64, 64, 3, 3],
    inputDilation: [2, 2],
    pad: [1, 2, 1, 2],
  },
];

function fill(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() - 0.5);
}

const reps = Number(process.argv[2] ?? 7);
await helperReady(gemmSimd());
// Every case runs once untimed first, so the first timed case is not paying for tier-up.
for (const pass of ["warm-up", "timed"]) {
  for (const c of CASES)
    if (pass === "warm-up") runCase(c, 0);
    else runCase(c, reps);
}

function runCase(c: Case, reps: number): void {
  const [N, C, H, W] = c.x;
  const [O, , kh, kw] = c.w;
  const x = fill(N * C * H * W, 1);
  const w = fill(O * C * kh * kw, 2);
  const b = fill(O, 3);
  const p = (kh - 1) / 2;
  const g = conv2dGeometry(c.x, c.w, {
    stride: [1, 1],
    dilation: [1, 1],
    inputDilation: c.inputDilation ?? [1, 1],
    pad: c.pad ?? [p, p, p, p],
    groups: 1,
  });
  // Multiply-adds that meet real input pixels (the structural zeros of input dilation skipped).
  const [idh, idw] = c.inputDilation ?? [1, 1];
  const flop = (2 * N * O * C * kh * kw * g.outHeight * g.outWidth) / (idh * idw);
  for (let i = 0; i < 3; i++) conv2dForward(x, w, g, b, false);
  if (reps === 0) return;
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
    `${c.name.padEnd(24)} wall ${mw.toFixed(2).padStart(8)} ms ${(flop / mw / 1e6).toFixed(1).padStart(5)} GF/s | cpu ${mc.toFixed(2).padStart(8)} ms ${(flop / mc / 1e6).toFixed(1).padStart(5)} GF/s`,
  );
}

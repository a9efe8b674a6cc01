/**
 * The wasm GEMM macro-kernel (gemm-simd.ts) at several register tiles (MR rows x 8 columns),
 * with and without relaxed_madd (where available), in cache, interleaved in one process: GFLOP/s from process CPU time, median over rounds.
 * For choosing WASM_MR on a given machine: `esbuild bench/gemm-tile.ts --bundle
 * --platform=node --format=esm --outfile=/tmp/gemm-tile.mjs && node /tmp/gemm-tile.mjs`.
 */
import { instantiateGemmSimd } from "../src/kernels/cpu/wasm/gemm-simd.ts";
import { relaxedSimd } from "../src/kernels/cpu/wasm/relaxed-simd.ts";

const TILES = [3, 4, 5, 6, 8];
const KC = 192;
/** 16 four-column panels: the B block (48 KiB) stays in L1/L2 like one thread's chunk. */
const NP = 16;
const ROUNDS = 7;
const CALLS = 200;

const fmaModes = relaxedSimd() ? [false, true] : [false];
const kernels = TILES.flatMap((mr) => fmaModes.map((fma) => ({ mr, fma }))).map(({ mr, fma }) => {
  const s = instantiateGemmSimd(mr, false, fma);
  if (s === null) throw new Error("wasm SIMD is not available");
  s.memory.grow(200);
  const f = new Float32Array(s.memory.buffer);
  for (let i = 0; i < f.length; i++) f[i] = (i % 7) * 0.01;
  return { mr, fma, s, mp: Math.ceil(64 / mr), rates: [] as number[] };
});
const A = 0;
const B = 4 << 20;
const C = 8 << 20;
for (let round = 0; round < ROUNDS; round++) {
  for (const k of kernels) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < CALLS; i++) k.s.gebp(KC, NP, k.mp, A, B, C, NP * 16, 1);
    const d = process.cpuUsage(c0);
    const flop = 2 * KC * NP * 4 * k.mp * k.mr * CALLS;
    k.rates.push(flop / ((d.user + d.system) * 1e3));
  }
}
for (const k of kernels) {
  const r = k.rates.sort((a, b) => a - b);
  console.log(
    `${k.mr}x8 tile${k.fma ? " fma" : "    "}: ${r[Math.floor(r.length / 2)].toFixed(1)} GFLOP/s (CPU time; min ${r[0].toFixed(1)}, max ${r[r.length - 1].toFixed(1)})`,
  );
}

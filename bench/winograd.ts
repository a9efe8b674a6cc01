/**
 * The CPU conv's Winograd path (src/kernels/cpu/conv2d-winograd.ts) against the path it replaces
 * (direct wasm kernel for few output channels, else im2col + GEMM), forward with bias, at the
 * model rows' layer shapes, interleaved call by call so machine load shifts both alike: with
 * F(2x2, .) tiles and with F(4x4, 3x3) forced (setWinograd4x4Min), each with the GEMM split by
 * output channels where conv2dForward splits it (256 x 256 channels and up). How the thresholds
 * in winogradPays and winogradTile were chosen:
 * `esbuild bench/winograd.ts --bundle --platform=node --format=esm --outfile=/tmp/wg.mjs &&
 * node /tmp/wg.mjs`.
 */
import { conv2dGeometry } from "../src/kernels/conv-geometry.ts";
import { recycle } from "../src/kernels/cpu/buffers.ts";
import { conv2dForward } from "../src/kernels/cpu/conv2d.ts";
import { setWinograd4x4Min, setWinogradMinOut } from "../src/kernels/cpu/conv2d-winograd.ts";
import { helperReady } from "../src/kernels/cpu/wasm/gemm-threads.ts";
import { gemmSimd } from "../src/kernels/cpu/wasm/gemm-wasm.ts";
import { clock, rng } from "./common.ts";

/** [N, C, H, W, K, kernel size, where the shape comes from]. */
const CASES: [number, number, number, number, number, number, string][] = [
  [8, 32, 256, 256, 32, 3, "CLI net HR conv"],
  [8, 32, 256, 256, 3, 3, "CLI net to RGB"],
  [8, 3, 256, 256, 32, 3, "its input gradient"],
  [8, 32, 128, 128, 32, 2, "CLI net x2 phase (2x2)"],
  [8, 64, 64, 64, 16, 3, "CLI net dense layer"],
  [8, 32, 64, 64, 32, 3, "CLI net fusion"],
  [10, 64, 56, 56, 64, 3, "ResNet-18 layer1"],
  [10, 128, 28, 28, 128, 3, "ResNet-18 layer2"],
  [10, 256, 14, 14, 256, 3, "ResNet-18 layer3"],
  [10, 512, 7, 7, 512, 3, "ResNet-18 layer4"],
  [1, 512, 7, 7, 512, 3, "layer4, batch 1"],
  [10, 16, 28, 28, 16, 3, "IG ResNet 28x28"],
  [10, 32, 14, 14, 32, 3, "IG ResNet 28x28, stage 2"],
  [10, 64, 7, 7, 64, 3, "IG ResNet 28x28, stage 3"],
];

await helperReady(gemmSimd());
const reps = Number(process.argv[2] ?? 7);
console.log(
  "conv forward + bias, wall ms / CPU ms (both threads), median; ratios = GEMM / Winograd wall",
);
console.log(
  "| shape | kernel | from | GEMM/direct | F(2x2) | F(4x4) | F(2x2) ratio | F(4x4) ratio |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const [N, C, H, W, K, k, from] of CASES) {
  const pad = k === 3 ? 1 : 0;
  const g = conv2dGeometry([N, C, H, W], [K, C, k, k], {
    stride: [1, 1],
    pad: [pad, pad, pad, pad],
    dilation: [1, 1],
    inputDilation: [1, 1],
    groups: 1,
  });
  const r = rng(N * C + K);
  const x = Float32Array.from({ length: N * C * H * W }, r);
  const w = Float32Array.from({ length: K * C * k * k }, () => r() - 0.5);
  const b = Float32Array.from({ length: K }, r);
  type T = { wall: number; cpu: number };
  const times: { gemm: T[]; wino: T[]; wino4: T[] } = { gemm: [], wino: [], wino4: [] };
  const ways = k === 3 ? (["gemm", "wino", "wino4"] as const) : (["gemm", "wino"] as const);
  const prev4 = setWinograd4x4Min(Number.POSITIVE_INFINITY);
  for (let i = 0; i < reps + 2; i++) {
    for (const way of ways) {
      setWinogradMinOut(way === "gemm" ? Number.POSITIVE_INFINITY : 1);
      setWinograd4x4Min(way === "wino4" ? 1 : Number.POSITIVE_INFINITY);
      const t = clock(() => conv2dForward(x, w, g, b, false));
      recycle(t.value);
      if (i >= 2) times[way].push(t);
    }
  }
  setWinogradMinOut(1);
  setWinograd4x4Min(prev4);
  const mid = (a: { wall: number; cpu: number }[], key: "wall" | "cpu") =>
    a.map((t) => t[key]).sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const cell = (a: { wall: number; cpu: number }[]) =>
    `${mid(a, "wall").toFixed(2)} / ${mid(a, "cpu").toFixed(1)}`;
  const ratio = (t: T[]) =>
    t.length === 0 ? "-" : (mid(times.gemm, "wall") / mid(t, "wall")).toFixed(2);
  const cell4 = times.wino4.length === 0 ? "-" : cell(times.wino4);
  console.log(
    `| [${N},${C},${H},${W}] -> ${K} | ${k}x${k} | ${from} | ${cell(times.gemm)} | ${cell(times.wino)} | ${cell4} | ${ratio(times.wino)} | ${ratio(times.wino4)} |`,
  );
}

/**
 * The input gradient of strided convs on the CPU, through the conv2dBackpropInput op: the phase
 * split (stride^2 small convs, conv2d-phases.ts) against one GEMM + col2im (conv2d-col2im.ts),
 * alternating in one process, median wall ms; the results are compared before timing. Shapes:
 * ResNet-18's strided convs at batch 10 (IG's batch) and small ones.
 * `esbuild bench/strided-input-grad.ts --bundle --platform=node --format=esm --packages=external
 * --outfile=/tmp/sig.mjs && node /tmp/sig.mjs [reps]`.
 */
import { setCol2imMinDepth } from "../src/kernels/cpu/conv2d-col2im.ts";
import { helperReady } from "../src/kernels/cpu/wasm/gemm-threads.ts";
import { gemmSimd } from "../src/kernels/cpu/wasm/gemm-wasm.ts";
import { convInputGrad } from "../src/ops/conv.ts";
import { tensor } from "../src/ops/creation.ts";
import { maxRelDiff, rng } from "./common.ts";

/** The forward conv: batch, in channels, square input size, out channels, kernel, stride, pad. */
type Case = [N: number, C: number, H: number, O: number, k: number, stride: number, pad: number];

const CASES: Case[] = [
  [10, 3, 224, 64, 7, 2, 3],
  [10, 64, 56, 128, 3, 2, 1],
  [10, 128, 28, 256, 3, 2, 1],
  [10, 256, 14, 512, 3, 2, 1],
  [10, 64, 56, 128, 1, 2, 0],
  [10, 128, 28, 256, 1, 2, 0],
  [10, 256, 14, 512, 1, 2, 0],
  [1, 16, 16, 32, 3, 2, 1],
  [10, 1, 28, 16, 3, 2, 1],
  [2, 3, 64, 8, 5, 2, 2],
];

const reps = Number(process.argv[2] ?? 9);
await helperReady(gemmSimd());
console.log("| forward conv | phase split ms | col2im ms | col2im / phases | max rel diff |");
console.log("| --- | --- | --- | --- | --- |");
for (const [N, C, H, O, k, s, p] of CASES) {
  const Ho = Math.floor((H + 2 * p - k) / s) + 1;
  const r = rng(N * C + O);
  const dy = tensor(
    Float32Array.from({ length: N * O * Ho * Ho }, () => r() - 0.5),
    [N, O, Ho, Ho],
  );
  const w = tensor(
    Float32Array.from({ length: O * C * k * k }, () => r() - 0.5),
    [O, C, k, k],
  );
  const params = {
    stride: [s, s] as [number, number],
    dilation: [1, 1] as [number, number],
    inputDilation: [1, 1] as [number, number],
    pad: [p, p, p, p] as [number, number, number, number],
    groups: 1,
  };
  const run = (depth: number) => {
    setCol2imMinDepth(depth);
    const t0 = performance.now();
    const gx = convInputGrad(dy, w, params, [N, C, H, H]);
    const v = Float32Array.from(gx.dataSync() as Float32Array);
    gx.dispose();
    return { ms: performance.now() - t0, v };
  };
  const diff = maxRelDiff(run(1).v, run(Number.POSITIVE_INFINITY).v);
  const times = { phases: [] as number[], col2im: [] as number[] };
  for (let i = 0; i < reps; i++) {
    times.phases.push(run(Number.POSITIVE_INFINITY).ms);
    times.col2im.push(run(1).ms);
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const [a, b] = [med(times.phases), med(times.col2im)];
  console.log(
    `| ${N}x${C}x${H}x${H} ${k}x${k} s${s} -> ${O} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(b / a).toFixed(2)} | ${diff.toExponential(1)} |`,
  );
  dy.dispose();
  w.dispose();
}
setCol2imMinDepth(1);

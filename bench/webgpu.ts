/**
 * WebGPU benchmark: one 3x3 64 -> 64 conv on a 64x64 image (forward, input gradient, filter
 * gradient) and a small SR-like network (forward, forward + input gradient), in GFLOP/s, for
 * both matmul/conv variants (workgroup-memory tiles and barrier-free register tiles).
 *
 *   npx deno run -A bench/webgpu.ts                     # Deno, navigator.gpu
 *   npx esbuild bench/webgpu.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=dist/bench-webgpu.mjs && node dist/bench-webgpu.mjs   # Node, `webgpu` package
 *
 * Options: --runs N (timed runs per median, default 5), --quick (fewer runs, smaller SR input).
 * Numbers from a software adapter (llvmpipe/lavapipe, SwiftShader) say nothing about GPUs.
 */
import * as s from "../src/index.ts";
import {
  createWebGPUBackend,
  isSoftwareAdapter,
  type WebGPUBackend,
} from "../src/kernels/webgpu/index.ts";
import { convInputGrad } from "../src/ops/conv.ts";

const argv: string[] =
  (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as { process?: { argv: string[] } }).process?.argv.slice(2) ??
  [];
const quick = argv.includes("--quick");
const runsAt = argv.indexOf("--runs");
const RUNS = runsAt >= 0 ? Number(argv[runsAt + 1]) : quick ? 2 : 5;

/** Median wall time (s) of fn's GPU work: record, submit, wait for the queue to drain. */
async function time(gpu: WebGPUBackend, fn: () => s.Tensor | s.Tensor[]): Promise<number> {
  const once = async () => {
    const t0 = performance.now();
    const out = s.withBackend(gpu, () => s.tidy(fn));
    gpu.flush();
    await gpu.device.queue.onSubmittedWorkDone();
    const dt = (performance.now() - t0) / 1000;
    s.dispose(out);
    return dt;
  };
  await once(); // pipelines compile, pool warms up
  const ts: number[] = [];
  for (let i = 0; i < RUNS; i++) ts.push(await once());
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

/** 2 x multiply-adds of a conv (the forward's FLOPs). */
const convFlops = (n: number, cin: number, cout: number, h: number, w: number, k: number) =>
  2 * n * cin * cout * h * w * k * k;

interface Row {
  name: string;
  gflop: number;
  seconds: number;
}

async function convRows(gpu: WebGPUBackend): Promise<Row[]> {
  const [x, w, dy] = s.withBackend(gpu, () =>
    [
      s.randomNormal([1, 64, 64, 64], { seed: 1 }),
      s.randomNormal([64, 64, 3, 3], { seed: 2 }),
      s.randomNormal([1, 64, 64, 64], { seed: 3 }),
    ].map(s.keep),
  );
  const f = convFlops(1, 64, 64, 64, 64, 3);
  const p = {
    stride: [1, 1],
    dilation: [1, 1],
    inputDilation: [1, 1],
    pad: [1, 1, 1, 1],
    groups: 1,
  } as const;
  const rows = [
    {
      name: "conv 3x3 64->64 64x64 forward",
      gflop: f / 1e9,
      seconds: await time(gpu, () => s.conv2d(x, w, { padding: 1 })),
    },
    {
      name: "conv 3x3 64->64 64x64 input gradient",
      gflop: f / 1e9,
      seconds: await time(gpu, () => convInputGrad(dy, w, p, x.shape)),
    },
    {
      name: "conv 3x3 64->64 64x64 forward + input gradient (grad)",
      gflop: (2 * f) / 1e9,
      seconds: await time(gpu, () =>
        s.grad((v) => s.sum(s.mul(s.conv2d(v, w, { padding: 1 }), dy)))(x),
      ),
    },
  ];
  s.dispose([x, w, dy]);
  return rows;
}

/** SR-like net: 3 -> 32 head, 4 x (32 -> 32, ReLU), 32 -> 12 tail, pixel shuffle x2. */
async function srRows(gpu: WebGPUBackend): Promise<Row[]> {
  const size = quick ? 32 : 64;
  const ws = s.withBackend(gpu, () =>
    [
      s.randomNormal([32, 3, 3, 3], { seed: 10, std: 0.2 }),
      ...[0, 1, 2, 3].map((i) => s.randomNormal([32, 32, 3, 3], { seed: 11 + i, std: 0.05 })),
      s.randomNormal([12, 32, 3, 3], { seed: 20, std: 0.05 }),
    ].map(s.keep),
  );
  const x = s.withBackend(gpu, () => s.keep(s.randomUniform([1, 3, size, size], { seed: 30 })));
  const net = (v: s.Tensor) => {
    let h = s.conv2d(v, ws[0], { padding: 1, relu: true });
    for (let i = 1; i <= 4; i++) h = s.conv2d(h, ws[i], { padding: 1, relu: true });
    return s.pixelShuffle(s.conv2d(h, ws[5], { padding: 1 }), 2);
  };
  const f =
    convFlops(1, 3, 32, size, size, 3) +
    4 * convFlops(1, 32, 32, size, size, 3) +
    convFlops(1, 32, 12, size, size, 3);
  // The input gradient needs every layer's input gradient (about the forward's FLOPs again).
  const rows = [
    {
      name: `SR-like net (6 convs, x2) ${size}x${size} forward`,
      gflop: f / 1e9,
      seconds: await time(gpu, () => net(x)),
    },
    {
      name: `SR-like net ${size}x${size} forward + input gradient`,
      gflop: (2 * f) / 1e9,
      seconds: await time(gpu, () => s.grad((v) => s.sum(net(v)))(x)),
    },
  ];
  s.dispose([...ws, x]);
  return rows;
}

const base = await createWebGPUBackend();
const software = isSoftwareAdapter({ description: base.adapterDescription });
console.log(
  `adapter: ${base.adapterDescription}${software ? "  (SOFTWARE ADAPTER: these numbers say nothing about GPUs)" : ""}`,
);
console.log(
  `median of ${RUNS} runs after one warm-up; tfjs-backend-webgpu is not installed, so no peer rows`,
);
console.log();
console.log(
  `${"benchmark".padEnd(58)} ${"tiles".padEnd(10)} ${"ms".padStart(9)} ${"GFLOP/s".padStart(9)}`,
);
for (const tiling of ["shared", "registers"] as const) {
  const gpu = await createWebGPUBackend({ device: base.device, tiling });
  for (const r of [...(await convRows(gpu)), ...(await srRows(gpu))]) {
    console.log(
      `${r.name.padEnd(58)} ${tiling.padEnd(10)} ${(r.seconds * 1000).toFixed(1).padStart(9)} ${(r.gflop / r.seconds).toFixed(2).padStart(9)}`,
    );
  }
}

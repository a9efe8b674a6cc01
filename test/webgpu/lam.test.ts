/**
 * LAM (`lam` from src/attribution/lam) on the WebGPU backend against the CPU backend, on small
 * seeded conv SR networks: a pixel-shuffle x2 net on a 12x12 LR input and an RDN-like net
 * (nearest x4 upsampling before its last conv, so its output has exactly flat 2x2 spots) on 8x8,
 * fold 10, batch 4 and batch 10. For each, on WebGPU:
 *   - the map matches the CPU map: max |gpu - cpu| <= 2e-5 * max |cpu| (MAP_TOL);
 *   - the completeness delta matches: |gpu - cpu| <= 1e-5 * (|D(input)| + |D(baseline)|);
 *   - D at the input and the baseline match to the same relative tolerance;
 *   - DI (diffusion index, 0..100) matches to 1e-3.
 * And a window over an exactly flat output patch (nearest x4 as the last op, window inside one
 * 4x4 block) gives a finite (all-zero) map and D = 0 on WebGPU: the detector's sqrt takes
 * derivative 0 at 0 there too. Not a vitest file: run with
 *   bash scripts/test-webgpu.sh (it runs everything in test/webgpu/)
 */
import { diffusionIndex } from "../../src/attribution/lam/gini.ts";
import { type LamResult, lam } from "../../src/attribution/lam/lam.ts";
import type { LamWindow } from "../../src/attribution/lam/window.ts";
import * as s from "../../src/index.ts";
import type { Backend } from "../../src/kernels/backend.ts";
import { gpuBackend } from "./gpu.ts";

/** Map tolerance relative to max |CPU map| (float32 sums in another order; measured 2-3e-7). */
const MAP_TOL = 2e-5;
/** Delta and detector values, relative to |D(input)| + |D(baseline)|. */
const SCORE_TOL = 1e-5;
/** Diffusion index (0..100), absolute. */
const DI_TOL = 1e-3;
const FOLD = 10;

type Net = (x: s.Tensor) => s.Tensor;

/** conv 3->8 + ReLU, conv 8->8 + ReLU, conv 8->12, pixel shuffle x2. */
function shuffleNet(): Net {
  const w1 = s.randomNormal([8, 3, 3, 3], { seed: 101, std: 0.4 });
  const b1 = s.randomNormal([8], { seed: 102, std: 0.1 });
  const w2 = s.randomNormal([8, 8, 3, 3], { seed: 103, std: 0.25 });
  const w3 = s.randomNormal([12, 8, 3, 3], { seed: 104, std: 0.25 });
  return (x) => {
    let h = s.conv2d(x, w1, { padding: 1, bias: b1, relu: true });
    h = s.conv2d(h, w2, { padding: 1, relu: true });
    return s.pixelShuffle(s.conv2d(h, w3, { padding: 1 }), 2);
  };
}

/** RDN-like: conv 3->8 + ReLU, nearest x4, conv 8->3 (flat 2x2 spots inside every 4x4 block). */
function nearestNet(): Net {
  const w1 = s.randomNormal([8, 3, 3, 3], { seed: 201, std: 0.4 });
  const w2 = s.randomNormal([3, 8, 3, 3], { seed: 202, std: 0.25 });
  return (x) =>
    s.conv2d(s.upsample(s.conv2d(x, w1, { padding: 1, relu: true }), 4), w2, { padding: 1 });
}

/** conv 3->8 + ReLU, conv 8->3, then nearest x4 as the last op: the output is flat per 4x4 block. */
function flatNet(): Net {
  const w1 = s.randomNormal([8, 3, 3, 3], { seed: 301, std: 0.4 });
  const w2 = s.randomNormal([3, 8, 3, 3], { seed: 302, std: 0.25 });
  return (x) =>
    s.upsample(s.conv2d(s.conv2d(x, w1, { padding: 1, relu: true }), w2, { padding: 1 }), 4);
}

interface Case {
  name: string;
  net: () => Net;
  lr: number;
  window: LamWindow;
  /** An SR pixel [row, col] in the window whose forward differences are exactly 0 (sqrt at 0). */
  flatAt?: [number, number];
}

const CASES: Case[] = [
  { name: "pixel shuffle x2, 12x12 LR", net: shuffleNet, lr: 12, window: { x: 8, y: 6, size: 8 } },
  {
    name: "nearest x4 + conv, 8x8 LR",
    net: nearestNet,
    lr: 8,
    window: { x: 10, y: 12, size: 8 },
    flatAt: [13, 13],
  },
];

interface Run {
  map: Float32Array;
  delta: number;
  atInput: number;
  atBaseline: number;
  di: number;
}

/** LAM of a fresh copy of the net (weights from seeds) with everything on `backend`. */
async function runLam(
  backend: Backend,
  net: () => Net,
  side: number,
  window: LamWindow,
  batch: number,
  flatAt?: [number, number],
): Promise<Run> {
  const saved = s.getBackend();
  s.setBackend(backend);
  try {
    const model = net();
    const lr = s.randomUniform([1, 3, side, side], { seed: 7 });
    if (flatAt) await expectFlatSpot(model, lr, flatAt, backend.name);
    const r: LamResult = await lam(model, lr, { window, fold: FOLD, batch });
    if (r.map.backend !== backend)
      throw new Error(`the map is on ${r.map.backend.name}, expected ${backend.name}`);
    const map = Float32Array.from(await r.map.data());
    r.map.dispose();
    lr.dispose();
    for (let i = 0; i < map.length; i++)
      if (!Number.isFinite(map[i])) throw new Error(`map[${i}] is ${map[i]} on ${backend.name}`);
    return {
      map,
      delta: r.delta,
      atInput: r.details.detectorAtInput,
      atBaseline: r.details.detectorAtBaseline,
      di: diffusionIndex(map),
    };
  } finally {
    s.setBackend(saved);
  }
}

/** The SR output at [y, x], [y + 1, x] and [y, x + 1] is equal in every channel: D's sqrt sees 0. */
async function expectFlatSpot(model: Net, lr: s.Tensor, [y, x]: [number, number], where: string) {
  const sr = model(lr);
  const [, c, h, w] = sr.shape;
  const v = await sr.data();
  sr.dispose();
  for (let ch = 0; ch < c; ch++) {
    const at = (yy: number, xx: number) => v[(ch * h + yy) * w + xx];
    if (at(y, x) !== at(y + 1, x) || at(y, x) !== at(y, x + 1))
      throw new Error(`${where}: SR output not flat at channel ${ch}, [${y}, ${x}]`);
  }
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Checks a WebGPU run against a CPU run; returns the map's max diff relative to max |cpu|. */
function compare(what: string, gpu: Run, cpu: Run): number {
  if (gpu.map.length !== cpu.map.length)
    throw new Error(`${what}: ${gpu.map.length} map values on WebGPU, ${cpu.map.length} on CPU`);
  const mag = maxAbs(cpu.map);
  if (!(mag > 0)) throw new Error(`${what}: the CPU map is empty`);
  let diff = 0;
  let at = 0;
  for (let i = 0; i < cpu.map.length; i++) {
    const d = Math.abs(gpu.map[i] - cpu.map[i]);
    if (d > diff) [diff, at] = [d, i];
  }
  const rel = diff / mag;
  if (!(rel <= MAP_TOL)) {
    throw new Error(
      `${what}: map[${at}] is ${gpu.map[at]} on WebGPU, ${cpu.map[at]} on CPU: ${rel.toExponential(2)} of max |map| ${mag} (tolerance ${MAP_TOL})`,
    );
  }
  const scale = Math.abs(cpu.atInput) + Math.abs(cpu.atBaseline);
  for (const k of ["delta", "atInput", "atBaseline"] as const) {
    if (!(Math.abs(gpu[k] - cpu[k]) <= SCORE_TOL * scale))
      throw new Error(`${what}: ${k} is ${gpu[k]} on WebGPU, ${cpu[k]} on CPU (scale ${scale})`);
  }
  if (!(Math.abs(gpu.di - cpu.di) <= DI_TOL))
    throw new Error(`${what}: DI is ${gpu.di} on WebGPU, ${cpu.di} on CPU (tolerance ${DI_TOL})`);
  return rel;
}

for (const c of CASES) {
  Deno.test(`LAM on WebGPU matches the CPU backend: ${c.name}, fold ${FOLD}, batch 4 and 10`, async () => {
    const cpu = s.getBackend();
    const gpu = await gpuBackend();
    const ref = await runLam(cpu, c.net, c.lr, c.window, FOLD, c.flatAt);
    // The CPU map does not depend on the batch size (test/lam); the WebGPU one must match it for both.
    const diffs: string[] = [];
    for (const batch of [4, 10]) {
      const got = await runLam(gpu, c.net, c.lr, c.window, batch, c.flatAt);
      const rel = compare(`${c.name}, batch ${batch}`, got, ref);
      diffs.push(
        `batch ${batch}: map ${rel.toExponential(1)}, delta ${Math.abs(got.delta - ref.delta).toExponential(1)} (of ${ref.delta.toPrecision(4)}), DI ${Math.abs(got.di - ref.di).toExponential(1)} (of ${ref.di.toFixed(3)})`,
      );
    }
    // A non-trivial map: LAM drew on more than a handful of LR pixels.
    const mag = maxAbs(ref.map);
    const used = ref.map.filter((v) => Math.abs(v) > 1e-3 * mag).length;
    if (used < 20) throw new Error(`${c.name}: only ${used} map values above 1e-3 of the max`);
    console.log(`  ${c.name}, |WebGPU - CPU| (map: over max |map|): ${diffs.join("; ")}`);
  });
}

Deno.test("LAM on WebGPU: a window over an exactly flat output patch gives a finite map (sqrt at 0)", async () => {
  const cpu = s.getBackend();
  const gpu = await gpuBackend();
  // Nearest x4 is the last op: SR rows/columns 4..7 x 8..11 are one LR pixel's block, so the window
  // (3 pixels plus the forward difference's extra row and column) sees one constant value.
  const window = { x: 8, y: 4, size: 3 };
  const got = await runLam(gpu, flatNet, 8, window, 4);
  const ref = await runLam(cpu, flatNet, 8, window, 4);
  if (got.atInput !== 0 || got.atBaseline !== 0)
    throw new Error(
      `D over a flat patch is ${got.atInput} / ${got.atBaseline}, expected exactly 0`,
    );
  // sqrt's derivative at 0 is 0, so every path gradient is 0 (not NaN, not infinite).
  if (maxAbs(got.map) !== 0)
    throw new Error(`map over a flat patch: max |map| ${maxAbs(got.map)}, expected 0`);
  if (got.delta !== 0 || ref.delta !== 0 || maxAbs(ref.map) !== 0)
    throw new Error(
      `flat patch: delta ${got.delta} (WebGPU), ${ref.delta} (CPU), CPU max |map| ${maxAbs(ref.map)}`,
    );
});

/**
 * End to end, as a user runs it: `salient lam` on an RDN-like x4 ONNX network (87k parameters,
 * exported by bench/torch_bench.py at bench time), a 64x64 LR PNG, fold 50, batch 8, timed as a
 * whole process (Node start-up, module loading, ONNX import, LAM, writing the .npy and .png),
 * against PyTorch doing the same batched path integral on the same weights (`lamFromPath`: the
 * path images and increments built on the host as bench/tfjs-rdn.ts does, so PyTorch's time
 * leaves out the path and model loading; its process start is not timed either). Start-up:
 * `salient lam --help` and the time from spawn to the first path batch (SALIENT_PROGRESS=lines).
 * The CLI is bundled for the bench (dist/ may be rebuilt while a bench runs), split at its
 * lazy command imports as dist/cli.js is; the map it writes is compared with PyTorch's before anything is timed.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bundleCli } from "../scripts/bundle-cli.ts";
import { encodePng } from "../src/viz/image-io-node.ts";
import { decodeNpy } from "../src/viz/npy.ts";
import {
  benchTmp,
  maxRelDiff,
  nhwcToNchw,
  rng,
  runTorch,
  type Timing,
  writeF32,
} from "./common.ts";
import { TORCH_SCRIPT } from "./rdn.ts";
import { hostBlurPath } from "./tfjs-rdn.ts";

export interface CliLamResult {
  lr: number;
  fold: number;
  batch: number;
  params: number;
  /** Whole `salient lam` process. */
  ours: Timing;
  /** Spawn to the first "LAM path steps" progress line (start-up + model load + first batch). */
  firstStep: Timing;
  /** `salient lam --help`, whole process. */
  help: Timing;
  torch: { threads: number; lam: Timing }[];
  /** Largest |ours - PyTorch| over the largest |PyTorch| of the maps. */
  mapDiff: number | null;
}

let exportedModel: { onnx: string; state: string; params: number } | null | undefined;

/**
 * The RDN-like x4 network as ONNX (and its PyTorch state dict), exported once per bench run by
 * bench/torch_bench.py from a seeded default initialisation; null without PyTorch.
 */
export function rdnLikeOnnx(): { onnx: string; state: string; params: number } | null {
  if (exportedModel !== undefined) return exportedModel;
  const onnx = join(benchTmp(), "rdn-like-x4.onnx");
  const state = join(benchTmp(), "rdn-like-x4.pt");
  const res = runTorch(
    { tasks: ["exportRdnLike"], threads: 1, onnxFile: onnx, stateFile: state },
    TORCH_SCRIPT,
  );
  exportedModel = res && existsSync(onnx) ? { onnx, state, params: res.params as number } : null;
  return exportedModel;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/** The executable bundled where Node still finds the project's packages (scripts/bundle-cli.ts). */
async function benchCli(): Promise<string> {
  const outdir = join(process.cwd(), "node_modules", ".cache", "salient-bench", "cli");
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  return bundleCli(outdir);
}

/** One process: wall ms to exit and to its first path-step progress line. */
function runProcess(
  cli: string,
  args: string[],
): Promise<{ wall: number; first: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = Number.NaN;
    let stdout = "";
    let stderr = "";
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, SALIENT_PROGRESS: "lines" },
    });
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      if (Number.isNaN(first) && /path steps \d+\//.test(String(d))) first = performance.now() - t0;
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const wall = performance.now() - t0;
      if (code !== 0) reject(new Error(`salient ${args[0]} exited ${code}: ${stderr.slice(-500)}`));
      else resolve({ wall, first, stdout });
    });
  });
}

export async function runCliLamBench(o: {
  lr: number;
  runs: number;
  torchThreads: number[];
}): Promise<CliLamResult | null> {
  const h = o.lr;
  const fold = 50;
  const batch = 8;
  const tmp = benchTmp();
  const exported = rdnLikeOnnx();
  if (exported === null) {
    console.error("cli-lam: no ONNX model (PyTorch missing), row skipped");
    return null;
  }
  const { onnx, state } = exported;
  // A smooth image with some noise (a flat or pure-noise image gives a degenerate map).
  const r = rng(5);
  const u8 = new Uint8Array(h * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < h; x++)
      for (let c = 0; c < 3; c++) {
        const v = 128 + 60 * Math.sin(x / 5 + c) + 40 * Math.cos(y / 7) + 20 * (r() - 0.5);
        u8[(y * h + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(v)));
      }
  const png = join(tmp, "cli-lam-lr.png");
  writeFileSync(png, encodePng({ width: h, height: h, data: u8 }));
  const size = 16;
  const win = { x: 2 * h - size / 2, y: 2 * h - size / 2, size };
  const cli = await benchCli();
  const out = join(tmp, "cli-lam");
  const args = [
    "lam",
    "--model",
    onnx,
    "--lr",
    png,
    "--window",
    `${win.x},${win.y},${size}`,
    "--fold",
    String(fold),
    "--batch",
    String(batch),
    "--out",
    out,
  ];

  // The LR image as the CLI reads it (range 1), NCHW, and the blur path on it.
  const x = new Float32Array(3 * h * h);
  for (let i = 0; i < h * h; i++)
    for (let c = 0; c < 3; c++) x[c * h * h + i] = u8[i * 3 + c] / 255;
  const path = hostBlurPath(x, [3, h, h], 1.2, 9, fold);
  const pathShape = [fold, 3, h, h];
  const points = writeF32("cli-lam-points.bin", nhwcToNchw(path.points, pathShape));
  const increments = writeF32("cli-lam-incs.bin", nhwcToNchw(path.increments, pathShape));
  const mapFile = join(tmp, "cli-lam-torch-map.bin");

  // Ours: the first run is checked (and warms the file cache), then `runs` timed ones.
  await runProcess(cli, args);
  const oursMap = decodeNpy(readFileSync(`${out}.npy`)).values;
  const walls: number[] = [];
  const firsts: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    const t = await runProcess(cli, args);
    walls.push(t.wall);
    firsts.push(t.first);
  }
  const helps: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const res = spawnSync(process.execPath, [cli, "lam", "--help"], { stdio: "ignore" });
    if (res.status !== 0) throw new Error(`salient lam --help exited ${res.status}`);
    helps.push(performance.now() - t0);
  }

  const torch: CliLamResult["torch"] = [];
  let mapDiff: number | null = null;
  for (const threads of o.torchThreads) {
    const t = runTorch(
      {
        tasks: ["lamFromPath"],
        threads,
        runs: o.runs,
        warmup: 1,
        stateFile: state,
        inputShape: [1, 3, h, h],
        fold,
        batch,
        window: [win.x, win.y, size],
        points,
        increments,
        mapFile,
      },
      TORCH_SCRIPT,
    );
    if (t === null) continue;
    torch.push({ threads: t.threads as number, lam: t.lam as Timing });
    const b = readFileSync(mapFile);
    mapDiff = maxRelDiff(
      oursMap,
      new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
    );
  }
  const nan = Number.NaN;
  return {
    lr: h,
    fold,
    batch,
    params: exported.params as number,
    ours: { ms: median(walls), cpuMs: nan, samples: o.runs },
    firstStep: { ms: median(firsts), cpuMs: nan, samples: o.runs },
    help: { ms: median(helps), cpuMs: nan, samples: helps.length },
    torch,
    mapDiff,
  };
}

export function formatCliLamTable(res: CliLamResult): string {
  const lines = [
    `salient lam CLI, whole process: RDN-like x4 ONNX (${res.params} params), ${res.lr}x${res.lr} LR, fold ${res.fold}, batch ${res.batch} (median of ${res.ours.samples}; map max rel diff vs PyTorch ${res.mapDiff?.toExponential(1) ?? "-"})`,
    "| side | ms | peer/ours time |",
    "| --- | --- | --- |",
    `| salient lam (whole process) | ${res.ours.ms.toFixed(0)} | 1.00 |`,
  ];
  for (const t of res.torch) {
    lines.push(
      `| pytorch (${t.threads} thr), path integral only | ${t.lam.ms.toFixed(0)} | ${(t.lam.ms / res.ours.ms).toFixed(2)} |`,
    );
  }
  lines.push(
    `start-up: \`salient lam --help\` ${res.help.ms.toFixed(0)} ms; spawn to first path batch ${res.firstStep.ms.toFixed(0)} ms`,
  );
  return lines.join("\n");
}

/**
 * LAM with fold 50 on RDN slim x4: ours (`lam`, batch 8, blur path, gradient-magnitude detector
 * on a 16x16 SR window) against PyTorch doing the same 50 forward + backward passes in batches
 * of 8 (bench/torch_bench.py `lam_like`: blur-to-image path, the same kind of detector). Our side
 * also runs the model on the input and the baseline for the completeness check (two extra
 * batch-1 forwards), so the comparison slightly favours PyTorch. tfjs is not run: one tfjs-cpu
 * forward + input gradient is timed by the RDN row, and 50 of them would take minutes.
 */
import { lam } from "../src/attribution/lam/lam.ts";
import type { Tensor } from "../src/autodiff/tensor.ts";
import { trackPeakBytes } from "../src/autodiff/tidy.ts";
import { loadUpscalerModule } from "../src/models/zoo/upscaler-node.ts";
import { tensor } from "../src/ops/creation.ts";
import { rng, runTorch, type Timing, timeIt, writeF32 } from "./common.ts";
import { TORCH_SCRIPT, torchModelJob } from "./rdn.ts";

export interface LamBenchResult {
  lr: number;
  fold: number;
  batch: number;
  ours: Timing;
  torch: { threads: number; lam: Timing }[];
  /** Peak resident set of this process after our runs, MiB. */
  maxRssMiB: number;
  /** Most live tensor bytes above the starting bytes during one of our LAM calls, MiB. */
  peakLiveMiB: number;
}

export async function runLamBench(o: {
  lr: number;
  runs: number;
  torchThreads: number[];
}): Promise<LamBenchResult> {
  const h = o.lr;
  const fold = 50;
  const batch = 8;
  const size = 16;
  const r = rng(11);
  const x = Float32Array.from({ length: 3 * h * h }, () => 255 * r());
  const m = loadUpscalerModule("esrgan-slim", 4).eval();
  const model = (t: Tensor) => m.call(t);
  const lr = tensor(x, [1, 3, h, h]);
  const window = { x: 2 * h - size / 2, y: 2 * h - size / 2, size };
  let peakLive = 0;
  const ours = await timeIt(
    async () => {
      const {
        value: res,
        peakBytes,
        startBytes,
      } = await trackPeakBytes(() => lam(model, lr, { window, fold, batch }));
      peakLive = Math.max(peakLive, peakBytes - startBytes);
      res.map.dispose();
    },
    { runs: o.runs, warmup: 1, slowMs: 1e9 },
  );
  lr.dispose();
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  const torch: LamBenchResult["torch"] = [];
  for (const threads of o.torchThreads) {
    const t = runTorch(
      {
        ...torchModelJob(),
        tasks: ["lam"],
        threads,
        runs: o.runs,
        warmup: 1,
        input: writeF32("lam-x.bin", x),
        inputShape: [1, 3, h, h],
        fold,
        batch,
        window: [window.x, window.y, size],
      },
      TORCH_SCRIPT,
    );
    if (t !== null) torch.push({ threads: t.threads as number, lam: t.lam as Timing });
  }
  return { lr: h, fold, batch, ours, torch, maxRssMiB, peakLiveMiB: peakLive / 2 ** 20 };
}

export function formatLamTable(res: LamBenchResult): string {
  const lines = [
    `LAM, fold ${res.fold}, batch ${res.batch}, RDN slim x4 on ${res.lr}x${res.lr} LR (peak live tensor bytes in one call ${res.peakLiveMiB.toFixed(1)} MiB; peak RSS of the bench process so far ${res.maxRssMiB.toFixed(0)} MiB)`,
    "| side | ms | (cpu ms) | peer/ours time (cpu) |",
    "| --- | --- | --- | --- |",
    `| salient (cpu) | ${res.ours.ms.toFixed(0)} | ${res.ours.cpuMs.toFixed(0)} | 1.00 |`,
  ];
  for (const t of res.torch) {
    lines.push(
      `| pytorch (${t.threads} thr) | ${t.lam.ms.toFixed(0)} | ${t.lam.cpuMs.toFixed(0)} | ${(t.lam.ms / res.ours.ms).toFixed(2)} (${(t.lam.cpuMs / res.ours.cpuMs).toFixed(2)}) |`,
    );
  }
  return lines.join("\n");
}

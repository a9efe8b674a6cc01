/**
 * `--profile`: a per-op profile (src/autodiff/profile.ts) of one LAM call as the LAM row runs
 * it (RDN slim x4, fold 50, batch 8, 16x16 window at the SR centre), after one unprofiled
 * warm-up call; by op name, or by op name and input shapes (`--profile-shapes`); printed as a table and written to bench/profile-lam.json.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { lam } from "../src/attribution/lam/lam.ts";
import { formatProfile, type OpProfile, profileOps } from "../src/autodiff/profile.ts";
import type { Tensor } from "../src/autodiff/tensor.ts";
import { loadUpscalerModule } from "../src/models/zoo/upscaler-node.ts";
import { tensor } from "../src/ops/creation.ts";
import { rng } from "./common.ts";

// The bench runs from the repository root (npm run bench), wherever its bundle was written.
export const PROFILE_FILE = join(process.cwd(), "bench", "profile-lam.json");

export async function profileLam(
  lr: number,
  byShape: boolean,
): Promise<{ text: string; profile: OpProfile }> {
  const r = rng(11);
  const x = Float32Array.from({ length: 3 * lr * lr }, () => 255 * r());
  const m = loadUpscalerModule("esrgan-slim", 4).eval();
  const model = (t: Tensor) => m.call(t);
  const input = tensor(x, [1, 3, lr, lr]);
  const size = 16;
  const window = { x: 2 * lr - size / 2, y: 2 * lr - size / 2, size };
  const call = async () => {
    const res = await lam(model, input, { window, fold: 50, batch: 8 });
    res.map.dispose();
  };
  await call();
  const load = loadavg()[0];
  const { profile } = await profileOps(call, { byShape });
  input.dispose();
  writeFileSync(
    PROFILE_FILE,
    `${JSON.stringify({ lr, fold: 50, batch: 8, byShape, loadavg1m: load, ...profile }, null, 1)}\n`,
  );
  const text = [
    `Per-op profile of one LAM call, RDN slim x4, ${lr}x${lr} LR, fold 50, batch 8: ${profile.totalMs.toFixed(0)} ms (1-min load ${load.toFixed(2)}; written to bench/profile-lam.json)`,
    formatProfile(profile),
  ].join("\n");
  return { text, profile };
}

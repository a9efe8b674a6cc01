/**
 * `--profile`: a per-op profile (src/autodiff/profile.ts) of one LAM call as the LAM row runs
 * it (RDN slim x4, fold 50, batch 8, 16x16 window at the SR centre), after one unprofiled
 * warm-up call; by op name, or by op name and input shapes (`--profile-shapes`); printed as a
 * table and written to bench/profile-lam.json. `--profile-onnx`: the same for the CLI row's
 * configuration (the RDN-like x4 ONNX network through loadOnnx, 64x64 LR unless --lam-lr is
 * given; needs PyTorch to export it), by shapes, written to bench/profile-lam-onnx.json.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { lam } from "../src/attribution/lam/lam.ts";
import { formatProfile, type OpProfile, profileOps } from "../src/autodiff/profile.ts";
import type { Tensor } from "../src/autodiff/tensor.ts";
import { loadOnnx } from "../src/models/io/onnx/model.ts";
import { loadUpscalerModule } from "../src/models/zoo/upscaler-node.ts";
import { tensor } from "../src/ops/creation.ts";
import { rdnLikeOnnx } from "./cli-lam.ts";
import { rng } from "./common.ts";

// The bench runs from the repository root (npm run bench), wherever its bundle was written.
export const PROFILE_FILE = join(process.cwd(), "bench", "profile-lam.json");
export const PROFILE_ONNX_FILE = join(process.cwd(), "bench", "profile-lam-onnx.json");

export async function profileLam(
  lr: number,
  byShape: boolean,
  onnx = false,
): Promise<{ text: string; profile: OpProfile }> {
  const r = rng(11);
  // The slim RDN takes [0, 255], the exported RDN-like net [0, 1].
  const x = Float32Array.from({ length: 3 * lr * lr }, () => (onnx ? 1 : 255) * r());
  let model: (t: Tensor) => Tensor;
  let name = "RDN slim x4";
  if (onnx) {
    const file = rdnLikeOnnx();
    if (file === null)
      throw new Error("--profile-onnx needs PyTorch to export the RDN-like network");
    const m = loadOnnx(new Uint8Array(readFileSync(file.onnx)), { name: "rdn-like-x4" }).eval();
    model = (t: Tensor) => m.call(t);
    name = `RDN-like x4 ONNX (${file.params} params)`;
  } else {
    const m = loadUpscalerModule("esrgan-slim", 4).eval();
    model = (t: Tensor) => m.call(t);
  }
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
  const file = onnx ? PROFILE_ONNX_FILE : PROFILE_FILE;
  writeFileSync(
    file,
    `${JSON.stringify({ lr, fold: 50, batch: 8, byShape, loadavg1m: load, ...profile }, null, 1)}\n`,
  );
  const text = [
    `Per-op profile of one LAM call, ${name}, ${lr}x${lr} LR, fold 50, batch 8: ${profile.totalMs.toFixed(0)} ms (1-min load ${load.toFixed(2)}; written to ${file.slice(process.cwd().length + 1)})`,
    formatProfile(profile),
  ].join("\n");
  return { text, profile };
}

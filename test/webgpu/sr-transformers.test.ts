/**
 * SwinIR and HAT on the WebGPU backend against the PyTorch fixtures in
 * test/fixtures/sr-transformers/ (made by scripts/fixtures/make_sr_transformer_fixtures.py and
 * make_hat_fixtures.py): the official state dict loaded by key name (strict), forward output and
 * input gradient (vjp with the fixture's cotangent) compared with the reference. Same tolerances
 * as the CPU tests (test/sr/swinir.test.ts, test/sr/hat.test.ts):
 *   forward: max |gpu - torch| < 2e-5;
 *   input gradient: max |gpu - torch| / max |torch| < 1e-4.
 * These nets exercise softmax, layer norm, batched matmul, the relative-position-bias gather,
 * the cyclic shift, GELU, pixel shuffle, reflection padding and (HAT) channel attention and
 * overlapping cross-attention on the GPU. Not a vitest file: run with
 *   bash scripts/test-webgpu.sh (it runs everything in test/webgpu/)
 */
import * as s from "../../src/index.ts";
import { readSafetensors } from "../../src/models/io/safetensors.ts";
import type { Module } from "../../src/models/nn/module.ts";
import { Hat, type HatConfig } from "../../src/models/zoo/hat.ts";
import { SwinIr, type SwinIrConfig } from "../../src/models/zoo/swinir.ts";
import { gpuBackend } from "./gpu.ts";

const FORWARD_TOL = 2e-5;
const GRAD_REL_TOL = 1e-4;

async function fixture(file: string) {
  const bytes = await Deno.readFile(
    new URL(`../fixtures/sr-transformers/${file}`, import.meta.url),
  );
  return readSafetensors(bytes);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { err: number; at: number } {
  let err = 0;
  let at = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= err)) [err, at] = [d, i]; // NaN counts as the worst
  }
  return { err, at };
}

/** Loads the fixture's weights into `make()`'s net on WebGPU and checks forward and input gradient. */
async function check(file: string, make: () => Module) {
  const f = await fixture(file);
  const state = new Map(
    [...f].filter(([k]) => k.startsWith("model.")).map(([k, v]) => [k.slice(6), v]),
  );
  const gpu = await gpuBackend();
  const saved = s.getBackend();
  s.setBackend(gpu);
  try {
    const net = make().eval();
    net.loadStateDict(state); // strict: every official key, and only those
    const t = (k: string) => s.tensor(f.get(k)!.values, f.get(k)!.shape);
    // Intermediates freed here; the output and gradient survive to be read back.
    const run = () => s.tidy(() => s.vjp((z) => net.call(z), [t("input")], t("cotangent")));
    const { value, grads } = run();
    // Ops on tensors from two backends throw, so these being on WebGPU means the whole graph was.
    for (const r of [value, grads[0]])
      if (r.backend !== gpu) throw new Error(`${file}: a result is on ${r.backend.name}`);
    const want = f.get("output")!;
    if (value.shape.join() !== want.shape.join())
      throw new Error(`${file}: output shape [${value.shape}], expected [${want.shape}]`);
    const got = await value.data();
    const fwd = maxAbsDiff(got, want.values);
    if (!(fwd.err < FORWARD_TOL))
      throw new Error(
        `${file}: output[${fwd.at}] is ${got[fwd.at]} on WebGPU, ${want.values[fwd.at]} in PyTorch (max diff ${fwd.err}, tolerance ${FORWARD_TOL})`,
      );
    const gWant = f.get("input_grad")!.values;
    const gGot = await grads[0].data();
    let scale = 0;
    for (const v of gWant) scale = Math.max(scale, Math.abs(v));
    const g = maxAbsDiff(gGot, gWant);
    if (!(g.err / scale < GRAD_REL_TOL))
      throw new Error(
        `${file}: input_grad[${g.at}] is ${gGot[g.at]} on WebGPU, ${gWant[g.at]} in PyTorch (max diff ${g.err} of max |grad| ${scale}, tolerance ${GRAD_REL_TOL})`,
      );
    s.dispose([value, ...grads]);
    // The net keeps its weights and per-size masks; a second call must leave no more GPU memory.
    const held = gpu.liveBytes();
    const again = run();
    s.dispose([again.value, ...again.grads]);
    if (gpu.liveBytes() !== held)
      throw new Error(`${file}: a second call left ${gpu.liveBytes() - held} more bytes on WebGPU`);
    s.dispose([...net.stateDict().values()]);
    console.log(
      `  ${file}: forward max diff ${fwd.err.toExponential(1)}, input gradient ${(g.err / scale).toExponential(1)} of max |grad|`,
    );
  } finally {
    s.setBackend(saved);
  }
}

const swinir = (scale: number, config: Partial<SwinIrConfig>) => () => new SwinIr(scale, config);
const hat = (scale: number, config: Partial<HatConfig>) => () => new Hat(scale, config);

Deno.test("SwinIR classical x2 on WebGPU matches PyTorch (forward and input gradient)", () =>
  check(
    "swinir-classical-x2.safetensors",
    swinir(2, {
      embedDim: 12,
      depths: [2, 2],
      numHeads: [2, 3],
      windowSize: 4,
      mlpRatio: 2,
      imgSize: 8,
      upsampler: "pixelshuffle",
      numFeat: 8,
    }),
  ));

Deno.test("SwinIR lightweight x3 (one-step upsampler) on WebGPU matches PyTorch", () =>
  check(
    "swinir-lightweight-x3.safetensors",
    swinir(3, {
      embedDim: 8,
      depths: [2],
      numHeads: [2],
      windowSize: 4,
      mlpRatio: 2,
      imgSize: 8,
      upsampler: "pixelshuffledirect",
    }),
  ));

Deno.test("HAT x2 with CAB and OCAB on WebGPU matches PyTorch (forward and input gradient)", () =>
  check(
    "hat-x2.safetensors",
    hat(2, {
      embedDim: 12,
      depths: [2, 1],
      numHeads: [2, 3],
      windowSize: 4,
      compressRatio: 3,
      squeezeFactor: 4,
      convScale: 0.5,
      overlapRatio: 0.5,
      mlpRatio: 2,
      numFeat: 8,
    }),
  ));

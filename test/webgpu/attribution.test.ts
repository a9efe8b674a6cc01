/**
 * WebGPU parity of the attribution methods (Deno + navigator.gpu): every method on a small conv
 * net, and the Captum 4x4 ReLU-rule oracle, give the same maps on the WebGPU backend as on the CPU
 * backend (|gpu - cpu| <= 1e-4 + 1e-4 |cpu|; the oracle exactly). Not a vitest file: run with
 *   bash scripts/test-webgpu.sh (it runs everything in test/webgpu/)
 */
import * as s from "../../src/index.ts";
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from "../../src/models/nn/index.ts";
import {
  CAPTUM_CONVNET_MAPS,
  captumConvNet,
  captumConvNetInput,
} from "../helpers/captum-convnet.ts";
import { gpuBackend } from "./gpu.ts";

// The Deno test API, declared here so tsc (Node types) checks this file too.
declare const Deno: { test(name: string, fn: () => Promise<void>): void };

function close(
  name: string,
  gpu: ArrayLike<number>,
  cpu: ArrayLike<number>,
  atol = 1e-4,
  rtol = 1e-4,
): void {
  if (gpu.length !== cpu.length)
    throw new Error(`${name}: ${gpu.length} values on WebGPU, ${cpu.length} on CPU`);
  for (let i = 0; i < cpu.length; i++) {
    if (!(Math.abs(gpu[i] - cpu[i]) <= atol + rtol * Math.abs(cpu[i]))) {
      throw new Error(`${name}: index ${i}: WebGPU ${gpu[i]} vs CPU ${cpu[i]}`);
    }
  }
}

async function allMethods(backend: string): Promise<Record<string, number[]>> {
  const net = new Sequential(
    new Conv2d(2, 4, 3, { padding: 1, seed: 1 }),
    new ReLU(),
    new MaxPool2d({ kernel: 2 }),
    new Conv2d(4, 6, 3, { padding: 1, seed: 2 }),
    new ReLU(),
    new Flatten(),
    new Linear(6 * 4 * 4, 3, { seed: 3 }),
  );
  const model = (x: s.Tensor) => net.call(x);
  const x = s.randomUniform([2, 2, 8, 8], { seed: 4 });
  if (x.backend.name !== backend || net.parameters()[0].backend.name !== backend) {
    throw new Error(`expected the input and the weights on ${backend}, got ${x.backend.name}`);
  }
  const t = [2, 0];
  const out: Record<string, number[]> = {};
  const put = async (k: string, r: { map: s.Tensor; delta?: number[] }) => {
    out[k] = Array.from(await r.map.data());
    if (r.delta) out[`${k}.delta`] = r.delta;
    r.map.dispose();
  };
  await put("gradient", await s.gradient(model, x, t));
  await put("saliency", await s.saliency(model, x, t));
  await put("guidedBackprop", await s.guidedBackprop(model, x, t));
  await put("deconvnet", await s.deconvnet(model, x, t));
  await put("ig", await s.integratedGradients(model, x, t, { steps: 8, batchSize: 6 }));
  await put("blurIg", await s.blurIg(model, x, t, { steps: 6, sigmaMax: 3 }));
  await put(
    "smoothGrad",
    await s.smoothGrad(s.gradient, model, x, t, { samples: 3, variant: "vargrad" }),
  );
  await put("gradCam", await s.gradCam(model, x, t, { layer: "4" }));
  await put("gradCam++", await s.gradCamPlusPlus(model, x, t, { layer: "4" }));
  await put("occlusion", await s.occlusion(model, x, t, { window: 3, stride: 2 }));
  await put("rise", await s.rise(model, x, t, { masks: 20, cells: 4 }));
  return out;
}

Deno.test("attribution methods: WebGPU maps match the CPU backend", async () => {
  const cpu = s.getBackend();
  const ref = await allMethods(cpu.name);
  const gpu = s.setBackend(await gpuBackend());
  try {
    const got = await allMethods(gpu.name);
    for (const k of Object.keys(ref)) close(k, got[k], ref[k]);
  } finally {
    s.setBackend(cpu);
  }
});

Deno.test("Captum 4x4 ReLU-rule oracle on WebGPU (exact)", async () => {
  const cpu = s.getBackend();
  s.setBackend(await gpuBackend());
  try {
    const { model } = captumConvNet();
    const x = captumConvNetInput();
    const gb = Array.from(await (await s.guidedBackprop(model, x, 0)).map.data());
    const dc = Array.from(await (await s.deconvnet(model, x, 0)).map.data());
    close("guided backprop", gb, CAPTUM_CONVNET_MAPS.guidedBackprop, 0, 0);
    close("deconvnet", dc, CAPTUM_CONVNET_MAPS.deconvnet, 0, 0);
  } finally {
    s.setBackend(cpu);
  }
});

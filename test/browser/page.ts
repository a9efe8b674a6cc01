/**
 * The browser smoke page: on WebGPU, computes f(x, w) = sum(c * conv2d(x, w, padding 1)) +
 * sum(x * x) and its gradients with respect to x and w, and publishes the numbers for the test
 * (test/browser/smoke.test.mjs), which checks them against closed forms computed in Node.
 */
import * as s from "../../src/index.ts";
import { createWebGPUBackend } from "../../src/kernels/webgpu/index.ts";
import { smokeInputs } from "./smoke-inputs.ts";

declare global {
  interface Window {
    smokeResult?: unknown;
  }
}

/** One gradient computation on a backend with the given conv/matmul tiling. */
async function gradientOn(tiling: "shared" | "registers", device?: GPUDevice) {
  const gpu = await createWebGPUBackend({ tiling, device });
  const { x, w, c, n } = smokeInputs();
  const result = await s.withBackend(gpu, async () => {
    const xt = s.tensor(x, [1, 1, n, n]);
    const wt = s.tensor(w, [1, 1, 3, 3]);
    const ct = s.tensor(c, [1, 1, n, n]);
    const f = (a: s.Tensor, b: s.Tensor) =>
      s.add(s.sum(s.mul(ct, s.conv2d(a, b, { padding: 1 }))), s.sum(s.mul(a, a)));
    const { value, grads } = s.valueAndGrads(f)([xt, wt]);
    return {
      backend: gpu.name,
      adapter: gpu.adapterDescription,
      tiling: gpu.tiling,
      value: Array.from(await value.data()),
      gx: Array.from(await grads[0].data()),
      gw: Array.from(await grads[1].data()),
    };
  });
  return { gpu, result };
}

async function run(): Promise<unknown> {
  // Both variants: register tiles (chosen automatically on SwiftShader) and workgroup-memory tiles.
  const a = await gradientOn("registers");
  const b = await gradientOn("shared", a.gpu.device);
  return [a.result, b.result];
}

run().then(
  (r) => {
    window.smokeResult = r;
  },
  (e: Error) => {
    window.smokeResult = { error: e.message };
  },
);

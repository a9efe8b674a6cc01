/**
 * Embedding in a WebGPU application (Deno + navigator.gpu): a backend on the application's own
 * GPUDevice, zero-copy exchange of GPUBuffers in both directions, Module.to from CPU to WebGPU,
 * and backend scopes that hold across `await` with CPU and WebGPU calls interleaved. Not a vitest
 * file: run with
 *   bash scripts/test-webgpu.sh (it runs everything in test/webgpu/)
 */
import { gradient } from "../../src/attribution/methods/gradient.ts";
import { getBackend, withBackend } from "../../src/autodiff/backends.ts";
import { gpuBufferOf, tensorFromGPUBuffer } from "../../src/autodiff/gpu-buffer.ts";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { createWebGPUBackend, type WebGPUBackend } from "../../src/kernels/webgpu/index.ts";
import { Conv2d, Flatten, Linear, ReLU, Sequential } from "../../src/models/nn/index.ts";
import { add, mul } from "../../src/ops/binary.ts";
import { tensor } from "../../src/ops/creation.ts";
import { relu } from "../../src/ops/unary.ts";

declare const Deno: { test(name: string, fn: () => Promise<void>): void };

// GPUBufferUsage / GPUMapMode values (spelled out so the file does not rely on the globals).
const MAP_READ = 0x01;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const STORAGE = 0x80;

/** The application's device, requested the way an app would, and a backend on it. */
let app: Promise<{ device: GPUDevice; gpu: WebGPUBackend }> | null = null;
function appDevice() {
  app ??= (async () => {
    const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
    const adapter = await nav?.gpu?.requestAdapter();
    if (!adapter) throw new Error("no WebGPU adapter (install mesa-vulkan-drivers)");
    const device = await adapter.requestDevice();
    return { device, gpu: await createWebGPUBackend({ device }) };
  })();
  return app;
}

function close(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  if (got.length !== want.length)
    throw new Error(`${name}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])))) {
      throw new Error(`${name}: index ${i}: ${got[i]} vs expected ${want[i]}`);
    }
  }
}

/** Copies `bytes` of `src` from `offset` into a fresh MAP_READ buffer and reads it, as an app would. */
async function readBack(device: GPUDevice, src: GPUBuffer, offset: number, bytes: number) {
  const staging = device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, offset, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MAP_READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}

Deno.test("zero-copy: wrap an app-owned GPUBuffer, run ops, hand the result back as a GPUBuffer", async () => {
  const { device, gpu } = await appDevice();
  const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
  const appBuffer = device.createBuffer({
    size: values.byteLength,
    usage: STORAGE | COPY_DST | COPY_SRC,
  });
  device.queue.writeBuffer(appBuffer, 0, values);
  const bytesBefore = gpu.liveBytes();

  const x = tensorFromGPUBuffer(gpu, appBuffer, [4, 16]);
  if (gpu.liveBytes() !== bytesBefore)
    throw new Error("wrapping an app buffer must not count as engine memory");
  const y = tidy(() => relu(add(mul(x, 3), 1)));
  const view = gpuBufferOf(y);
  if (view.byteLength !== 64 * 4) throw new Error(`byteLength ${view.byteLength}, expected 256`);
  const got = await readBack(device, view.buffer, view.byteOffset, view.byteLength);
  // Expected: max(3 v + 1, 0), computed here in float64, and the same ops on the CPU backend.
  close(
    "wrapped op vs closed form",
    got,
    Array.from(values, (v) => Math.max(3 * v + 1, 0)),
  );
  const cpuY = withBackend("cpu", () => relu(add(mul(tensor(values, [4, 16]), 3), 1)));
  close("wrapped op vs CPU", got, await cpuY.data());
  cpuY.dispose();
  // t.data() works on a wrapped buffer with COPY_SRC.
  close("data() of the wrapped tensor", await x.data(), values);

  // Disposing the tensor leaves the app's buffer alive and unchanged.
  y.dispose();
  x.dispose();
  device.pushErrorScope("validation");
  const again = await readBack(device, appBuffer, 0, values.byteLength);
  const error = await device.popErrorScope();
  if (error) throw new Error(`the app buffer was destroyed by dispose(): ${error.message}`);
  close("app buffer after dispose", again, values);
  if (gpu.liveBytes() !== bytesBefore)
    throw new Error(`liveBytes ${gpu.liveBytes()} after disposing, expected ${bytesBefore}`);
  appBuffer.destroy();
});

Deno.test("zero-copy: a buffer without STORAGE usage is refused with a clear error", async () => {
  const { device, gpu } = await appDevice();
  const buf = device.createBuffer({ size: 16, usage: COPY_DST });
  let msg = "";
  try {
    tensorFromGPUBuffer(gpu, buf, [4]);
  } catch (e) {
    msg = (e as Error).message;
  }
  if (!msg.includes("needs STORAGE usage"))
    throw new Error(`expected the STORAGE usage error, got "${msg}"`);
  const small = device.createBuffer({ size: 8, usage: STORAGE });
  msg = "";
  try {
    tensorFromGPUBuffer(gpu, small, [4]);
  } catch (e) {
    msg = (e as Error).message;
  }
  if (!msg.includes("holds 8 bytes but a float32 tensor [4] needs 16"))
    throw new Error(`expected the size error, got "${msg}"`);
  buf.destroy();
  small.destroy();
});

function smallNet() {
  return new Sequential(
    new Conv2d(2, 3, 3, { padding: 1, seed: 7 }),
    new ReLU(),
    new Flatten(),
    new Linear(3 * 5 * 5, 4, { seed: 8 }),
  );
}
const input = Float32Array.from({ length: 2 * 2 * 5 * 5 }, (_, i) => Math.cos(i));

Deno.test("Module.to moves a CPU-built model to WebGPU; forward outputs match", async () => {
  const { gpu } = await appDevice();
  const net = withBackend("cpu", smallNet);
  const cpuOut = withBackend("cpu", () => net.call(tensor(input, [2, 2, 5, 5])));
  const want = await cpuOut.data();
  cpuOut.dispose();
  await net.to(gpu);
  for (const [name, v] of net.stateDict()) {
    if (v.backend !== gpu) throw new Error(`${name} is on ${v.backend.name} after to(gpu)`);
  }
  const gpuOut = withBackend(gpu, () => net.call(tensor(input, [2, 2, 5, 5])));
  if (gpuOut.backend !== gpu) throw new Error("the forward ran off the WebGPU backend");
  close("forward after to(gpu)", await gpuOut.data(), want, 1e-4);
  gpuOut.dispose();
});

Deno.test("backend scopes hold across await: CPU and WebGPU gradients interleaved", async () => {
  const { gpu } = await appDevice();
  const cpuNet = withBackend("cpu", smallNet);
  const gpuNet = withBackend("cpu", smallNet);
  await gpuNet.to(gpu);
  const xc = withBackend("cpu", () => tensor(input, [2, 2, 5, 5]));
  const xg = withBackend(gpu, () => tensor(input, [2, 2, 5, 5]));
  const model = (n: Sequential) => (v: Tensor) => n.call(v);
  const defaultBefore = getBackend();
  const [g, c, e] = await Promise.all([
    withBackend(gpu, () => gradient(model(gpuNet), xg, [1, 3])),
    withBackend("cpu", () => gradient(model(cpuNet), xc, [1, 3])),
    gradient(model(gpuNet), xg, [1, 3], { backend: gpu }),
  ]);
  if (getBackend() !== defaultBefore) throw new Error("a scope leaked into the default backend");
  if (g.map.backend !== gpu || e.map.backend !== gpu || c.map.backend.name !== "cpu")
    throw new Error(
      `maps on ${g.map.backend.name}, ${c.map.backend.name}, ${e.map.backend.name}; expected webgpu, cpu, webgpu`,
    );
  const want = await c.map.data();
  close("scoped WebGPU gradient vs CPU", await g.map.data(), want, 1e-4);
  close("explicit-backend WebGPU gradient vs CPU", await e.map.data(), want, 1e-4);
  for (const r of [g, c, e]) r.map.dispose();
});

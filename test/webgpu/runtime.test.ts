/**
 * The runtime around the kernels: uniform layouts checked against the WGSL, size limits, the
 * buffer pool and deferred release, batched submission, device loss, and a missing adapter.
 * More of the runtime's requirements (pipeline cache, buckets, readback, axis-map cache) are in
 * requirements.test.ts.
 */
import * as s from "../../src/index.ts";
import { CpuBackend } from "../../src/kernels/cpu/cpu-backend.ts";
import {
  checkKernelSource,
  createWebGPUBackend,
  type KernelSource,
} from "../../src/kernels/webgpu/index.ts";
import { gpuBackend } from "./gpu.ts";

function assertThrows(fn: () => unknown, fragments: readonly string[]): string {
  let msg: string | null = null;
  try {
    fn();
  } catch (e) {
    msg = (e as Error).message;
  }
  if (msg === null)
    throw new Error(`expected an error mentioning ${fragments.join(", ")}; nothing was thrown`);
  const missing = fragments.filter((f) => !msg.includes(f));
  if (missing.length)
    throw new Error(`error "${msg}" does not mention ${missing.map((m) => `"${m}"`).join(", ")}`);
  return msg;
}

const PROBE_WGSL = /* wgsl */ `
struct Params { size: i32, scale: f32, offsets: array<vec4<i32>, 2>, }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = i32(gid.x);
  if (i < u.size) { out[i] = u.scale * f32(u.offsets[0].x); }
}`;

Deno.test("a uniform struct that disagrees with the TypeScript layout is a load-time error naming kernel and field", async () => {
  const good: KernelSource = {
    name: "uniform-probe",
    wgsl: PROBE_WGSL,
    uniforms: [
      { name: "size", type: "i32" },
      { name: "scale", type: "f32" },
      { name: "offsets", type: "vec4i", count: 2 },
    ],
  };
  const { bindings, uniforms } = checkKernelSource(good);
  if (bindings.map((b) => `${b.name}:${b.kind}`).join(" ") !== "u:uniform out:storage") {
    throw new Error(`bindings read from the WGSL: ${JSON.stringify(bindings)}`);
  }
  if (uniforms.fields[2].offset !== 16 || uniforms.size !== 48)
    throw new Error(`layout ${JSON.stringify(uniforms)}`);
  // Wrong type for a field.
  assertThrows(
    () =>
      checkKernelSource({
        ...good,
        uniforms: [good.uniforms[0], { name: "scale", type: "i32" }, good.uniforms[2]],
      }),
    ['"uniform-probe"', '"scale: i32"', "scale: f32"],
  );
  // Renamed field.
  assertThrows(
    () =>
      checkKernelSource({
        ...good,
        uniforms: [good.uniforms[0], { name: "gain", type: "f32" }, good.uniforms[2]],
      }),
    ['"uniform-probe"', "gain", "scale"],
  );
  // A field the WGSL does not have, and one TypeScript forgot.
  assertThrows(
    () =>
      checkKernelSource({ ...good, uniforms: [...good.uniforms, { name: "extra", type: "u32" }] }),
    ['"uniform-probe"', '"extra"'],
  );
  assertThrows(
    () => checkKernelSource({ ...good, uniforms: good.uniforms.slice(0, 2) }),
    ['"uniform-probe"', '"offsets"'],
  );
  // Array length mismatch shifts nothing but is still caught.
  assertThrows(
    () =>
      checkKernelSource({
        ...good,
        uniforms: [
          good.uniforms[0],
          good.uniforms[1],
          { name: "offsets", type: "vec4i", count: 3 },
        ],
      }),
    ["offsets"],
  );
  // Through the backend's pipeline cache: the error surfaces when the kernel is loaded.
  const gpu = await gpuBackend();
  assertThrows(
    () =>
      gpu.rt.kernel("uniform-probe-bad", () => ({
        ...good,
        uniforms: [good.uniforms[0], { name: "scale", type: "u32" }, good.uniforms[2]],
      })),
    ['"uniform-probe"', "scale"],
  );
  // And the good layout really drives the kernel.
  const k = gpu.rt.kernel("uniform-probe-good", () => good);
  const out = gpu.output([5], "float32", "probe");
  gpu.rt.dispatch(
    k,
    { out: out.buffer },
    { size: 5, scale: 1.5, offsets: [4, 0, 0, 0, 0, 0, 0, 0] },
    [1],
  );
  const v = await gpu.read({ handle: out, shape: [5], dtype: "float32" });
  gpu.free(out);
  if (Array.from(v).join() !== "6,6,6,6,6") throw new Error(`probe kernel wrote ${Array.from(v)}`);
});

Deno.test("tensors above maxStorageBufferBindingSize are refused with the size and the limit", async () => {
  const gpu = await gpuBackend();
  const limit = gpu.device.limits.maxStorageBufferBindingSize;
  const n = Math.floor(limit / 4) + 1;
  assertThrows(
    () => gpu.fill([n], 0, "float32"),
    [String(n * 4), String(limit), "maxStorageBufferBindingSize"],
  );
  const before = gpu.liveBytes();
  const small = gpu.fill([4], 1, "float32");
  // A binary op whose output would be too large fails before dispatching anything.
  assertThrows(
    () =>
      gpu.binary(
        "add",
        { handle: small, shape: [4, 1], dtype: "float32" },
        { handle: small, shape: [1, 4], dtype: "float32" },
        [4, n],
      ),
    ["maxStorageBufferBindingSize"],
  );
  gpu.free(small);
  if (gpu.liveBytes() !== before)
    throw new Error(`liveBytes ${gpu.liveBytes()} after the refused ops, expected ${before}`);
});

Deno.test("liveBytes counts live tensors exactly; freed buffers are reused, after submission", async () => {
  const gpu = await gpuBackend();
  const base = gpu.liveBytes();
  const a = gpu.upload(new Float32Array(1000), [10, 100], "float32");
  const b = gpu.unary("exp", { handle: a, shape: [10, 100], dtype: "float32" });
  if (gpu.liveBytes() - base !== 8000)
    throw new Error(`liveBytes grew by ${gpu.liveBytes() - base}, expected 8000`);
  // b's kernel is recorded but not submitted: freeing `a` now must not hand its buffer out yet.
  gpu.free(a);
  if (gpu.stats().pendingBuffers < 1)
    throw new Error("a buffer freed before submission went straight back to the pool");
  const c = gpu.upload(new Float32Array(1000).fill(2), [10, 100], "float32");
  const got = await gpu.read({ handle: b, shape: [10, 100], dtype: "float32" });
  if (got.some((v) => v !== 1))
    throw new Error("exp(0) != 1: an input buffer was overwritten before its kernel ran");
  if (gpu.stats().pendingBuffers !== 0)
    throw new Error("submission did not release the pending buffers");
  gpu.free(b);
  gpu.free(c);
  if (gpu.liveBytes() !== base)
    throw new Error(`liveBytes ${gpu.liveBytes()} after freeing, expected ${base}`);
  // The same shapes again allocate nothing new.
  const created = gpu.stats().created;
  for (let i = 0; i < 5; i++) {
    const x = gpu.upload(new Float32Array(1000), [10, 100], "float32");
    const y = gpu.unary("exp", { handle: x, shape: [10, 100], dtype: "float32" });
    await gpu.read({ handle: y, shape: [10, 100], dtype: "float32" });
    gpu.free(x);
    gpu.free(y);
  }
  if (gpu.stats().created !== created)
    throw new Error(`${gpu.stats().created - created} buffers created for repeated shapes`);
});

Deno.test("dispatches are batched: nothing is submitted until the batch fills or a read", async () => {
  const gpu = await gpuBackend();
  await gpu.read({ handle: gpu.fill([1], 0, "float32"), shape: [1], dtype: "float32" });
  const start = gpu.stats().submits;
  const x = gpu.upload(new Float32Array(64).fill(1), [64], "float32");
  let y = x;
  const handles = [x];
  for (let i = 0; i < 10; i++) {
    y = gpu.binary(
      "add",
      { handle: y, shape: [64], dtype: "float32" },
      { handle: x, shape: [64], dtype: "float32" },
      [64],
    );
    handles.push(y);
  }
  if (gpu.stats().submits !== start)
    throw new Error(
      `${gpu.stats().submits - start} submits for 10 dispatches below the batch size`,
    );
  const v = await gpu.read({ handle: y, shape: [64], dtype: "float32" });
  if (v[0] !== 11) throw new Error(`chain of adds gave ${v[0]}, expected 11`);
  if (gpu.stats().submits !== start + 1)
    throw new Error(`read() made ${gpu.stats().submits - start} submits, expected 1`);
  for (const h of handles) gpu.free(h);
});

Deno.test("device loss is reported as an Error naming the device and what was lost; the CPU backend keeps working", async () => {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error("no WebGPU adapter");
  const device = await adapter.requestDevice();
  // The embedding path: the backend wraps a device the application already owns.
  const gpu = await createWebGPUBackend({ device });
  const [x, y] = s.withBackend(gpu, () => {
    const a = s.tensor([1, 2, 3]);
    return [a, s.square(a)];
  });
  if (Array.from(await y.data()).join() !== "1,4,9") throw new Error("square before the loss");
  const held = gpu.stats().inUseBuffers;
  // A recorded but unsubmitted op, then the device goes (as on a driver reset or a GPU unplug).
  const pending = s.withBackend(gpu, () => s.exp(x));
  device.destroy();
  await device.lost;
  // The message names the device, the reason, what was lost and what still works.
  const fragments = [
    "WebGPU device lost",
    gpu.adapterDescription,
    "reason: destroyed",
    "buffer(s)",
    "every webgpu tensor",
    "createWebGPUBackend",
    '"cpu" backend is unaffected',
  ];
  const msg = assertThrows(() => s.withBackend(gpu, () => s.exp(x)), fragments);
  // x, y, the pending output (and the pending dispatch's uniforms) were on the device.
  const lost = /the (\d+) buffer\(s\) \((\d+) bytes\)/.exec(msg);
  if (!lost || Number(lost[1]) < held + 1 || Number(lost[2]) < 3 * 3 * 4)
    throw new Error(`the message does not count what was lost (${held + 1}+ buffers): ${msg}`);
  assertThrows(() => gpu.unary("exp", x), ["WebGPU device lost"]);
  for (const t of [y, pending]) {
    let readError = "";
    await t.data().catch((e: Error) => {
      readError = e.message;
    });
    if (!readError.includes("WebGPU device lost"))
      throw new Error(`read after loss: "${readError}"`);
  }
  // Disposing what was on the lost device is harmless and accounts it as gone.
  s.dispose([x, y, pending]);
  if (gpu.liveBytes() !== 0) throw new Error(`liveBytes ${gpu.liveBytes()} after disposing all`);
  // The CPU backend, through the public API and directly.
  const c = s.withBackend("cpu", () => s.sum(s.square(s.tensor([1, 2, 3]))));
  if (c.dataSync()[0] !== 14) throw new Error("cpu backend broken after device loss");
  c.dispose();
  const cpu = new CpuBackend();
  const d = cpu.unary("square", {
    handle: cpu.upload(new Float32Array([3]), [1], "float32"),
    shape: [1],
    dtype: "float32",
  });
  if (cpu.readSync({ handle: d, shape: [1], dtype: "float32" })[0] !== 9)
    throw new Error("cpu backend broken after device loss");
  // Another backend on another device is unaffected too.
  const other = await gpuBackend();
  const z = s.withBackend(other, () => s.add(s.tensor([1]), s.tensor([2])));
  if ((await z.data())[0] !== 3) throw new Error("the shared test device broke with the other");
  z.dispose();
});

Deno.test("no adapter: createWebGPUBackend throws saying what to install", async () => {
  const gpuApi = navigator.gpu;
  const original = gpuApi.requestAdapter;
  gpuApi.requestAdapter = () => Promise.resolve(null);
  try {
    let msg = "";
    await createWebGPUBackend().catch((e: Error) => {
      msg = e.message;
    });
    for (const f of [
      "No WebGPU adapter",
      "mesa-vulkan-drivers",
      "--enable-unsafe-webgpu",
      "`webgpu` package",
    ]) {
      if (!msg.includes(f)) throw new Error(`message "${msg}" lacks "${f}"`);
    }
  } finally {
    gpuApi.requestAdapter = original;
  }
});

Deno.test("software adapters get the barrier-free register-tiled kernels", async () => {
  const gpu = await gpuBackend();
  if (/llvmpipe|lavapipe|swiftshader/i.test(gpu.adapterDescription) && gpu.tiling !== "registers") {
    throw new Error(`tiling ${gpu.tiling} on ${gpu.adapterDescription}`);
  }
});

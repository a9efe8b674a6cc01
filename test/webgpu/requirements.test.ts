/**
 * The runtime requirements of the WebGPU backend, one test each: pipelines cached per
 * shape class, size-bucketed buffer pool, batched submission, readback only at data(), oversized
 * tensors refused naming the op and sizes, and the axis-map upload cache (no second upload for an
 * identical resize; bounded; freed by dispose). Device loss is in runtime.test.ts; 1000 repeated
 * forward+backward passes in leak.test.ts.
 */
import * as s from "../../src/index.ts";
import { bucketSize } from "../../src/kernels/webgpu/buffer-pool.ts";
import { createWebGPUBackend, type WebGPUBackend } from "../../src/kernels/webgpu/index.ts";
import { gpuBackend } from "./gpu.ts";

function expectThrow(fn: () => unknown, fragments: readonly string[]): string {
  let msg: string | null = null;
  try {
    fn();
  } catch (e) {
    msg = (e as Error).message;
  }
  if (msg === null) throw new Error(`expected an error mentioning ${fragments.join(", ")}`);
  const missing = fragments.filter((f) => !msg.includes(f));
  if (missing.length) throw new Error(`error "${msg}" does not mention ${missing.join(", ")}`);
  return msg;
}

function close(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  if (got.length !== want.length)
    throw new Error(`${name}: ${got.length} != ${want.length} values`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol + tol * Math.abs(want[i]))) {
      throw new Error(`${name}: index ${i}: webgpu ${got[i]}, cpu ${want[i]}`);
    }
  }
}

/** A backend of its own (fresh pipeline cache, pool and counters) on the shared test device. */
async function freshBackend(opts: Parameters<typeof createWebGPUBackend>[0] = {}) {
  const shared = await gpuBackend();
  return createWebGPUBackend({ ...opts, device: shared.device, tiling: shared.tiling });
}

/** Counts calls of a prototype method while `fn` runs (the spy is removed afterwards). */
async function countCalls<T>(
  proto: object,
  method: string,
  fn: () => Promise<T>,
  filter: (self: unknown, args: unknown[]) => boolean = () => true,
): Promise<{ calls: number; value: T }> {
  const p = proto as Record<string, (...a: unknown[]) => unknown>;
  const original = p[method];
  let calls = 0;
  p[method] = function (this: unknown, ...args: unknown[]) {
    if (filter(this, args)) calls++;
    return original.apply(this, args);
  };
  try {
    const value = await fn();
    return { calls, value };
  } finally {
    p[method] = original;
  }
}

Deno.test("pipeline cache: one pipeline per shape class, reused for every size in it", async () => {
  const gpu = await freshBackend();
  const run = (n: number, c: number, h: number, w: number, relu: boolean) =>
    s.withBackend(gpu, () =>
      s.tidy(() => {
        const x = s.randomNormal([n, c, h, w], { seed: h });
        const k = s.randomNormal([5, c, 3, 3], { seed: w });
        const y = s.conv2d(x, k, { padding: 1, relu });
        return s.keep(s.add(y, s.randomNormal([w], { seed: 2 })));
      }),
    );
  const first = run(1, 3, 8, 8, false);
  await first.data();
  first.dispose();
  const afterFirst = gpu.stats().pipelines;
  // Other batch sizes, channel counts and image sizes: the same classes, so no new pipeline.
  for (const [n, c, h, w] of [
    [2, 3, 13, 9],
    [1, 7, 32, 17],
    [3, 1, 5, 40],
  ]) {
    const y = run(n, c, h, w, false);
    await y.data();
    y.dispose();
  }
  if (gpu.stats().pipelines !== afterFirst) {
    throw new Error(`${gpu.stats().pipelines - afterFirst} pipelines compiled for new sizes`);
  }
  // A fused ReLU is another class: exactly one more pipeline (the conv variant), once.
  for (const size of [8, 21]) {
    const y = run(1, 3, size, size, true);
    await y.data();
    y.dispose();
  }
  if (gpu.stats().pipelines !== afterFirst + 1) {
    throw new Error(`fused ReLU added ${gpu.stats().pipelines - afterFirst} pipelines, expected 1`);
  }
  gpu.dispose();
});

Deno.test("buffer pool: sizes share quarter-octave buckets; a freed buffer serves the next tensor", async () => {
  // Powers of two up to 4 KiB, then four buckets per octave (at most 25% slack).
  const cases: [number, number][] = [
    [1, 64],
    [65, 128],
    [4096, 4096],
    [4097, 5120],
    [5000, 5120],
    [5121, 6144],
    [1 << 20, 1 << 20],
    [(1 << 20) + 1, 1.25 * (1 << 20)],
  ];
  for (const [bytes, bucket] of cases) {
    if (bucketSize(bytes) !== bucket)
      throw new Error(`bucketSize(${bytes}) = ${bucketSize(bytes)}, expected ${bucket}`);
  }
  for (let b = 1; b < 1 << 22; b = Math.ceil(b * 1.37)) {
    const k = bucketSize(b);
    const slack = b <= 4096 ? 2 : 1.25;
    if (k < b || (b > 64 && k >= slack * b)) throw new Error(`bucket ${k} for ${b} bytes`);
  }
  const gpu = await freshBackend();
  // 2000, 1900 and 1800 floats fall in one bucket (8000, 7600, 7200 bytes -> 8192): once the
  // first is freed (and its batch submitted), the others reuse its buffer (and its staging buffer).
  const a = gpu.fill([2000], 1, "float32");
  await gpu.read({ handle: a, shape: [2000], dtype: "float32" });
  gpu.free(a);
  const created = gpu.stats().created;
  for (const n of [1900, 1800, 1801]) {
    const b = gpu.fill([n], 2, "float32");
    const v = await gpu.read({ handle: b, shape: [n], dtype: "float32" });
    if (v.length !== n || v[n - 1] !== 2) throw new Error(`fill of ${n} read back wrong`);
    gpu.free(b);
  }
  if (gpu.stats().created !== created) {
    throw new Error(`${gpu.stats().created - created} buffers created for same-bucket tensors`);
  }
  gpu.dispose();
});

Deno.test("batched submission: one submit per batchSize dispatches, none in between", async () => {
  const gpu = await freshBackend({ batchSize: 8 });
  const x = gpu.fill([16], 1, "float32");
  await gpu.read({ handle: x, shape: [16], dtype: "float32" });
  const start = gpu.stats().submits;
  const handles = [];
  let y = x;
  for (let i = 0; i < 20; i++) {
    y = gpu.unary("exp", { handle: y, shape: [16], dtype: "float32" });
    handles.push(y);
    const submits = gpu.stats().submits - start;
    if (submits !== Math.floor((i + 1) / 8))
      throw new Error(`after ${i + 1} dispatches: ${submits} submits (batch size 8)`);
  }
  await gpu.read({ handle: y, shape: [16], dtype: "float32" });
  if (gpu.stats().submits - start !== 3)
    throw new Error(`20 dispatches + a read made ${gpu.stats().submits - start} submits, not 3`);
  for (const h of [x, ...handles]) gpu.free(h);
  gpu.dispose();
});

Deno.test("readback is asynchronous and happens only at data(): forward+backward never waits", async () => {
  const gpu = await gpuBackend();
  const [x, w] = s.withBackend(gpu, () =>
    [s.randomNormal([2, 3, 12, 12], { seed: 1 }), s.randomNormal([4, 3, 3, 3], { seed: 2 })].map(
      s.keep,
    ),
  );
  const loss = (v: s.Tensor) =>
    s.sum(s.square(s.maxPool2d(s.conv2d(v, w, { padding: 1, relu: true }), { kernel: 2 })));
  const waits = await countCalls(globalThis.GPUQueue.prototype, "onSubmittedWorkDone", () =>
    countCalls(globalThis.GPUBuffer.prototype, "mapAsync", async () =>
      s.withBackend(gpu, () => s.grad(loss)(x)),
    ),
  );
  const maps = waits.value;
  if (maps.calls !== 0 || waits.calls !== 0) {
    throw new Error(`forward+backward mapped ${maps.calls} buffers, waited ${waits.calls} times`);
  }
  const g = maps.value;
  if (g.backend !== gpu) throw new Error("the gradient is not a webgpu tensor");
  expectThrow(() => g.dataSync(), ["webgpu", "await t.data()"]);
  const read = await countCalls(globalThis.GPUBuffer.prototype, "mapAsync", () => g.data());
  if (read.calls !== 1) throw new Error(`data() mapped ${read.calls} buffers, expected 1`);
  const cpuX = await s.toBackend(x, "cpu");
  const cpuW = await s.toBackend(w, "cpu");
  const want = s.withBackend("cpu", () =>
    s.grad((v: s.Tensor) =>
      s.sum(s.square(s.maxPool2d(s.conv2d(v, cpuW, { padding: 1, relu: true }), { kernel: 2 }))),
    )(cpuX),
  );
  close("gradient", read.value, want.dataSync(), 1e-4);
  s.dispose([x, w, g, cpuX, cpuW, want]);
});

Deno.test("tensors above maxStorageBufferBindingSize are refused naming the op, shape and sizes", async () => {
  const gpu = await gpuBackend();
  const limit = gpu.device.limits.maxStorageBufferBindingSize;
  const before = gpu.liveBytes();
  // conv2d: a 1x1 conv whose output channels push the output over the limit.
  const side = 1024;
  const cout = Math.floor(limit / (4 * side * side)) + 1;
  const outBytes = cout * side * side * 4;
  const x = s.withBackend(gpu, () => s.keep(s.ones([1, 1, side, side])));
  const w = s.withBackend(gpu, () => s.keep(s.ones([cout, 1, 1, 1])));
  expectThrow(
    () => s.withBackend(gpu, () => s.conv2d(x, w)),
    [
      "conv2d output",
      `[1,${cout},${side},${side}]`,
      `${outBytes} bytes`,
      `maxStorageBufferBindingSize (${limit} bytes)`,
    ],
  );
  // resize: the second axis map's output is too large.
  const big = Math.ceil(Math.sqrt(limit / 4)) + 1;
  const small = s.withBackend(gpu, () => s.keep(s.ones([1, 1, 2, 2])));
  expectThrow(
    () => s.withBackend(gpu, () => s.tidy(() => s.resize(small, [big, big]))),
    ["axisMap output", `[1,1,${big},${big}]`, `${big * big * 4} bytes`, String(limit)],
  );
  s.dispose([x, w, small]);
  if (gpu.liveBytes() !== before)
    throw new Error(`liveBytes ${gpu.liveBytes()} after the refused ops, expected ${before}`);
  // The backend is still fine afterwards.
  const y = s.withBackend(gpu, () => s.add(s.ones([3]), s.ones([3])));
  if (Array.from(await y.data()).join() !== "2,2,2")
    throw new Error("backend broken after refusal");
  y.dispose();
});

Deno.test("axis maps are uploaded once: a second identical resize writes no storage buffer", async () => {
  const gpu = await freshBackend();
  const x = s.withBackend(gpu, () => s.keep(s.randomUniform([1, 2, 9, 11], { seed: 5 })));
  const resizeOnce = () =>
    s.withBackend(gpu, () => s.resize(x, [20, 17], { mode: "bicubic" })).data();
  // Storage-buffer writes only (uniform writes happen per dispatch).
  const storageWrites = (_self: unknown, args: unknown[]) =>
    ((args[0] as GPUBuffer).usage & 0x80) !== 0;
  const proto = Object.getPrototypeOf(gpu.device.queue);
  const first = await countCalls(proto, "writeBuffer", resizeOnce, storageWrites);
  const st1 = gpu.stats();
  if (first.calls !== 6 || st1.constantMisses !== 2 || st1.constantEntries !== 2) {
    throw new Error(
      `first resize: ${first.calls} storage writes (expected 6: two maps x 3 arrays), stats ${JSON.stringify(st1)}`,
    );
  }
  // resize() builds fresh map objects each call; the cache finds them by content.
  const second = await countCalls(proto, "writeBuffer", resizeOnce, storageWrites);
  const st2 = gpu.stats();
  if (second.calls !== 0)
    throw new Error(`second identical resize wrote ${second.calls} storage buffers`);
  if (st2.constantHits - st1.constantHits !== 2 || st2.constantMisses !== st1.constantMisses)
    throw new Error(`second resize: hits ${st2.constantHits}, misses ${st2.constantMisses}`);
  const cpuX = await s.toBackend(x, "cpu");
  const want = s.withBackend("cpu", () => s.resize(cpuX, [20, 17], { mode: "bicubic" }));
  close("resize (cached maps)", second.value, want.dataSync());
  // The gradient (transposed maps) goes through the same cache: uploaded once, then hits.
  const gradOnce = () =>
    s.withBackend(gpu, () =>
      s.grad((v: s.Tensor) => s.sum(s.square(s.resize(v, [20, 17], { mode: "bicubic" }))))(x),
    );
  const g1 = gradOnce();
  await g1.data();
  const { constantMisses: misses, constantHits: hits } = gpu.stats();
  const g2 = gradOnce();
  await g2.data();
  const st = gpu.stats();
  if (st.constantMisses !== misses || st.constantHits - hits !== 4)
    throw new Error(`second identical gradient: ${JSON.stringify(st)}`);
  // Freed on dispose: the cache is empty, and the backend refuses further work.
  s.dispose([x, cpuX, want, g1, g2]);
  gpu.dispose();
  const st3 = gpu.stats();
  if (st3.constantEntries !== 0 || st3.constantBytes !== 0 || st3.freeBuffers !== 0)
    throw new Error(`after dispose: ${JSON.stringify(st3)}`);
  expectThrow(() => gpu.fill([2], 0, "float32"), ["disposed"]);
});

Deno.test("axis-map cache is bounded: least recently used maps are evicted, results stay right", async () => {
  const gpu: WebGPUBackend = await freshBackend({ maxConstantEntries: 3 });
  const x = s.withBackend(gpu, () => s.keep(s.randomUniform([1, 1, 6, 6], { seed: 9 })));
  const cpuX = await s.toBackend(x, "cpu");
  // Eight different sizes, recorded without reading in between, so maps are evicted while the
  // commands that read them are still unsubmitted (their buffers must not be reused before).
  const sizes = [7, 8, 9, 10, 11, 12, 13, 14];
  const outs = s.withBackend(gpu, () =>
    sizes.map((n) => s.resize(x, [n, n + 1], { mode: "bilinear" })),
  );
  // Nine distinct maps (6 -> 7 ... 6 -> 15; the W map of one size is the H map of the next).
  const st = gpu.stats();
  if (st.constantEntries > 3) throw new Error(`${st.constantEntries} cached maps (max 3)`);
  if (st.constantEvictions < 9 - 3) throw new Error(`only ${st.constantEvictions} evictions`);
  for (let i = 0; i < sizes.length; i++) {
    const n = sizes[i];
    const want = s.withBackend("cpu", () => s.resize(cpuX, [n, n + 1], { mode: "bilinear" }));
    close(`resize to ${n}x${n + 1}`, await outs[i].data(), want.dataSync());
    want.dispose();
  }
  s.dispose([x, cpuX, ...outs]);
  gpu.dispose();
});

Deno.test("dispose() of a backend that requested its own device destroys that device", async () => {
  const own = await createWebGPUBackend();
  const t = s.withBackend(own, () => s.tidy(() => s.resize(s.ones([1, 1, 2, 2]), [4, 4])));
  if ((await t.data())[5] !== 1) throw new Error("resize of ones is not ones");
  t.dispose();
  own.dispose();
  own.dispose(); // idempotent
  await own.device.lost;
  expectThrow(() => own.fill([1], 0, "float32"), ["disposed", "createWebGPUBackend"]);
  // The shared test device is untouched.
  const shared = await gpuBackend();
  const y = s.withBackend(shared, () => s.mul(s.ones([2]), s.scalar(3)));
  if (Array.from(await y.data()).join() !== "3,3") throw new Error("shared device broken");
  y.dispose();
});

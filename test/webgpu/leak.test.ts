/**
 * 1000 forward + backward passes of a small conv net (conv, ReLU, max pool, bilinear resize, conv)
 * through grad() on WebGPU: the backend's live byte count returns to its starting value after
 * every pass, the pool's in-use bytes are the same at every read, the pool stops allocating and
 * the axis-map cache stops uploading after warm-up. The final gradient is checked against the
 * same computation on the CPU backend.
 */
import * as s from "../../src/index.ts";
import { gpuBackend } from "./gpu.ts";

const PASSES = 1000;
/** Batch boundaries fall at different points of successive passes; the pool settles within this. */
const WARMUP = 100;

function net(x: s.Tensor, w1: s.Tensor, b1: s.Tensor, w2: s.Tensor): s.Tensor {
  const h = s.conv2d(x, w1, { bias: b1, padding: 1, relu: true });
  const p = s.resize(s.maxPool2d(h, { kernel: 2 }), [6, 6], { mode: "bilinear" });
  const y = s.conv2d(p, w2, { padding: 1 });
  return s.sum(s.mul(y, y));
}

function params(): s.Tensor[] {
  return [
    s.randomNormal([1, 3, 8, 8], { seed: 1 }),
    s.randomNormal([4, 3, 3, 3], { seed: 2 }),
    s.randomNormal([4], { seed: 3 }),
    s.randomNormal([2, 4, 3, 3], { seed: 4 }),
  ];
}

const step = (xs: s.Tensor[]) =>
  s.grads((x: s.Tensor, w1: s.Tensor) => net(x, w1, xs[2], xs[3]))([xs[0], xs[1]]);

Deno.test(`${PASSES} forward+backward passes keep the WebGPU pool's live bytes flat`, async () => {
  const gpu = await gpuBackend();
  const xs = s.withBackend(gpu, () => params().map((t) => s.keep(t)));
  const start = gpu.liveBytes();
  let created = 0;
  let uploads = 0;
  let inUse = -1;
  let last: Float32Array | null = null;
  for (let i = 0; i < PASSES; i++) {
    const [gx, gw] = s.withBackend(gpu, () => step(xs));
    if (i === WARMUP - 1) {
      created = gpu.stats().created;
      uploads = gpu.stats().constantMisses;
    }
    // Read now and then, so the queue cannot run far ahead of the host.
    if (i % 50 === 49 || i === PASSES - 1) {
      last = (await gx.data()) as Float32Array;
      // Right after a read everything is submitted: what the pool hands out must not creep up.
      const now = gpu.stats().inUseBytes;
      if (inUse < 0) inUse = now;
      else if (now !== inUse) throw new Error(`pass ${i}: pool in-use bytes ${now} != ${inUse}`);
    }
    s.dispose([gx, gw]);
    if (gpu.liveBytes() !== start)
      throw new Error(`pass ${i}: liveBytes ${gpu.liveBytes()} != ${start} at the start`);
  }
  const grown = gpu.stats().created - created;
  if (grown > 0) throw new Error(`the pool created ${grown} buffers after warm-up`);
  const uploaded = gpu.stats().constantMisses - uploads;
  if (uploaded > 0) throw new Error(`${uploaded} axis maps uploaded again after warm-up`);
  // The same gradient on the CPU backend.
  const cpuXs = await Promise.all(xs.map((t) => s.toBackend(t, "cpu")));
  const [want] = s.withBackend("cpu", () => step(cpuXs));
  const w = want.dataSync();
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs((last as Float32Array)[i] - w[i]) <= 1e-4 + 1e-4 * Math.abs(w[i]))) {
      throw new Error(`gradient element ${i}: webgpu ${(last as Float32Array)[i]}, cpu ${w[i]}`);
    }
  }
  s.dispose([...xs, ...cpuXs, want]);
  if (gpu.liveBytes() !== start - xs.reduce((a, t) => a + t.size * 4, 0)) {
    throw new Error(`liveBytes ${gpu.liveBytes()} after disposing the parameters`);
  }
});

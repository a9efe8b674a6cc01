/**
 * salient in a web page, on the page's own GPUDevice: the app requests the adapter and device
 * itself (as it would for its own rendering) and hands the device to salient's WebGPU backend.
 * The bundled Fashion-MNIST classifier explains a photo of a garment with integrated gradients on
 * WebGPU and on the CPU; the overlay is drawn on a canvas and the comparison is written into
 * <pre id="result"> as JSON. Bundle it with esbuild (see run-in-chromium.mjs).
 */
import {
  drawImageData,
  FASHION_CLASSES,
  fromImageBitmap,
  integratedGradients,
  loadBundledClassifier,
  overlayImageData,
  setBackend,
  type Tensor,
} from "salient";
import { createWebGPUBackend } from "salient/webgpu";

const IMAGE_URL = "fashion-mnist.png";
const STEPS = 16;

interface Explanation {
  /** The backend the map was computed on. */
  backend: string;
  top: number;
  logits: Float32Array;
  map: Float32Array;
  delta: number;
}

/** Classifies and explains the image on the current backend. */
async function explain(bitmap: ImageBitmap, canvas?: HTMLCanvasElement): Promise<Explanation> {
  const model = loadBundledClassifier("fashion-cnn");
  const f = (x: Tensor) => model.call(x);
  const x = fromImageBitmap(bitmap, { channels: 1 }); // [1, 1, 28, 28] in [0, 1]
  const logits = await f(x).data();
  const top = logits.indexOf(Math.max(...logits));
  const ig = await integratedGradients(f, x, top, { steps: STEPS });
  if (canvas) drawImageData(await overlayImageData(x, ig.map, { sign: "all" }), canvas);
  return {
    backend: ig.map.backend.name,
    top,
    logits: Float32Array.from(logits),
    map: Float32Array.from(await ig.map.data()),
    delta: ig.delta?.[0] ?? Number.NaN,
  };
}

async function main(): Promise<Record<string, unknown>> {
  if (!navigator.gpu) throw new Error("this browser has no WebGPU (navigator.gpu is missing)");
  // The app's own device: salient borrows it and never destroys it.
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error("requestAdapter() returned null");
  const device = await adapter.requestDevice();
  const gpu = await createWebGPUBackend({ device });

  const bitmap = await createImageBitmap(await (await fetch(IMAGE_URL)).blob());
  const canvas = document.querySelector<HTMLCanvasElement>("#overlay") ?? undefined;

  const cpu = setBackend("cpu");
  const onCpu = await explain(bitmap);
  setBackend(gpu);
  const onGpu = await explain(bitmap, canvas);
  setBackend(cpu);

  let maxAbsDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < onCpu.map.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(onGpu.map[i] - onCpu.map[i]));
    maxAbs = Math.max(maxAbs, Math.abs(onCpu.map[i]));
  }
  const logitsMaxAbsDiff = Math.max(...onCpu.logits.map((v, i) => Math.abs(v - onGpu.logits[i])));
  // The device is still the app's: it can run its own work after salient's.
  const probe = device.createBuffer({ size: 4, usage: GPUBufferUsage.STORAGE });
  probe.destroy();
  return {
    backend: onGpu.backend,
    cpuBackend: onCpu.backend,
    adapter: gpu.adapterDescription,
    sharedDevice: gpu.device === device,
    topClassCpu: onCpu.top,
    topClassGpu: onGpu.top,
    label: FASHION_CLASSES[onGpu.top],
    maxAbsDiff,
    maxAbsMap: maxAbs,
    logitsMaxAbsDiff,
    deltaCpu: onCpu.delta,
    deltaGpu: onGpu.delta,
    canvas: canvas ? [canvas.width, canvas.height] : null,
  };
}

const out = document.querySelector("#result");
main().then(
  (r) => {
    if (out) out.textContent = JSON.stringify(r, null, 2);
    document.title = `done: ${r.label}`;
  },
  (e: Error) => {
    if (out) out.textContent = JSON.stringify({ error: e.message, stack: e.stack });
    document.title = "failed";
  },
);

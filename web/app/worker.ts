/**
 * The explorer's worker: every computation runs here so the page stays responsive. It picks the
 * backend (WebGPU when an adapter exists, else the CPU), holds the loaded models and images per
 * view slot, and answers the page's requests (see protocol.ts). Cancelling is the page's job: it
 * terminates this worker and starts a fresh one.
 */
import { ARCHITECTURES, CpuBackend, METHODS, optionText, setBackend } from "../../src/index.ts";
import { createWebGPUBackend } from "../../src/webgpu.ts";
import { type ClassifierState, loadClassifierJob, runAttributeJob } from "./classify-job.ts";
import { decodeImage } from "./decode.ts";
import { type LamInput, lamInput, picture, runLamJob, srOutput } from "./lam-job.ts";
import type { BackendChoice, FromWorker, MethodInfo, ToWorker } from "./protocol.ts";
import { loadSrNet, type SrNet } from "./sr-models.ts";

interface SrSlot {
  net: SrNet;
  input: LamInput;
  sr: Awaited<ReturnType<typeof srOutput>>;
  scale: number;
}

const slots = new Map<string, SrSlot>();
let classifier: ClassifierState | null = null;
/** For what reads values back synchronously (image preparation, pictures). */
const cpu = new CpuBackend();

const post = (m: FromWorker, transfer: Transferable[] = []) =>
  (self as unknown as Worker).postMessage(m, transfer);

/** The registry's methods that explain an image (class-model synthesises one instead). */
function methodInfo(): MethodInfo[] {
  return Object.entries(METHODS)
    .filter(([, e]) => !e.noImage)
    .map(([name, e]) => ({
      name,
      summary: e.summary,
      options: e.options,
      optionTexts: e.options.map(optionText),
      sign: e.sign,
    }));
}

type Ready = Extract<FromWorker, { type: "ready" }>;

async function pickBackend(choice: BackendChoice): Promise<Ready> {
  const r = await startBackend(choice);
  return { ...r, type: "ready", methods: methodInfo(), architectures: Object.keys(ARCHITECTURES) };
}

async function startBackend(
  choice: BackendChoice,
): Promise<{ backend: string; adapter: string; fallbackReason?: string }> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (choice !== "cpu") {
    let reason = "this browser has no WebGPU (navigator.gpu) in workers";
    if (gpu) {
      try {
        const adapter = await gpu.requestAdapter();
        if (adapter) {
          const b = await createWebGPUBackend();
          setBackend(b);
          return { backend: b.name, adapter: b.adapterDescription };
        }
        reason = "no WebGPU adapter (requestAdapter returned null)";
      } catch (e) {
        reason = `WebGPU failed to start: ${(e as Error).message}`;
      }
    }
    if (choice === "webgpu") throw new Error(`?backend=webgpu was asked for, but ${reason}`);
    setBackend(cpu);
    return { backend: "cpu", adapter: "JavaScript", fallbackReason: reason };
  }
  setBackend(cpu);
  return { backend: "cpu", adapter: "JavaScript" };
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case "init":
      post(await pickBackend(m.backend));
      return;
    case "load-sr": {
      const old = slots.get(m.slot);
      slots.delete(m.slot);
      old?.input.lr.dispose();
      const img = await decodeImage(m.image);
      const net = await loadSrNet(m.model, m.scale);
      const input = lamInput(img, m.scale, m.crop, m.asLr, cpu);
      let sr: SrSlot["sr"];
      try {
        sr = await srOutput(net, input, m.scale);
      } catch (e) {
        input.lr.dispose();
        throw e;
      }
      slots.set(m.slot, { net, input, sr, scale: m.scale });
      const pic = picture(sr);
      post(
        {
          type: "sr-loaded",
          id: m.id,
          slot: m.slot,
          modelName: net.name,
          parameters: net.parameters,
          scale: m.scale,
          lrWidth: input.lr.shape[3],
          lrHeight: input.lr.shape[2],
          sr: pic,
        },
        [pic.data.buffer],
      );
      return;
    }
    case "lam": {
      const slot = slots.get(m.slot);
      if (!slot) throw new Error(`no model is loaded in view "${m.slot}"`);
      const r = await runLamJob(
        slot.net,
        slot.input,
        slot.sr,
        slot.scale,
        m.settings,
        (done, total) => post({ type: "progress", id: m.id, done, total }),
        cpu,
      );
      post(
        { type: "lam-result", id: m.id, slot: m.slot, ...r },
        r.panels.map((p) => p.image.data.buffer),
      );
      return;
    }
    case "load-classifier": {
      classifier?.input.dispose();
      classifier = null;
      const img = await decodeImage(m.image);
      const { state, loaded } = await loadClassifierJob(m.model, img);
      classifier = state;
      post({ ...loaded, id: m.id }, [loaded.input.data.buffer]);
      return;
    }
    case "attribute": {
      if (!classifier) throw new Error("no classifier is loaded");
      const r = await runAttributeJob(classifier, m);
      post({ ...r, id: m.id }, [r.map.buffer]);
      return;
    }
  }
}

// Requests run one at a time, in order: the engine's scopes are not re-entrant across awaits.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  queue = queue.then(() =>
    handle(m).catch((err: Error) =>
      post({ type: "error", id: "id" in m ? m.id : -1, message: err?.message ?? String(err) }),
    ),
  );
};

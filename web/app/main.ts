/**
 * The explorer page: reads the state from the URL, starts the worker (WebGPU when an adapter
 * exists, else the CPU), wires the controls of both modes, takes dropped files, and keeps the URL
 * in step with what is shown so a link reproduces the view.
 */
import { CLASSIFIER_IMAGES, ClassifyView } from "./classify-view.ts";
import { el } from "./draw.ts";
import { type Catalogue, LamView } from "./lam-view.ts";
import {
  type AppState,
  type ClassifierSource,
  DEFAULT_STATE,
  defaultScale,
  type ImageSource,
  type LamPathKind,
  parseState,
  type SrSource,
  stateQuery,
} from "./protocol.ts";
import { WorkerClient } from "./worker-client.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const message = $<HTMLElement>("message");

function showMessage(text: string, kind: "error" | "info" = "info"): void {
  message.textContent = text;
  message.className = kind;
  message.hidden = false;
}

let state: AppState;
try {
  state = parseState(location.search);
} catch (e) {
  state = { ...DEFAULT_STATE };
  showMessage(`${(e as Error).message}; showing the defaults instead`, "error");
}

async function catalogue(): Promise<Catalogue> {
  try {
    const res = await fetch("catalogue.json");
    if (res.ok) return (await res.json()) as Catalogue;
  } catch {}
  return { photos: ["astronaut", "brick", "chelsea", "coffee", "rocket"], upscaler: [] };
}

const cat = await catalogue();
const client = new WorkerClient(new URL("worker.js", import.meta.url).href, state.backend);
const backendBadge = $<HTMLElement>("backend");
const ready = await client.ready.catch((e: Error) => {
  showMessage(e.message, "error");
  return null;
});
client.ready.then(
  (r) => {
    backendBadge.textContent = `${r.backend === "webgpu" ? "WebGPU" : "CPU"} · ${r.adapter}`;
    backendBadge.dataset.backend = r.backend;
    if (r.fallbackReason) backendBadge.title = `CPU fallback: ${r.fallbackReason}`;
  },
  (e: Error) => {
    backendBadge.textContent = "no backend";
    showMessage(e.message, "error");
  },
);

const droppedSr = new Map<string, SrSource>();
const droppedClassifiers = new Map<string, ClassifierSource>();
const droppedImages = new Map<string, ImageSource>();

function syncUrl(): void {
  history.replaceState(null, "", `?${stateQuery(state)}`);
}

// ---- LAM mode controls ----
const modelSel = $<HTMLSelectElement>("model");
const compareSel = $<HTMLSelectElement>("compare");
const imageSel = $<HTMLSelectElement>("image");
const scaleIn = $<HTMLInputElement>("scale");
const cropIn = $<HTMLInputElement>("crop");
const asLr = $<HTMLInputElement>("as-lr");
const winSize = $<HTMLInputElement>("win-size");
const foldIn = $<HTMLInputElement>("fold");
const sigmaIn = $<HTMLInputElement>("sigma");
const pathSel = $<HTMLSelectElement>("path");
const batchIn = $<HTMLInputElement>("batch");
const archSel = $<HTMLSelectElement>("arch");
const rangeIn = $<HTMLInputElement>("range");

function options(sel: HTMLSelectElement, names: string[], value: string): void {
  sel.replaceChildren(...names.map((n) => el("option", { value: n }, n || "none")));
  if (value && !names.includes(value)) sel.append(el("option", { value }, value));
  sel.value = value;
}

function srNames(): string[] {
  return ["bicubic", "fsrcnn-x2", ...cat.upscaler.map((u) => u.name), ...droppedSr.keys()];
}

function fillLamControls(): void {
  options(modelSel, srNames(), state.model);
  options(compareSel, ["", ...srNames()], state.compare);
  options(imageSel, [...cat.photos, ...droppedImages.keys()], state.image);
  scaleIn.value = String(state.scale);
  cropIn.value = String(state.crop);
  // Without a window (a new model or image), the size the user chose stays.
  winSize.value = String(state.window?.size ?? (Number(winSize.value) || 16));
  foldIn.value = String(state.fold);
  sigmaIn.value = String(state.sigma);
  pathSel.value = state.path;
  batchIn.value = String(state.batch);
}
archSel.replaceChildren(...(ready?.architectures ?? []).map((a) => el("option", { value: a }, a)));

const lam = new LamView(
  {
    client: () => client,
    state,
    catalogue: cat,
    droppedModels: droppedSr,
    droppedImages,
    asLr: () => asLr.checked,
    windowSize: () => Number(winSize.value) || 16,
    onStateChange: syncUrl,
    showMessage,
  },
  $("views"),
  $<HTMLButtonElement>("cancel"),
);

function reloadLam(): void {
  message.hidden = true;
  syncUrl();
  void lam.load();
}

modelSel.addEventListener("change", () => {
  state.model = modelSel.value;
  if (!droppedSr.has(state.model)) state.scale = defaultScale(state.model);
  scaleIn.value = String(state.scale);
  state.window = null;
  reloadLam();
});
compareSel.addEventListener("change", () => {
  state.compare = compareSel.value;
  reloadLam();
});
imageSel.addEventListener("change", () => {
  state.image = imageSel.value;
  state.window = null;
  reloadLam();
});
for (const [input, apply] of [
  [scaleIn, (v: number) => (state.scale = v)],
  [cropIn, (v: number) => (state.crop = v)],
] as const) {
  input.addEventListener("change", () => {
    const v = Number(input.value);
    if (!Number.isInteger(v) || v < Number(input.min)) {
      showMessage(
        `${input.name} must be an integer >= ${input.min}, got "${input.value}"`,
        "error",
      );
      return;
    }
    apply(v);
    state.window = null;
    reloadLam();
  });
}
asLr.addEventListener("change", reloadLam);

function numberSetting(input: HTMLInputElement, apply: (v: number) => void, integer = true): void {
  input.addEventListener("change", () => {
    const v = Number(input.value);
    if (!(v >= Number(input.min)) || (integer && !Number.isInteger(v))) {
      showMessage(
        `${input.name} must be ${integer ? "an integer" : "a number"} >= ${input.min}`,
        "error",
      );
      return;
    }
    apply(v);
    syncUrl();
  });
}
numberSetting(winSize, (v) => {
  if (state.window) state.window = { ...state.window, size: v };
});
numberSetting(foldIn, (v) => (state.fold = v));
numberSetting(sigmaIn, (v) => (state.sigma = v), false);
numberSetting(batchIn, (v) => (state.batch = v));
pathSel.addEventListener("change", () => {
  state.path = pathSel.value as LamPathKind;
  syncUrl();
});
$<HTMLButtonElement>("rerun").addEventListener("click", () => {
  if (!state.window) state.window = { x: 0, y: 0, size: Number(winSize.value) || 16 };
  syncUrl();
  void lam.run();
});

// ---- Classifier mode ----
const cModel = $<HTMLSelectElement>("c-model");
const cImage = $<HTMLSelectElement>("c-image");
const classify = new ClassifyView(
  {
    client: () => client,
    state,
    droppedModels: droppedClassifiers,
    droppedImages,
    onStateChange: syncUrl,
    showMessage,
  },
  ready?.methods ?? [],
  {
    method: $("c-method"),
    params: $("c-params"),
    target: $("c-target"),
    result: $("c-result"),
    gallery: $("c-gallery"),
    curves: $("c-curves"),
  },
);
function fillClassifyControls(): void {
  options(cModel, ["fashion-cnn", ...droppedClassifiers.keys()], state.model);
  options(cImage, [...CLASSIFIER_IMAGES, ...droppedImages.keys()], state.image);
}
async function reloadClassify(run: boolean): Promise<void> {
  message.hidden = true;
  syncUrl();
  if ((await classify.load()) && run) await classify.run();
}
cModel.addEventListener("change", () => {
  state.model = cModel.value;
  state.target = null;
  void reloadClassify(false);
});
cImage.addEventListener("change", () => {
  state.image = cImage.value;
  state.target = null;
  void reloadClassify(false);
});
$<HTMLButtonElement>("c-run").addEventListener("click", () => void classify.run());
$<HTMLButtonElement>("c-gallery-run").addEventListener("click", () => void classify.gallery());

// ---- Dropped files: images, ONNX models, tfjs folders, weights for an architecture ----
const IMAGE_FILE = /\.(png|jpe?g|webp|gif|bmp)$/i;
const WEIGHTS_FILE = /\.(safetensors|pth|pt|bin)$/i;

async function takeFiles(files: File[]): Promise<void> {
  const byName = new Map(files.map((f) => [f.name, f]));
  let newModel: string | null = null;
  let newImage: string | null = null;
  const json = byName.get("model.json");
  if (json) {
    const all: Record<string, ArrayBuffer> = {};
    for (const f of files) if (!IMAGE_FILE.test(f.name)) all[f.name] = await f.arrayBuffer();
    const name = `${files.find((f) => f.name !== "model.json")?.webkitRelativePath.split("/")[0] || "dropped"}/model.json`;
    droppedSr.set(name, {
      kind: "tfjs-files",
      name,
      files: all,
      range: Number(rangeIn.value) || 1,
    });
    newModel = name;
  }
  for (const f of files) {
    if (IMAGE_FILE.test(f.name)) {
      droppedImages.set(f.name, {
        kind: "bytes",
        name: f.name,
        bytes: await f.arrayBuffer(),
        type: f.type,
      });
      newImage = f.name;
    } else if (/\.onnx$/i.test(f.name)) {
      const bytes = await f.arrayBuffer();
      if (state.mode === "classify")
        droppedClassifiers.set(f.name, { kind: "onnx", name: f.name, bytes });
      else
        droppedSr.set(f.name, {
          kind: "onnx",
          name: f.name,
          bytes,
          range: Number(rangeIn.value) || 1,
        });
      newModel = f.name;
    } else if (!json && WEIGHTS_FILE.test(f.name)) {
      droppedSr.set(f.name, {
        kind: "weights",
        name: f.name,
        bytes: await f.arrayBuffer(),
        arch: archSel.value,
      });
      newModel = f.name;
    } else if (!json) {
      showMessage(
        `${f.name}: not a file the explorer reads (images; .onnx; a tfjs model.json with its shards; .safetensors/.pth weights with an architecture)`,
        "error",
      );
    }
  }
  if (newModel) {
    state.model = newModel;
    state.target = null;
  }
  if (newImage) {
    state.image = newImage;
    state.target = null;
  }
  if (!newModel && !newImage) return;
  state.window = null;
  if (state.mode === "lam") {
    fillLamControls();
    reloadLam();
  } else {
    fillClassifyControls();
    await reloadClassify(false);
  }
}

const fileInput = $<HTMLInputElement>("files");
fileInput.addEventListener("change", () => void takeFiles([...(fileInput.files ?? [])]));
const drop = $<HTMLElement>("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  void takeFiles([...(e.dataTransfer?.files ?? [])]);
});

// ---- Modes ----
function showMode(mode: AppState["mode"], fresh: boolean): void {
  document.body.dataset.mode = mode;
  for (const tab of document.querySelectorAll<HTMLButtonElement>("[data-tab]"))
    tab.setAttribute("aria-selected", String(tab.dataset.tab === mode));
  if (fresh) {
    const d = parseState(mode === "classify" ? "?mode=classify" : "");
    Object.assign(state, {
      mode,
      model: d.model,
      image: d.image,
      scale: d.scale,
      window: null,
      target: null,
    });
  }
  if (mode === "lam") {
    fillLamControls();
    reloadLam();
  } else {
    fillClassifyControls();
    // A link that names a method shows its map at once; otherwise the user picks first.
    void reloadClassify(!fresh && new URLSearchParams(location.search).has("method"));
  }
}
for (const tab of document.querySelectorAll<HTMLButtonElement>("[data-tab]"))
  tab.addEventListener("click", () => {
    if (tab.dataset.tab !== state.mode) showMode(tab.dataset.tab as AppState["mode"], true);
  });

showMode(state.mode, false);

/**
 * What the explorer page and its worker say to each other, and the page state a URL carries.
 * Pure data and parsing: no DOM, no worker globals, so the URL rules are unit-testable in Node.
 */
import type { MethodOption } from "../../src/index.ts";

/** Where a super-resolution model comes from. */
export type SrSource =
  | { kind: "bicubic" }
  | { kind: "fsrcnn-x2" }
  /** A TensorFlow.js layers-model by URL (the UpscalerJS packages); `range` is its value scale. */
  | { kind: "tfjs-url"; name: string; url: string; range: number }
  /** A dropped ONNX file. */
  | { kind: "onnx"; name: string; bytes: ArrayBuffer; range: number }
  /** A dropped tfjs folder: model.json and its shards by file name. */
  | { kind: "tfjs-files"; name: string; files: Record<string, ArrayBuffer>; range: number }
  /** A dropped weights file (safetensors, .pth, ONNX initialisers) for a zoo architecture. */
  | { kind: "weights"; name: string; bytes: ArrayBuffer; arch: string };

/** Where a classifier comes from. */
export type ClassifierSource =
  | { kind: "fashion-cnn" }
  | { kind: "onnx"; name: string; bytes: ArrayBuffer };

/** An image: a URL (bundled photos) or the bytes of a dropped file. */
export type ImageSource =
  | { kind: "url"; url: string }
  | { kind: "bytes"; name: string; bytes: ArrayBuffer; type: string };

export interface LamWindowSpec {
  x: number;
  y: number;
  size: number;
}

export type LamPathKind = "blur" | "linear-black" | "linear-blur";

export interface LamSettings {
  window: LamWindowSpec;
  fold: number;
  sigma: number;
  l: number;
  batch: number;
  path: LamPathKind;
}

/** RGBA bytes of a picture sent between the threads. */
export interface Picture {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export type ToWorker =
  | { type: "init"; backend: BackendChoice }
  | {
      type: "load-sr";
      id: number;
      slot: string;
      model: SrSource;
      image: ImageSource;
      scale: number;
      /** Centred HR crop in pixels before downscaling (0: the whole image). */
      crop: number;
      /** true: the image is the LR input as it is; false: an HR image, downscaled as the CLI does. */
      asLr: boolean;
    }
  | { type: "lam"; id: number; slot: string; settings: LamSettings }
  | { type: "load-classifier"; id: number; model: ClassifierSource; image: ImageSource }
  | {
      type: "attribute";
      id: number;
      method: string;
      params: Record<string, string>;
      target: number;
      curves: boolean;
    };

export interface SrLoaded {
  type: "sr-loaded";
  id: number;
  slot: string;
  modelName: string;
  parameters: number;
  scale: number;
  lrWidth: number;
  lrHeight: number;
  /** The model's output on the LR image, clipped to [0, 1]: the picture the user clicks on. */
  sr: Picture;
}

export interface LamDone {
  type: "lam-result";
  id: number;
  slot: string;
  panels: { title: string; image: Picture }[];
  gini: number;
  diffusionIndex: number;
  delta: number;
  seconds: number;
}

export interface ClassifierLoaded {
  type: "classifier-loaded";
  id: number;
  modelName: string;
  classNames: string[];
  probabilities: number[];
  input: Picture;
}

export interface MapDone {
  type: "map-result";
  id: number;
  method: string;
  target: number;
  /** The map summed over channels [h * w], row-major. */
  map: Float32Array;
  width: number;
  height: number;
  /** Deletion / insertion curves (score after each fraction of pixels), when asked. */
  deletion?: number[];
  insertion?: number[];
  seconds: number;
}

/** A registry method as the page offers it: name, summary, options (as data, and as help text). */
export interface MethodInfo {
  name: string;
  summary: string;
  options: readonly MethodOption[];
  /** Each option as `salient methods` shows it ("--steps N (50)"), for the input's tooltip. */
  optionTexts: string[];
  sign: "positive" | "absolute" | "all";
}

export type FromWorker =
  | {
      type: "ready";
      backend: string;
      adapter: string;
      fallbackReason?: string;
      /** The method registry as the page shows it. */
      methods: MethodInfo[];
      /** Zoo architectures a dropped weights file can be loaded into. */
      architectures: string[];
    }
  | { type: "progress"; id: number; done: number; total: number }
  | { type: "error"; id: number; message: string }
  | SrLoaded
  | LamDone
  | ClassifierLoaded
  | MapDone;

export type BackendChoice = "auto" | "cpu" | "webgpu";

/** Everything a link reproduces. */
export interface AppState {
  mode: "lam" | "classify";
  model: string;
  /** Second SR model for the side-by-side view ("" for none). */
  compare: string;
  image: string;
  scale: number;
  crop: number;
  window: LamWindowSpec | null;
  fold: number;
  sigma: number;
  l: number;
  batch: number;
  path: LamPathKind;
  method: string;
  target: number | null;
  backend: BackendChoice;
}

export const DEFAULT_STATE: AppState = {
  mode: "lam",
  model: "bicubic",
  compare: "",
  image: "astronaut",
  scale: 4,
  crop: 0,
  window: null,
  fold: 50,
  sigma: 1.2,
  l: 9,
  batch: 8,
  path: "blur",
  method: "saliency",
  target: null,
  backend: "auto",
};

const PATHS: readonly LamPathKind[] = ["blur", "linear-black", "linear-blur"];
const BACKENDS: readonly BackendChoice[] = ["auto", "cpu", "webgpu"];

/** The scale a bundled SR model runs at when the URL names none. */
export function defaultScale(model: string): number {
  return model === "fsrcnn-x2" || model === "default-model" ? 2 : 4;
}

function intParam(q: URLSearchParams, key: string, min: number, max: number): number | undefined {
  const v = q.get(key);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`?${key}=${v}: expected an integer from ${min} to ${max}`);
  return n;
}

/** Parses `x,y,size` (SR pixels: x the column, y the row of the top-left corner). */
export function parseWindowParam(v: string): LamWindowSpec {
  const parts = v.split(",").map((s) => Number(s.trim()));
  if (parts.length !== 3 || !parts.every((n) => Number.isInteger(n) && n >= 0) || parts[2] < 1)
    throw new Error(`?window=${v}: expected x,y,size (integers, x and y >= 0, size >= 1)`);
  return { x: parts[0], y: parts[1], size: parts[2] };
}

/** The state a query string describes; errors name the parameter and what it should be. */
export function parseState(search: string): AppState {
  const q = new URLSearchParams(search);
  const s: AppState = { ...DEFAULT_STATE };
  const mode = q.get("mode");
  if (mode !== null) {
    if (mode !== "lam" && mode !== "classify")
      throw new Error(`?mode=${mode}: expected "lam" or "classify"`);
    s.mode = mode;
  }
  if (s.mode === "classify") {
    s.model = "fashion-cnn";
    s.image = "test-0";
  }
  s.model = q.get("model") || s.model;
  s.compare = q.get("compare") ?? "";
  s.image = q.get("image") || s.image;
  s.scale = intParam(q, "scale", 2, 16) ?? defaultScale(s.model);
  s.crop = intParam(q, "crop", 0, 4096) ?? 0;
  const win = q.get("window");
  s.window = win ? parseWindowParam(win) : null;
  s.fold = intParam(q, "fold", 1, 100000) ?? s.fold;
  s.l = intParam(q, "l", 1, 255) ?? s.l;
  s.batch = intParam(q, "batch", 1, 4096) ?? s.batch;
  const sigma = q.get("sigma");
  if (sigma !== null && sigma !== "") {
    const n = Number(sigma);
    if (!(n > 0 && n <= 100)) throw new Error(`?sigma=${sigma}: expected a number in (0, 100]`);
    s.sigma = n;
  }
  const path = q.get("path");
  if (path) {
    if (!PATHS.includes(path as LamPathKind))
      throw new Error(`?path=${path}: expected one of ${PATHS.join(", ")}`);
    s.path = path as LamPathKind;
  }
  s.method = q.get("method") || s.method;
  s.target = intParam(q, "target", 0, 100000) ?? null;
  const backend = q.get("backend");
  if (backend) {
    if (!BACKENDS.includes(backend as BackendChoice))
      throw new Error(`?backend=${backend}: expected one of ${BACKENDS.join(", ")}`);
    s.backend = backend as BackendChoice;
  }
  return s;
}

/** The query string of a state: only what differs from the defaults, so links stay short. */
export function stateQuery(s: AppState): string {
  const q = new URLSearchParams();
  if (s.mode !== "lam") q.set("mode", s.mode);
  q.set("model", s.model);
  q.set("image", s.image);
  if (s.mode === "lam") {
    if (s.compare) q.set("compare", s.compare);
    if (s.scale !== defaultScale(s.model)) q.set("scale", String(s.scale));
    if (s.crop) q.set("crop", String(s.crop));
    if (s.window) q.set("window", `${s.window.x},${s.window.y},${s.window.size}`);
    q.set("fold", String(s.fold));
    if (s.sigma !== DEFAULT_STATE.sigma) q.set("sigma", String(s.sigma));
    if (s.l !== DEFAULT_STATE.l) q.set("l", String(s.l));
    if (s.batch !== DEFAULT_STATE.batch) q.set("batch", String(s.batch));
    if (s.path !== DEFAULT_STATE.path) q.set("path", s.path);
  } else {
    q.set("method", s.method);
    if (s.target !== null) q.set("target", String(s.target));
  }
  if (s.backend !== "auto") q.set("backend", s.backend);
  return q.toString().replaceAll("%2C", ",");
}

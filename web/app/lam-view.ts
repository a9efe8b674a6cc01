/**
 * LAM mode: one or two SR models (side by side) on one image; click or drag a window on an SR
 * output to compute its LAM in the worker, with a progress bar over the path steps and a cancel
 * button; the panels, Gini and diffusion index appear under each model.
 */
import { drawPicture, el, pictureCanvas } from "./draw.ts";
import type {
  AppState,
  ImageSource,
  LamDone,
  LamSettings,
  LamWindowSpec,
  SrLoaded,
  SrSource,
} from "./protocol.ts";
import { CancelledError, type WorkerClient } from "./worker-client.ts";

export interface UpscalerEntry {
  name: string;
  range: number;
  /** model.json URL by scale. */
  urls: Record<string, string>;
}

export interface Catalogue {
  photos: string[];
  upscaler: UpscalerEntry[];
}

export interface LamContext {
  client: () => WorkerClient;
  state: AppState;
  catalogue: Catalogue;
  /** Dropped models and images by the name shown in the pickers. */
  droppedModels: Map<string, SrSource>;
  droppedImages: Map<string, ImageSource>;
  asLr: () => boolean;
  /** The window size a click places. */
  windowSize: () => number;
  onStateChange: () => void;
  showMessage: (text: string, kind?: "error" | "info") => void;
}

interface View {
  slot: string;
  root: HTMLElement;
  title: HTMLElement;
  canvas: HTMLCanvasElement;
  box: HTMLElement;
  progress: HTMLProgressElement;
  status: HTMLElement;
  di: HTMLOutputElement;
  panels: HTMLElement;
  loaded: SrLoaded | null;
}

export function srSource(ctx: LamContext, name: string, scale: number): SrSource {
  if (name === "bicubic") return { kind: "bicubic" };
  if (name === "fsrcnn-x2") return { kind: "fsrcnn-x2" };
  const dropped = ctx.droppedModels.get(name);
  if (dropped) return dropped;
  const up = ctx.catalogue.upscaler.find((u) => u.name === name);
  if (up) {
    const url = up.urls[String(scale)];
    if (!url)
      throw new Error(
        `${name} has no x${scale} model (scales: ${Object.keys(up.urls).join(", ")})`,
      );
    return { kind: "tfjs-url", name: `${name} x${scale}`, url, range: up.range };
  }
  throw new Error(
    `unknown model "${name}" (bundled: bicubic, fsrcnn-x2${ctx.catalogue.upscaler.map((u) => `, ${u.name}`).join("")}; or drop a model file)`,
  );
}

export function imageSource(ctx: LamContext, name: string): ImageSource {
  const dropped = ctx.droppedImages.get(name);
  if (dropped) return dropped;
  if (!ctx.catalogue.photos.includes(name))
    throw new Error(
      `unknown photo "${name}" (bundled: ${ctx.catalogue.photos.join(", ")}; or drop an image)`,
    );
  return { kind: "url", url: `photos/${name}.png` };
}

export class LamView {
  private views: View[] = [];
  private running = false;

  constructor(
    private readonly ctx: LamContext,
    private readonly container: HTMLElement,
    private readonly cancelButton: HTMLButtonElement,
  ) {
    cancelButton.addEventListener("click", () => this.cancel());
  }

  private makeView(slot: string): View {
    const canvas = el("canvas", { class: "sr", "data-slot": slot });
    const box = el("div", { class: "window-box", hidden: "" });
    const wrap = el("div", { class: "sr-wrap" }, canvas, box);
    const title = el("h2", {}, "loading…");
    const progress = el("progress", { max: "1", value: "0", class: "lam-progress" });
    const status = el("span", { class: "view-status" });
    const di = el("output", { class: "di" }, "DI –");
    const panels = el("div", { class: "panels" });
    const root = el(
      "figure",
      { class: "view", "data-slot": slot, "data-state": "loading" },
      title,
      wrap,
      el("div", { class: "run-line" }, progress, status),
      el("div", { class: "stats" }, di),
      panels,
    );
    const v: View = { slot, root, title, canvas, box, progress, status, di, panels, loaded: null };
    this.attachPointer(v, wrap);
    return v;
  }

  /** Click: a window of the chosen size centred there; drag: the window follows, set on release. */
  private attachPointer(v: View, wrap: HTMLElement): void {
    let dragging = false;
    const at = (e: PointerEvent): LamWindowSpec | null => {
      if (!v.loaded) return null;
      const r = v.canvas.getBoundingClientRect();
      const W = v.loaded.sr.width;
      const H = v.loaded.sr.height;
      const px = ((e.clientX - r.left) / r.width) * W;
      const py = ((e.clientY - r.top) / r.height) * H;
      const size = Math.min(this.ctx.windowSize(), W, H);
      const x = Math.max(0, Math.min(W - size, Math.round(px - size / 2)));
      const y = Math.max(0, Math.min(H - size, Math.round(py - size / 2)));
      return { x, y, size };
    };
    wrap.addEventListener("pointerdown", (e) => {
      if (!v.loaded || this.running) return;
      dragging = true;
      wrap.setPointerCapture(e.pointerId);
      const w = at(e);
      if (w) this.drawBoxes(w);
    });
    wrap.addEventListener("pointermove", (e) => {
      if (!dragging) return;
      const w = at(e);
      if (w) this.drawBoxes(w);
    });
    wrap.addEventListener("pointerup", (e) => {
      if (!dragging) return;
      dragging = false;
      const w = at(e);
      if (!w) return;
      this.ctx.state.window = w;
      this.ctx.onStateChange();
      void this.run();
    });
  }

  private drawBoxes(w: LamWindowSpec): void {
    for (const v of this.views) {
      if (!v.loaded) continue;
      const { width: W, height: H } = v.loaded.sr;
      Object.assign(v.box.style, {
        left: `${(100 * w.x) / W}%`,
        top: `${(100 * w.y) / H}%`,
        width: `${(100 * w.size) / W}%`,
        height: `${(100 * w.size) / H}%`,
      });
      v.box.hidden = false;
    }
  }

  /** (Re)loads the models and image of the state; runs LAM when the state has a window. */
  async load(): Promise<void> {
    const s = this.ctx.state;
    document.body.dataset.views = "loading";
    try {
      await this.loadViews(s);
    } finally {
      document.body.dataset.views = "ready";
    }
  }

  private async loadViews(s: AppState): Promise<void> {
    const slots = s.compare
      ? [
          ["a", s.model],
          ["b", s.compare],
        ]
      : [["a", s.model]];
    this.views = slots.map(([slot]) => this.makeView(slot));
    this.container.replaceChildren(...this.views.map((v) => v.root));
    let image: ImageSource;
    try {
      image = imageSource(this.ctx, s.image);
    } catch (e) {
      this.ctx.showMessage((e as Error).message, "error");
      return;
    }
    const results = await Promise.all(
      this.views.map(async (v, i) => {
        const name = slots[i][1];
        try {
          const model = srSource(this.ctx, name, s.scale);
          const r = await this.ctx.client().request<SrLoaded>({
            type: "load-sr",
            slot: v.slot,
            model,
            image,
            scale: s.scale,
            crop: s.crop,
            asLr: this.ctx.asLr(),
          });
          v.loaded = r;
          v.title.textContent = `${r.modelName} · ${r.lrWidth}×${r.lrHeight} → ${r.sr.width}×${r.sr.height}`;
          drawPicture(v.canvas, r.sr);
          v.root.dataset.state = "ready";
          return true;
        } catch (e) {
          if (e instanceof CancelledError) return false;
          v.title.textContent = name;
          v.root.dataset.state = "error";
          this.ctx.showMessage((e as Error).message, "error");
          return false;
        }
      }),
    );
    if (results.some(Boolean) && s.window) {
      const w = s.window;
      const fits = this.views.every(
        (v) =>
          !v.loaded || (w.x + w.size <= v.loaded.sr.width && w.y + w.size <= v.loaded.sr.height),
      );
      if (!fits) {
        this.ctx.showMessage(
          `the window ${w.x},${w.y},${w.size} does not fit the SR image; click on the image to choose one`,
          "error",
        );
        return;
      }
      await this.run();
    }
  }

  settings(): LamSettings | null {
    const s = this.ctx.state;
    if (!s.window) return null;
    return { window: s.window, fold: s.fold, sigma: s.sigma, l: s.l, batch: s.batch, path: s.path };
  }

  async run(): Promise<void> {
    const settings = this.settings();
    if (!settings || this.running) return;
    this.drawBoxes(settings.window);
    this.running = true;
    this.cancelButton.disabled = false;
    document.body.dataset.lam = "running";
    try {
      for (const v of this.views) {
        if (!v.loaded) continue;
        v.root.dataset.state = "running";
        v.di.textContent = "DI –";
        delete v.di.dataset.di;
        v.progress.value = 0;
        v.status.textContent = `0 / ${settings.fold} path steps`;
        const t0 = performance.now();
        try {
          const r = await this.ctx
            .client()
            .request<LamDone>({ type: "lam", slot: v.slot, settings }, (done, total) => {
              v.progress.value = done / total;
              v.status.textContent = `${done} / ${total} path steps`;
            });
          this.show(v, r, (performance.now() - t0) / 1000);
        } catch (e) {
          if (e instanceof CancelledError) {
            v.root.dataset.state = "cancelled";
            v.status.textContent = "cancelled";
            return;
          }
          v.root.dataset.state = "error";
          v.status.textContent = "failed";
          this.ctx.showMessage((e as Error).message, "error");
        }
      }
    } finally {
      this.running = false;
      this.cancelButton.disabled = true;
      document.body.dataset.lam = "idle";
    }
  }

  private show(v: View, r: LamDone, wall: number): void {
    v.di.textContent = `DI ${r.diffusionIndex.toFixed(2)}`;
    v.di.dataset.di = String(r.diffusionIndex);
    v.di.title = `Gini ${r.gini.toFixed(4)}; completeness delta ${r.delta.toExponential(2)}`;
    v.status.textContent = `Gini ${r.gini.toFixed(3)} · ${r.seconds.toFixed(2)} s in the worker, ${wall.toFixed(2)} s from click to map`;
    v.root.dataset.seconds = String(wall);
    v.panels.replaceChildren(
      ...r.panels.map((p) =>
        el("figure", { class: "panel" }, pictureCanvas(p.image), el("figcaption", {}, p.title)),
      ),
    );
    v.root.dataset.state = "done";
  }

  /** Stops the run by restarting the worker, then loads the models again so the page goes on. */
  async cancel(): Promise<void> {
    if (!this.running) return;
    this.cancelButton.disabled = true;
    await this.ctx.client().restart();
    for (const v of this.views) v.root.dataset.state = "cancelled";
    this.ctx.showMessage("LAM cancelled; click a window to run it again", "info");
    const s = this.ctx.state;
    // The fresh worker has no models: load them again without running.
    const win = s.window;
    s.window = null;
    this.running = false;
    await this.load();
    s.window = win;
    if (win) this.drawBoxes(win);
  }
}

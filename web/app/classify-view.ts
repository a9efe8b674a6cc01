/**
 * Classifier mode: the bundled Fashion-MNIST CNN or a dropped ONNX classifier on an image; a method
 * of the registry with its parameters, a target class by name, the map over the image with a
 * colour bar, deletion/insertion curves, and a gallery of several methods side by side.
 */
import { blend, type ColormapName, enlarge, heatmap, type RgbImage } from "../../src/index.ts";
import { colourBar, curvesSvg, el, pictureCanvas, rgbPicture } from "./draw.ts";
import type {
  AppState,
  ClassifierLoaded,
  ClassifierSource,
  ImageSource,
  MapDone,
  MethodInfo,
} from "./protocol.ts";
import { CancelledError, type WorkerClient } from "./worker-client.ts";

export const CLASSIFIER_IMAGES = ["test-0", "test-9", "test-19"];
/** Methods of the gallery: one per family, quick enough to run together. */
export const GALLERY_METHODS = ["saliency", "integrated-gradients", "gradcam", "occlusion"];

export interface ClassifyContext {
  client: () => WorkerClient;
  state: AppState;
  droppedModels: Map<string, ClassifierSource>;
  droppedImages: Map<string, ImageSource>;
  onStateChange: () => void;
  showMessage: (text: string, kind?: "error" | "info") => void;
}

export class ClassifyView {
  loaded: ClassifierLoaded | null = null;
  private inputRgb: RgbImage | null = null;

  private readonly methods: Map<string, MethodInfo>;

  constructor(
    private readonly ctx: ClassifyContext,
    methods: MethodInfo[],
    private readonly els: {
      method: HTMLSelectElement;
      params: HTMLElement;
      target: HTMLSelectElement;
      result: HTMLElement;
      gallery: HTMLElement;
      curves: HTMLInputElement;
    },
  ) {
    this.methods = new Map(methods.map((m) => [m.name, m]));
    const names = methods.map((m) => m.name);
    els.method.replaceChildren(...names.map((n) => el("option", { value: n }, n)));
    els.method.value = names.includes(ctx.state.method) ? ctx.state.method : "saliency";
    els.method.addEventListener("change", () => {
      ctx.state.method = els.method.value;
      this.renderParams();
      ctx.onStateChange();
    });
    els.target.addEventListener("change", () => {
      ctx.state.target = Number(els.target.value);
      ctx.onStateChange();
    });
    this.renderParams();
  }

  private renderParams(): void {
    const entry = this.methods.get(this.els.method.value)!;
    const rows = entry.options.map((o, k) =>
      el(
        "label",
        { title: entry.optionTexts[k] },
        `${o.name} `,
        el("input", { name: o.name, placeholder: o.value, value: o.default ?? "", size: "8" }),
      ),
    );
    this.els.params.replaceChildren(el("p", { class: "summary" }, entry.summary), ...rows);
  }

  private params(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const input of this.els.params.querySelectorAll("input"))
      out[input.name] = input.value.trim();
    return out;
  }

  private source(): { model: ClassifierSource; image: ImageSource } {
    const s = this.ctx.state;
    const model =
      s.model === "fashion-cnn"
        ? ({ kind: "fashion-cnn" } as const)
        : this.ctx.droppedModels.get(s.model);
    if (!model)
      throw new Error(
        `unknown classifier "${s.model}" (bundled: fashion-cnn; or drop an ONNX file)`,
      );
    const image =
      this.ctx.droppedImages.get(s.image) ??
      (CLASSIFIER_IMAGES.includes(s.image)
        ? ({ kind: "url", url: `fashion-mnist/${s.image}.png` } as const)
        : null);
    if (!image)
      throw new Error(
        `unknown image "${s.image}" (bundled: ${CLASSIFIER_IMAGES.join(", ")}; or drop an image)`,
      );
    return { model, image };
  }

  async load(): Promise<boolean> {
    document.body.dataset.classify = "loading";
    this.loaded = null;
    try {
      const { model, image } = this.source();
      const r = await this.ctx
        .client()
        .request<ClassifierLoaded>({ type: "load-classifier", model, image });
      this.loaded = r;
      const { width, height, data } = r.input;
      const rgb = new Uint8Array(width * height * 3);
      for (let i = 0; i < width * height; i++) rgb.set(data.subarray(4 * i, 4 * i + 3), 3 * i);
      this.inputRgb = { width, height, data: rgb };
      const best = r.probabilities.indexOf(Math.max(...r.probabilities));
      const target = this.ctx.state.target ?? best;
      this.els.target.replaceChildren(
        ...r.classNames.map((n, k) =>
          el(
            "option",
            { value: String(k) },
            `${k}: ${n} (${(100 * r.probabilities[k]).toFixed(1)}%)`,
          ),
        ),
      );
      this.els.target.value = String(target);
      document.body.dataset.classify = "ready";
      return true;
    } catch (e) {
      document.body.dataset.classify = "error";
      if (!(e instanceof CancelledError)) this.ctx.showMessage((e as Error).message, "error");
      return false;
    }
  }

  private target(): number {
    return Number(this.els.target.value);
  }

  /** The map over the (enlarged) input with its colour bar. */
  private card(r: MapDone): HTMLElement {
    const entry = this.methods.get(r.method);
    const sign = entry?.sign ?? "absolute";
    const cmap: ColormapName = sign === "all" ? "seismic" : "viridis";
    const hm = heatmap(r.map, 1, r.height, r.width, { sign, colormap: cmap });
    const zoom = Math.max(1, Math.floor(224 / Math.max(r.width, r.height)));
    const base = this.inputRgb;
    const shown =
      base && base.width === r.width && base.height === r.height
        ? blend(enlarge(base, zoom), enlarge(hm, zoom), 0.6)
        : enlarge(hm, zoom);
    const name = this.loaded?.classNames[r.target] ?? `class ${r.target}`;
    const low = sign === "all" ? `−${hm.scale.toPrecision(2)}` : "0";
    const card = el(
      "figure",
      { class: "map-card", "data-method": r.method },
      el("figcaption", {}, `${r.method} · ${name} · ${r.seconds.toFixed(2)} s`),
      pictureCanvas(rgbPicture(shown.width, shown.height, shown.data)),
      colourBar(cmap, low, hm.scale.toPrecision(2)),
    );
    if (r.deletion && r.insertion) {
      card.append(
        curvesSvg([
          { name: "deletion", values: r.deletion, colour: "#c0392b" },
          { name: "insertion", values: r.insertion, colour: "#2471a3" },
        ]),
      );
    }
    // The raw map, for tests and for anyone who wants the numbers.
    (card as HTMLElement & { mapValues?: Float32Array }).mapValues = r.map;
    return card;
  }

  private async attribute(method: string, params: Record<string, string>): Promise<MapDone> {
    return this.ctx.client().request<MapDone>({
      type: "attribute",
      method,
      params,
      target: this.target(),
      curves: this.els.curves.checked,
    });
  }

  async run(): Promise<void> {
    if (!this.loaded) return;
    document.body.dataset.classify = "running";
    try {
      const r = await this.attribute(this.els.method.value, this.params());
      this.els.result.replaceChildren(this.card(r));
      document.body.dataset.classify = "done";
    } catch (e) {
      document.body.dataset.classify = "error";
      if (!(e instanceof CancelledError)) this.ctx.showMessage((e as Error).message, "error");
    }
  }

  async gallery(): Promise<void> {
    if (!this.loaded) return;
    document.body.dataset.classify = "running";
    this.els.gallery.replaceChildren();
    for (const m of GALLERY_METHODS) {
      try {
        this.els.gallery.append(this.card(await this.attribute(m, {})));
      } catch (e) {
        if (e instanceof CancelledError) return;
        this.els.gallery.append(el("p", { class: "error" }, `${m}: ${(e as Error).message}`));
      }
    }
    document.body.dataset.classify = "done";
  }
}

/**
 * Super-resolution models in the worker, as functions from an LR image in [0, 1] to an SR image in
 * [0, 1], built the way `salient lam` builds them: bicubic interpolation, the bundled FSRCNN x2,
 * TensorFlow.js layers-models by URL (the UpscalerJS packages the app server publishes), and
 * dropped ONNX files, tfjs folders or weight files for a zoo architecture.
 */
import {
  ARCHITECTURES,
  createArchitecture,
  div,
  fsrcnnRgb,
  loadFsrcnnX2,
  loadOnnx,
  loadTfjsLayersModel,
  loadTfjsLayersModelFromUrl,
  loadWeightsIntoModule,
  type Module,
  mul,
  resize,
  rgbSr,
  type Tensor,
} from "../../src/index.ts";
import type { SrSource } from "./protocol.ts";

export interface SrNet {
  name: string;
  parameters: number;
  run: (lr: Tensor) => Tensor;
}

function inUnitRange(m: Module, range: number): (x: Tensor) => Tensor {
  return range === 1 ? (x) => m.call(x) : (x) => div(m.call(mul(x, range)), range);
}

/** As the CLI runs an SR model: in its value range, and through Y (BT.601) when it reads one channel. */
const sr = (m: Module, range: number, scale: number) => rgbSr(m, inUnitRange(m, range), scale);

export async function loadSrNet(src: SrSource, scale: number): Promise<SrNet> {
  switch (src.kind) {
    case "bicubic":
      return {
        name: "bicubic",
        parameters: 0,
        run: (x) => resize(x, [x.shape[2] * scale, x.shape[3] * scale], { mode: "bicubic" }),
      };
    case "fsrcnn-x2": {
      if (scale !== 2) throw new Error(`fsrcnn-x2 is trained for x2 only (asked for x${scale})`);
      const m = loadFsrcnnX2();
      return { name: "fsrcnn-x2", parameters: m.parameterCount(), run: fsrcnnRgb(m) };
    }
    case "tfjs-url": {
      const m = (await loadTfjsLayersModelFromUrl(src.url)).eval();
      return { name: src.name, parameters: m.parameterCount(), run: sr(m, src.range, scale) };
    }
    case "onnx": {
      const m = loadOnnx(new Uint8Array(src.bytes), { name: src.name });
      return { name: src.name, parameters: m.parameterCount(), run: sr(m, src.range, scale) };
    }
    case "tfjs-files": {
      const json = src.files["model.json"];
      if (!json) throw new Error(`${src.name}: the dropped files hold no model.json`);
      const m = loadTfjsLayersModel(
        JSON.parse(new TextDecoder().decode(json)),
        (p) => {
          const shard = src.files[p.split("/").pop() ?? p];
          if (!shard)
            throw new Error(`${src.name}: model.json names the shard "${p}"; drop it too`);
          return new Uint8Array(shard);
        },
        src.name,
      ).eval();
      return { name: src.name, parameters: m.parameterCount(), run: sr(m, src.range, scale) };
    }
    case "weights": {
      const arch = ARCHITECTURES[src.arch];
      if (!arch)
        throw new Error(
          `unknown architecture "${src.arch}" (known: ${Object.keys(ARCHITECTURES).join(", ")})`,
        );
      const m = createArchitecture(src.arch, scale);
      loadWeightsIntoModule(m, new Uint8Array(src.bytes), src.name);
      m.eval();
      return {
        name: `${src.arch} x${scale} (${src.name})`,
        parameters: m.parameterCount(),
        run: sr(m, arch.range[1], scale),
      };
    }
  }
}

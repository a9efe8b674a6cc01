/**
 * Every weight loader refuses damaged files and files that do not fit the architecture, and says
 * which file and which key: safetensors, PyTorch (zip and legacy), ONNX initializers, each loaded
 * into an architecture through loadWeightsIntoModule, and tfjs layers models from a directory.
 * The architecture here is a bare holder of the fixture network's keys and shapes, as listed in
 * the PyTorch-written fixture JSON, so each case can change exactly one key.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { loadWeights, loadWeightsIntoModule } from "../../src/models/io/load-weights.ts";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import { loadTfjsLayersModelFromDir } from "../../src/models/io/tfjs/node.ts";
import { Module } from "../../src/models/nn/module.ts";
import { tensor, zeros } from "../../src/ops/creation.ts";

const DIR = join(import.meta.dirname, "..", "fixtures", "io");
const bytes = (n: string) => new Uint8Array(readFileSync(join(DIR, n)));
/** The fixture network's state dict as PyTorch wrote it (float32 values printed to JSON). */
const TORCH_STATE = Object.entries(
  JSON.parse(readFileSync(join(DIR, "small_cnn.json"), "utf8")).state_dict as Record<
    string,
    { shape: number[]; values: number[] }
  >,
).filter(([k]) => !k.endsWith("num_batches_tracked"));
const SHAPES: Record<string, number[]> = Object.fromEntries(
  TORCH_STATE.map(([k, v]) => [k, v.shape]),
);

/** An architecture that is nothing but named tensors of the given shapes. */
class Holder extends Module {
  constructor(shapes: Record<string, number[]>) {
    super();
    for (const [k, s] of Object.entries(shapes)) this.param(k, zeros(s));
  }
  forward(x: Tensor): Tensor {
    return x;
  }
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const values = (m: Module) => [...m.stateDict()].map(([, v]) => Array.from(v.dataSync()));

/** The small CNN's weights in each format loadWeightsIntoModule sniffs. */
const FILES: [string, Uint8Array][] = [
  ["small_cnn.pth", bytes("small_cnn.pth")],
  ["small_cnn.onnx", bytes("small_cnn.onnx")],
  ["small_cnn.safetensors", writeSafetensors(loadWeights(bytes("small_cnn.pth"), "small_cnn.pth"))],
];

describe.each(FILES)("%s into an architecture", (name, file) => {
  const expectRefused = (shapes: Record<string, number[]>, message: RegExp) => {
    const m = new Holder(shapes);
    const before = values(m);
    expect(() => loadWeightsIntoModule(m, file, name)).toThrow(message);
    expect(values(m)).toEqual(before); // nothing half-loaded
  };

  it("loads when every key and shape fits, each value the one PyTorch wrote", () => {
    const m = new Holder(SHAPES);
    expect(loadWeightsIntoModule(m, file, name).missing).toEqual([]);
    const state = m.stateDict();
    for (const [k, v] of TORCH_STATE)
      expect(Array.from(state.get(k)!.dataSync()), k).toEqual(v.values.map(Math.fround));
  });

  it("a shape mismatch names the file, the key and both shapes", () => {
    expectRefused(
      { ...SHAPES, "conv2.weight": [8, 4, 3, 4] },
      new RegExp(
        `^${reEscape(name)}: .*"conv2\\.weight": file has shape \\[8,4,3,3\\], model expects \\[8,4,3,4\\]`,
      ),
    );
  });

  it("a key the architecture does not have names the file and the key", () => {
    const { "fc.bias": _, ...fewer } = SHAPES;
    expectRefused(fewer, new RegExp(`^${reEscape(name)}: .*unexpected key "fc\\.bias"`));
  });

  it("a key the file lacks names the file and the key", () => {
    expectRefused(
      { ...SHAPES, "head.weight": [2, 2] },
      new RegExp(`^${reEscape(name)}: .*missing key "head\\.weight"`),
    );
  });

  it("truncated files are refused, naming the file", () => {
    for (const f of [0.01, 0.1, 0.5, 0.9, 0.999]) {
      const cut = file.subarray(0, Math.floor(file.length * f));
      expect(() => loadWeightsIntoModule(new Holder(SHAPES), cut, name), `${f}`).toThrow(
        new RegExp(`^${reEscape(name)}: `),
      );
    }
  });
});

describe("corrupt files name the file and the entry", () => {
  it("safetensors: a tensor whose offsets disagree with its shape", () => {
    const st = writeSafetensors(
      new Map([["conv.weight", { shape: [2, 2], values: new Float32Array(4) }]]),
    );
    const text = new TextDecoder().decode(st);
    const bad = new TextEncoder().encode(text.replace('"shape":[2,2]', '"shape":[2,3]'));
    expect(() => loadWeights(bad, "c.safetensors")).toThrow(
      /^c\.safetensors: tensor "conv\.weight" \[2,3\] F32 needs 24 bytes, offsets give 16/,
    );
  });

  it("safetensors: a header cut short is reported as truncated, not as an unknown format", () => {
    const st = FILES[2][1];
    expect(() => loadWeights(st.subarray(0, 40), "cut.safetensors")).toThrow(
      /^cut\.safetensors: header length \d+ runs past the end of the 40-byte file \(truncated\?\)/,
    );
  });

  it("PyTorch legacy: truncated anywhere", () => {
    const legacy = bytes("basic_legacy.pth");
    for (const f of [0.05, 0.3, 0.6, 0.95]) {
      expect(() => loadWeights(legacy.subarray(0, Math.floor(legacy.length * f)), "l.pth")).toThrow(
        /^l\.pth[ :]/,
      );
    }
  });

  it("ONNX: bytes that are not a model", () => {
    const junk = Uint8Array.from({ length: 64 }, (_, i) => (i === 0 ? 0x08 : 0xff));
    expect(() => loadWeights(junk, "j.onnx")).toThrow(/^j\.onnx: not a valid ONNX model/);
  });
});

/** A one-conv layers-model (2 -> 3 channels, 1x1) written to a directory. */
function tfjsDir(
  edit: (json: TfjsJson, shard: Uint8Array) => Uint8Array | undefined = () => undefined,
) {
  const json: TfjsJson = {
    format: "layers-model",
    modelTopology: {
      model_config: {
        class_name: "Functional",
        config: {
          layers: [
            {
              class_name: "InputLayer",
              name: "in",
              config: { name: "in", batch_input_shape: [null, null, null, 2] },
              inbound_nodes: [],
            },
            {
              class_name: "Conv2D",
              name: "a",
              config: { name: "a", filters: 3, kernel_size: [1, 1], padding: "same" },
              inbound_nodes: [[["in", 0, 0, {}]]],
            },
          ],
          input_layers: [["in", 0, 0]],
          output_layers: [["a", 0, 0]],
        },
      },
    },
    weightsManifest: [
      {
        paths: ["w.bin"],
        weights: [
          { name: "a/kernel", shape: [1, 1, 2, 3], dtype: "float32" },
          { name: "a/bias", shape: [3], dtype: "float32" },
        ],
      },
    ],
  };
  const shard = new Uint8Array(new Float32Array(9).fill(1).buffer);
  const dir = mkdtempSync(join(tmpdir(), "salient-tfjs-"));
  const out = edit(json, shard) ?? shard;
  writeFileSync(join(dir, "model.json"), JSON.stringify(json));
  writeFileSync(join(dir, "w.bin"), out);
  return { dir, path: join(dir, "model.json") };
}

// biome-ignore lint/suspicious/noExplicitAny: a hand-written Keras config
type TfjsJson = any;

describe("tfjs layers models from a directory name the model.json and the weight", () => {
  it("loads the intact model: out_o = k[0, o] x0 + k[1, o] x1 + b_o", () => {
    // Kernel [1, 1, in 2, out 3] = [[1, 2, 3], [4, 5, 6]], bias [10, 20, 30].
    const shard = new Uint8Array(Float32Array.from([1, 2, 3, 4, 5, 6, 10, 20, 30]).buffer);
    const model = loadTfjsLayersModelFromDir(tfjsDir(() => shard).dir);
    expect(model.outputNames).toEqual(["a"]);
    // NCHW: pixel 0 is (x0, x1) = (2, -1), pixel 1 is (5, 0.5).
    // out 0: 2 - 4 + 10 = 8, 5 + 2 + 10 = 17; out 1: 4 - 5 + 20 = 19, 10 + 2.5 + 20 = 32.5;
    // out 2: 6 - 6 + 30 = 30, 15 + 3 + 30 = 48.
    const y = model.call(tensor([2, 5, -1, 0.5], [1, 2, 1, 2]));
    expect(y.shape).toEqual([1, 3, 1, 2]);
    expect(Array.from(y.dataSync())).toEqual([8, 17, 19, 32.5, 30, 48]);
  });

  it("a truncated shard", () => {
    const { dir, path } = tfjsDir((_, s) => s.subarray(0, 30));
    expect(() => loadTfjsLayersModelFromDir(dir)).toThrow(
      new RegExp(`^tfjs model ${reEscape(path)}: weight "a/bias" \\[3\\] needs 12 bytes`),
    );
  });

  it("a corrupt model.json", () => {
    const { dir, path } = tfjsDir();
    writeFileSync(path, "{ not json");
    expect(() => loadTfjsLayersModelFromDir(dir)).toThrow(
      new RegExp(`^tfjs model ${reEscape(path)}: not valid JSON`),
    );
  });

  it("a weight no layer uses (unknown key)", () => {
    const { dir, path } = tfjsDir((j, s) => {
      j.weightsManifest[0].weights.push({ name: "ghost/kernel", shape: [1], dtype: "float32" });
      const more = new Uint8Array(s.length + 4);
      more.set(s);
      return more;
    });
    expect(() => loadTfjsLayersModelFromDir(dir)).toThrow(
      new RegExp(`^tfjs model ${reEscape(path)}: 1 weight\\(s\\) belong to no layer: ghost/kernel`),
    );
  });

  it("a bias whose shape disagrees with the kernel", () => {
    const { dir, path } = tfjsDir((j, s) => {
      j.weightsManifest[0].weights[1].shape = [4];
      const more = new Uint8Array(s.length + 4);
      more.set(s);
      return more;
    });
    expect(() => loadTfjsLayersModelFromDir(dir)).toThrow(
      new RegExp(
        `^tfjs model ${reEscape(path)}: .*"a\\.bias": file has shape \\[4\\], model expects \\[3\\]`,
      ),
    );
  });

  it("a kernel whose shape disagrees with the layer config", () => {
    const { dir, path } = tfjsDir((j) => {
      j.modelTopology.model_config.config.layers[1].config.filters = 4;
      return undefined;
    });
    expect(() => loadTfjsLayersModelFromDir(dir)).toThrow(
      new RegExp(
        `^tfjs model ${reEscape(path)}: tfjs layer "a": kernel has 3 filters, config says 4`,
      ),
    );
  });

  it("a missing shard", () => {
    const { dir, path } = tfjsDir((j) => {
      j.weightsManifest[0].paths = ["gone.bin"];
      return undefined;
    });
    expect(() => loadTfjsLayersModelFromDir(dir)).toThrow(
      new RegExp(`^tfjs model ${reEscape(path)}: shard "gone\\.bin" is missing`),
    );
  });
});

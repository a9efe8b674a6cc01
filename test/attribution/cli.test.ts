/** `salient attribute`, `gallery` and `methods`, run in-process on a SmallCnn weights file. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { beforeAll, describe, expect, test } from "vitest";
import { gradCam, gradient, integratedGradients } from "../../src/attribution/index.ts";
import { blurIg } from "../../src/attribution/methods/blur-ig.ts";
import { classModelVisualization } from "../../src/attribution/methods/class-model.ts";
import { featureAblation } from "../../src/attribution/methods/feature-ablation.ts";
import { camMethod } from "../../src/attribution/methods/grad-cam.ts";
import { saliency } from "../../src/attribution/methods/gradient.ts";
import { guidedGradCam } from "../../src/attribution/methods/guided-grad-cam.ts";
import { occlusion } from "../../src/attribution/methods/occlusion.ts";
import { rise } from "../../src/attribution/methods/rise.ts";
import { smoothGrad } from "../../src/attribution/methods/smooth-grad.ts";
import { slicSegments } from "../../src/attribution/segments/slic.ts";
import { methodsText, runAttribute } from "../../src/cli/attribute.ts";
import { runGallery } from "../../src/cli/gallery.ts";
import * as s from "../../src/index.ts";
import { SmallCnn } from "../../src/models/classifiers/small-cnn.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import { writePng } from "../../src/viz/image-io-node.ts";
import { decodeNpy } from "../../src/viz/npy.ts";
import { expectClose } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-cli-"));
const weights = join(dir, "cnn.safetensors");
const imagePath = join(dir, "img.png");
const bigPath = join(dir, "big.png");
let net: SmallCnn;
let x: s.Tensor;

beforeAll(() => {
  net = new SmallCnn({ seed: 4, channels: [4, 8] });
  const dict = new Map(
    net
      .namedParameters()
      .map(([k, p]) => [k, { shape: [...p.shape], values: Float32Array.from(p.dataSync()) }]),
  );
  writeFileSync(weights, writeSafetensors(dict));
  const test = loadFashionMnist("test");
  const px = test.images.subarray(0, 784);
  // An RGB PNG of a grey image: the CLI reads it back as grey (luma of equal channels = the value).
  writePng(imagePath, {
    width: 28,
    height: 28,
    data: Uint8Array.from({ length: 784 * 3 }, (_, i) => px[Math.floor(i / 3)]),
  });
  writePng(bigPath, { width: 30, height: 28, data: new Uint8Array(30 * 28 * 3).fill(128) });
  x = s.keep(
    s.tensor(
      Float32Array.from(px, (v) => v / 255),
      [1, 1, 28, 28],
    ),
  );
});

const base = () => ["--model", weights, "--arch", "small-cnn", "--image", imagePath];
const run = async (extra: string[]) => {
  const lines: string[] = [];
  const summary = await runAttribute([...base(), ...extra], (l) => lines.push(l));
  expect(JSON.parse(lines[lines.length - 1])).toEqual(summary);
  const npy = decodeNpy(new Uint8Array(readFileSync(summary.npy)));
  expect(readFileSync(summary.png).subarray(1, 4).toString()).toBe("PNG");
  return { summary, npy };
};

describe("salient attribute", () => {
  test("gradient: the .npy holds exactly the library's map; target defaults to the prediction", async () => {
    const model = (v: s.Tensor) => net.call(v);
    const logits = Array.from(model(x).dataSync());
    const pred = logits.indexOf(Math.max(...logits));
    const { summary, npy } = await run(["--method", "gradient", "--out", join(dir, "g")]);
    expect(summary.target).toBe(pred);
    expect(summary.score).toBeCloseTo(logits[pred], 5);
    expect(npy.shape).toEqual([1, 1, 28, 28]);
    expect(Array.from(npy.values)).toEqual(
      Array.from((await gradient(model, x, pred)).map.dataSync()),
    );
  });

  test("integrated gradients reports its delta; Grad-CAM writes [1, 1, H, W] upsampled bilinearly", async () => {
    const model = (v: s.Tensor) => net.call(v);
    const ig = await run([
      "--method",
      "integrated-gradients",
      "--target",
      "3",
      "--steps",
      "16",
      "--out",
      join(dir, "ig"),
    ]);
    const lib = await integratedGradients(model, x, 3, { steps: 16 });
    expect(ig.summary.delta).toBeCloseTo(lib.delta![0], 6);
    expectClose(ig.npy.values, lib.map.dataSync(), 1e-7);
    const cam = await run(["--method", "gradcam", "--target", "3", "--out", join(dir, "cam")]);
    expect(cam.npy.shape).toEqual([1, 1, 28, 28]);
    const want = await gradCam(model, x, 3, { layer: "features.4" });
    expectClose(cam.npy.values, want.map.dataSync(), 1e-7);
    const pair = await run([
      "--method",
      "integrated-gradients",
      "--preset",
      "pair",
      "--steps",
      "4",
      "--out",
      join(dir, "igp"),
    ]);
    // PAIR's integrated_gradients: alphas = linspace(0, 1, steps) from a black baseline, the mean
    // gradient along them times (x - baseline), here with steps 4 from the gradient at each alpha.
    const target = pair.summary.target as number;
    const alphas = [0, 1 / 3, 2 / 3, 1];
    const px = x.dataSync();
    const mean = new Float64Array(784);
    for (const a of alphas) {
      const g = (await gradient(model, s.mul(x, a), target)).map.dataSync();
      for (let i = 0; i < 784; i++) mean[i] += g[i] / alphas.length;
    }
    const pairMap = Float64Array.from(mean, (g, i) => g * px[i]);
    expectClose(pair.npy.values, pairMap, 1e-5);
    const score = (v: s.Tensor) => model(v).dataSync()[target];
    const total = pairMap.reduce((acc, v) => acc + v, 0);
    const gap = score(x) - score(s.zeros([1, 1, 28, 28]));
    expect(pair.summary.delta as number).toBeCloseTo(total - gap, 4);
  });

  test("every other method writes exactly the library's map for the same options", async () => {
    const model = (v: s.Tensor) => net.call(v);
    const t = 3;
    const slic = slicSegments(Float32Array.from(x.dataSync()), 1, 28, 28, { segments: 12 });
    const cases: [string[], () => Promise<{ map: s.Tensor }>][] = [
      [["--method", "saliency"], () => saliency(model, x, t)],
      [
        ["--method", "guided-gradcam"],
        () => guidedGradCam(model, x, t, { layer: "features.4", upsample: "bilinear" }),
      ],
      [
        ["--method", "smoothgrad", "--samples", "3", "--variant", "vargrad"],
        () =>
          smoothGrad((m, v, k) => gradient(m, v, k), model, x, t, {
            samples: 3,
            noise: 0.15,
            variant: "vargrad",
            seed: 0,
          }),
      ],
      [
        ["--method", "blur-ig", "--steps", "8"],
        () => blurIg(model, x, t, { steps: 8, sigmaMax: 50 }),
      ],
      [
        ["--method", "occlusion", "--window", "7", "--stride", "7"],
        () => occlusion(model, x, t, { window: 7, stride: 7, fill: 0 }),
      ],
      [
        ["--method", "feature-ablation", "--segments", "slic:12"],
        () => featureAblation(model, x, t, { mask: slic, fill: 0 }),
      ],
      [
        ["--method", "rise", "--masks", "40"],
        () => rise(model, x, t, { masks: 40, cells: 8, seed: 0 }),
      ],
      [
        ["--method", "layercam", "--layer", "features.1"],
        () => camMethod(model, x, t, "layercam", { layer: "features.1", upsample: "bilinear" }),
      ],
    ];
    for (const [args, lib] of cases) {
      const { npy } = await run([...args, "--target", String(t), "--out", join(dir, args[1])]);
      const want = await lib();
      expect(npy.shape, args[1]).toEqual(want.map.shape);
      expectClose(npy.values, want.map.dataSync(), 1e-6);
    }
    const lines: string[] = [];
    const cm = await runAttribute(
      [
        "--model",
        weights,
        "--arch",
        "small-cnn",
        "--method",
        "class-model",
        "--target",
        "1",
        "--steps",
        "5",
        "--out",
        join(dir, "cm"),
      ],
      (l) => lines.push(l),
    );
    // Simonyan's class model starts from a black image; the CLI clips to the pixel range [0, 1].
    const want = await classModelVisualization(model, s.zeros([1, 1, 28, 28]), 1, {
      steps: 5,
      lr: 1,
      l2: 0.01,
      clip: [0, 1],
    });
    const cmNpy = decodeNpy(new Uint8Array(readFileSync(cm.npy)));
    expect(cmNpy.shape).toEqual([1, 1, 28, 28]);
    expectClose(cmNpy.values, want.map.dataSync(), 1e-6);
  });

  test("clear errors: wrong image size, unknown method, bad target, bad layer, missing files", async () => {
    const out = ["--out", join(dir, "e")];
    await expect(
      runAttribute(
        [
          "--model",
          weights,
          "--arch",
          "small-cnn",
          "--image",
          bigPath,
          "--method",
          "gradient",
          ...out,
        ],
        () => {},
      ),
    ).rejects.toThrow(/is 28x30 \(HxW\) but small-cnn .* expects 28x28; pass --resize auto/);
    const resized = await runAttribute(
      [
        "--model",
        weights,
        "--arch",
        "small-cnn",
        "--image",
        bigPath,
        "--resize",
        "auto",
        "--method",
        "gradient",
        ...out,
      ],
      () => {},
    );
    expect(resized.shape).toEqual([1, 1, 28, 28]);
    await expect(run(["--method", "no-such-method", ...out])).rejects.toThrow(
      /unknown method "no-such-method"/,
    );
    await expect(run(["--method", "gradient", "--target", "10", ...out])).rejects.toThrow(
      /--target 10 is out of range: the model has 10 outputs/,
    );
    await expect(run(["--method", "gradcam", "--layer", "features.9", ...out])).rejects.toThrow(
      /--layer "features.9" is not a layer/,
    );
    await expect(
      runAttribute(
        [
          "--model",
          join(dir, "nope.safetensors"),
          "--arch",
          "small-cnn",
          "--image",
          imagePath,
          "--method",
          "gradient",
          ...out,
        ],
        () => {},
      ),
    ).rejects.toThrow(/cannot read weights file/);
    await expect(
      runAttribute(
        ["--model", "resnet", "--image", imagePath, "--method", "gradient", ...out],
        () => {},
      ),
    ).rejects.toThrow(/not a bundled model/);
    await expect(run(["--method", "gradient", "--std", "0", ...out])).rejects.toThrow(
      /--std values must be non-zero/,
    );
    await expect(run(["--method", "gradient", "--sign", "sideways", ...out])).rejects.toThrow(
      /--sign must be one of positive, negative, absolute, all/,
    );
    await expect(
      run(["--method", "integrated-gradients", "--quadrature", "simpson", ...out]),
    ).rejects.toThrow(/--quadrature must be one of gausslegendre/);
    await expect(run(["--method", "gradient", "--frobnicate", "1", ...out])).rejects.toThrow(
      /unknown option --frobnicate for attribute/,
    );
  });

  test("gallery writes a strip PNG (input panel and gaps by hand) and an HTML page; methods lists every method", async () => {
    const lines: string[] = [];
    await runGallery(
      [
        ...base(),
        "--methods",
        "gradient,gradcam,occlusion",
        "--window",
        "7",
        "--stride",
        "7",
        "--out",
        join(dir, "gal"),
      ],
      (l) => lines.push(l),
    );
    const html = readFileSync(join(dir, "gal.html"), "utf8");
    expect(html.match(/<figure>/g)?.length).toBe(4);
    // The strip, decoded by pngjs: 4 panels of 28 px enlarged floor(160 / 28) = 5 times, with
    // 4 px white gaps: 4 * 140 + 3 * 4 = 572 by 140. The first panel is the input, each grey
    // byte repeated over a 5 x 5 block in R, G and B.
    const strip = PNG.sync.read(readFileSync(join(dir, "gal.png")));
    expect([strip.width, strip.height]).toEqual([572, 140]);
    const px = loadFashionMnist("test").images.subarray(0, 784);
    const rgba = (x: number, y: number) =>
      Array.from(strip.data.subarray((y * 572 + x) * 4, (y * 572 + x) * 4 + 4));
    for (let y = 0; y < 140; y += 3)
      for (let x = 0; x < 140; x += 3) {
        const v = px[Math.floor(y / 5) * 28 + Math.floor(x / 5)];
        expect(rgba(x, y)).toEqual([v, v, v, 255]);
      }
    for (const gap of [140, 284, 428]) expect(rgba(gap + 1, 70)).toEqual([255, 255, 255, 255]);
    const text = methodsText();
    for (const m of [
      "gradient",
      "saliency",
      "input-x-gradient",
      "guided-backprop",
      "deconvnet",
      "gradcam",
      "gradcam++",
      "hirescam",
      "layercam",
      "guided-gradcam",
      "smoothgrad",
      "integrated-gradients",
      "blur-ig",
      "occlusion",
      "feature-ablation",
      "rise",
      "class-model",
    ]) {
      expect(text).toContain(`  ${m} `);
    }
    // Every method line keeps its name and summary apart, however long the name.
    const methodLines = text.split("\n").filter((l) => /^ {2}[a-z]/.test(l));
    expect(methodLines.length).toBeGreaterThan(30);
    for (const l of methodLines) expect(l).toMatch(/^ {2}\S+ {2,}\S/);
  });
});

describe("salient attribute on an ONNX classifier", () => {
  const onnxPath = join(__dirname, "../../examples/onnx/tiny-cnn.onnx");

  test("the declared input [1, 1, 28, 28] sets the channels: the map equals the library's on the grey image", async () => {
    const lines: string[] = [];
    const summary = await runAttribute(
      ["--model", onnxPath, "--image", imagePath, "--method", "gradient", "--out", join(dir, "o")],
      (l) => lines.push(l),
    );
    const npy = decodeNpy(new Uint8Array(readFileSync(summary.npy)));
    expect(npy.shape).toEqual([1, 1, 28, 28]);
    const net = s.loadOnnx(new Uint8Array(readFileSync(onnxPath)));
    const model = (v: s.Tensor) => net.call(v);
    const logits = Array.from(model(x).dataSync());
    const pred = logits.indexOf(Math.max(...logits));
    expect(summary.target).toBe(pred);
    expect(Array.from(npy.values)).toEqual(
      Array.from((await gradient(model, x, pred)).map.dataSync()),
    );
  });

  test("--channels that contradicts the declared input is refused by name", async () => {
    await expect(
      runAttribute(
        [
          "--model",
          onnxPath,
          "--channels",
          "3",
          "--image",
          imagePath,
          "--method",
          "gradient",
          "--out",
          join(dir, "c"),
        ],
        () => {},
      ),
    ).rejects.toThrow(/--channels 3: .*tiny-cnn\.onnx declares 1 input channels/);
  });
});

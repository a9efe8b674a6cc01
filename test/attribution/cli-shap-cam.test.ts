/**
 * The Shapley, CAM-family and Guided IG entries of `salient attribute` / `methods`, run
 * in-process on a SmallCnn weights file: each writes exactly the library's map for the documented
 * defaults.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { ablationCam, eigenCam, scoreCam } from "../../src/attribution/methods/cam-family.ts";
import { fullGrad, fullGradBiases } from "../../src/attribution/methods/fullgrad.ts";
import { xGradCam } from "../../src/attribution/methods/grad-cam.ts";
import { gradientShap } from "../../src/attribution/methods/gradient-shap.ts";
import { guidedIg } from "../../src/attribution/methods/guided-ig.ts";
import { kernelShap } from "../../src/attribution/methods/kernel-shap.ts";
import { lime } from "../../src/attribution/methods/lime.ts";
import { gridSegments } from "../../src/attribution/segments/grid.ts";
import { methodsText, runAttribute } from "../../src/cli/attribute.ts";
import * as s from "../../src/index.ts";
import { SmallCnn } from "../../src/models/classifiers/small-cnn.ts";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import { writePng } from "../../src/viz/image-io-node.ts";
import { decodeNpy } from "../../src/viz/npy.ts";
import { expectClose } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-cli-new-"));
const weights = join(dir, "cnn.safetensors");
const imagePath = join(dir, "img.png");
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
  const px = Uint8Array.from({ length: 784 }, (_, i) => (i * 37 + ((i / 28) | 0) * 11) % 256);
  writePng(imagePath, {
    width: 28,
    height: 28,
    data: Uint8Array.from({ length: 784 * 3 }, (_, i) => px[Math.floor(i / 3)]),
  });
  x = s.keep(
    s.tensor(
      Float32Array.from(px, (v) => v / 255),
      [1, 1, 28, 28],
    ),
  );
});

const run = async (extra: string[]) => {
  const summary = await runAttribute(
    ["--model", weights, "--arch", "small-cnn", "--image", imagePath, "--target", "3", ...extra],
    () => {},
  );
  return decodeNpy(new Uint8Array(readFileSync(summary.npy)));
};

describe("salient attribute: Shapley family, CAM family, Guided IG", () => {
  test("each new method writes the library's map with the documented defaults", async () => {
    const model = (v: s.Tensor) => net.call(v);
    const layer = "features.4";
    const cases: [string[], () => Promise<{ map: s.Tensor }>][] = [
      [
        ["--method", "kernel-shap", "--segments", "grid:2", "--samples", "16"],
        () => kernelShap(model, x, 3, { mask: gridSegments(28, 28, 2), samples: 16 }),
      ],
      [["--method", "lime"], () => lime(model, x, 3, { mask: gridSegments(28, 28, 4) })],
      [["--method", "gradient-shap"], () => gradientShap(model, x, 3, { baselines: "black" })],
      [["--method", "guided-ig", "--steps", "8"], () => guidedIg(model, x, 3, { steps: 8 })],
      [["--method", "xgrad-cam"], () => xGradCam(model, x, 3, { layer })],
      [["--method", "score-cam"], () => scoreCam(model, x, 3, { layer })],
      [["--method", "ablation-cam"], () => ablationCam(model, x, 3, { layer })],
      [["--method", "eigen-cam"], () => eigenCam(model, x, 3, { layer })],
      [
        ["--method", "fullgrad"],
        async () => fullGrad(model, x, 3, { biases: await fullGradBiases(net) }),
      ],
    ];
    for (const [args, lib] of cases) {
      const npy = await run([...args, "--out", join(dir, args[1])]);
      const want = await lib();
      expect(npy.shape, args[1]).toEqual(want.map.shape);
      expectClose(npy.values, want.map.dataSync(), 1e-6);
    }
  });

  test("salient methods lists them", () => {
    const text = methodsText();
    for (const m of [
      "kernel-shap",
      "lime",
      "gradient-shap",
      "guided-ig",
      "xgrad-cam",
      "score-cam",
      "ablation-cam",
      "eigen-cam",
      "fullgrad",
    ])
      expect(text).toContain(m);
  });
});

/**
 * The Shapley, CAM-family and Guided IG entries of `salient attribute` / `methods`, run
 * in-process on a SmallCnn weights file: each writes exactly the library's map for the documented
 * defaults.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ablationCam, eigenCam, scoreCam } from "../../src/attribution/methods/cam-family.ts";
import { fullGrad, fullGradBiases } from "../../src/attribution/methods/fullgrad.ts";
import { xGradCam } from "../../src/attribution/methods/grad-cam.ts";
import { gradientShap } from "../../src/attribution/methods/gradient-shap.ts";
import { guidedIg } from "../../src/attribution/methods/guided-ig.ts";
import { kernelShap } from "../../src/attribution/methods/kernel-shap.ts";
import { lime } from "../../src/attribution/methods/lime.ts";
import { gridSegments } from "../../src/attribution/segments/grid.ts";
import { methodsText, runAttribute } from "../../src/cli/attribute.ts";
import type * as s from "../../src/index.ts";
import { decodeNpy } from "../../src/viz/npy.ts";
import { smallCnnOnDisk } from "./cnn-on-disk.ts";
import { expectClose } from "./helpers.ts";

const { dir, weights, imagePath, net, x } = smallCnnOnDisk(
  "cli-new",
  4,
  (i) => (i * 37 + ((i / 28) | 0) * 11) % 256,
);

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

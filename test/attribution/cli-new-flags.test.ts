/**
 * `salient attribute` flags of LIME, GradientSHAP, Guided IG and XRAI, the pytorch-grad-cam
 * preset, and the gallery with every newer method, in-process on a SmallCnn weights file.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { scoreCam } from "../../src/attribution/methods/cam-family.ts";
import { camMethod } from "../../src/attribution/methods/grad-cam.ts";
import { gradientShap } from "../../src/attribution/methods/gradient-shap.ts";
import { guidedIg } from "../../src/attribution/methods/guided-ig.ts";
import { lime } from "../../src/attribution/methods/lime.ts";
import { xrai } from "../../src/attribution/methods/xrai.ts";
import { preset } from "../../src/attribution/presets.ts";
import { gridSegments } from "../../src/attribution/segments/grid.ts";
import { runAttribute } from "../../src/cli/attribute.ts";
import { runGallery } from "../../src/cli/gallery.ts";
import type * as s from "../../src/index.ts";
import { decodeNpy } from "../../src/viz/npy.ts";
import { smallCnnOnDisk } from "./cnn-on-disk.ts";
import { expectClose } from "./helpers.ts";

const { dir, weights, imagePath, net, x } = smallCnnOnDisk(
  "cli-flags",
  5,
  (i) => (i * 29 + ((i / 28) | 0) * 13) % 256,
);

const base = () => [
  "--model",
  weights,
  "--arch",
  "small-cnn",
  "--image",
  imagePath,
  "--target",
  "2",
];
const run = async (extra: string[]) => {
  const summary = await runAttribute([...base(), ...extra], () => {});
  return decodeNpy(new Uint8Array(readFileSync(summary.npy)));
};
const model = (v: s.Tensor) => net.call(v);
const layer = "features.4";

describe("method flags", () => {
  test("each flag reaches the library call (and changes the map)", async () => {
    const cases: [string[], () => Promise<{ map: s.Tensor }>, () => Promise<{ map: s.Tensor }>][] =
      [
        [
          ["--method", "lime", "--lasso-alpha", "0", "--kernel-width", "0.5"],
          () => lime(model, x, 2, { mask: gridSegments(28, 28, 4), alpha: 0, kernelWidth: 0.5 }),
          () => lime(model, x, 2, { mask: gridSegments(28, 28, 4) }),
        ],
        [
          ["--method", "gradient-shap", "--stdev", "0.2", "--seed", "3"],
          () => gradientShap(model, x, 2, { baselines: "black", stdev: 0.2, seed: 3 }),
          () => gradientShap(model, x, 2, { baselines: "black", seed: 3 }),
        ],
        [
          ["--method", "guided-ig", "--steps", "6", "--fraction", "0.6", "--max-dist", "0.3"],
          () => guidedIg(model, x, 2, { steps: 6, fraction: 0.6, maxDist: 0.3 }),
          () => guidedIg(model, x, 2, { steps: 6 }),
        ],
        [
          ["--method", "xrai", "--steps", "4", "--area-threshold", "0.3"],
          () => xrai(model, x, 2, { steps: 4, areaThreshold: 0.3 }),
          () => xrai(model, x, 2, { steps: 4 }),
        ],
      ];
    for (const [args, withFlags, defaults] of cases) {
      const npy = await run([...args, "--out", join(dir, args[1])]);
      const want = (await withFlags()).map.dataSync();
      expectClose(npy.values, want, 1e-6);
      const d = (await defaults()).map.dataSync();
      expect(
        d.some((v, i) => Math.abs(v - want[i]) > 1e-6),
        `${args[1]}: the flags should change the map`,
      ).toBe(true);
    }
  });

  test("bad values are refused before the model is loaded, naming the flag", async () => {
    const missing = ["--model", join(dir, "none.safetensors"), "--arch", "small-cnn"];
    for (const [flag, value, method] of [
      ["--lasso-alpha", "-1", "lime"],
      ["--kernel-width", "0", "lime"],
      ["--stdev", "-0.1", "gradient-shap"],
      ["--fraction", "1.5", "guided-ig"],
      ["--max-dist", "nan", "guided-ig"],
      ["--area-threshold", "2", "xrai"],
      ["--preset", "grad-cam", "score-cam"],
    ]) {
      await expect(
        runAttribute(
          [
            ...missing,
            "--image",
            imagePath,
            "--method",
            method,
            flag,
            value,
            "--out",
            join(dir, "bad"),
          ],
          () => {},
        ),
        flag,
      ).rejects.toThrow(flag);
    }
  });
});

describe("pytorch-grad-cam preset", () => {
  test("every CAM variant gets BaseCAM's ReLU and bilinear resize", async () => {
    const p = preset("pytorch-grad-cam");
    expect(p.camFamily).toEqual({ relu: true, upsample: "bilinear" });
    expect(p.gradCam).toEqual({ relu: true, upsample: "bilinear" });
    const sc = await run([
      "--method",
      "score-cam",
      "--preset",
      "pytorch-grad-cam",
      "--out",
      join(dir, "sc"),
    ]);
    expectClose(
      sc.values,
      (await scoreCam(model, x, 2, { layer, relu: true })).map.dataSync(),
      1e-6,
    );
    const pp = await run([
      "--method",
      "gradcam++",
      "--preset",
      "pytorch-grad-cam",
      "--out",
      join(dir, "pp"),
    ]);
    expectClose(
      pp.values,
      (await camMethod(model, x, 2, "gradcam++", { layer, relu: true })).map.dataSync(),
      1e-6,
    );
  });
});

describe("gallery with the newer methods", () => {
  test("one panel per method plus the input, on a built-in model", async () => {
    const methods = [
      "xrai",
      "kernel-shap",
      "lime",
      "gradient-shap",
      "guided-ig",
      "xgrad-cam",
      "score-cam",
      "ablation-cam",
      "eigen-cam",
      "fullgrad",
    ];
    await runGallery(
      [...base(), "--methods", methods.join(","), "--steps", "4", "--out", join(dir, "gal")],
      () => {},
    );
    const html = readFileSync(join(dir, "gal.html"), "utf8");
    expect(html.match(/<figure>/g)?.length).toBe(methods.length + 1);
    for (const m of methods) expect(html).toContain(m);
    expect(readFileSync(join(dir, "gal.png")).subarray(1, 4).toString()).toBe("PNG");
  });
});

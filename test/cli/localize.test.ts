/** `salient localize` against the library: the same map, the same rule, the same box. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { thresholdBox } from "../../src/attribution/localisation/boxes.ts";
import { graphCutSegment } from "../../src/attribution/localisation/graph-cut.ts";
import { extremalPerturbation } from "../../src/attribution/methods/extremal-perturbation.ts";
import { gradient } from "../../src/attribution/methods/gradient.ts";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { keep } from "../../src/autodiff/tidy.ts";
import { runAttribute } from "../../src/cli/attribute.ts";
import { runLocalize } from "../../src/cli/localize.ts";
import { loadFashionCnn } from "../../src/models/classifiers/fashion-cnn.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { tensor } from "../../src/ops/creation.ts";
import { writePng } from "../../src/viz/image-io-node.ts";
import { decodeNpy } from "../../src/viz/npy.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-localize-"));
const imagePath = join(dir, "item.png");
let x: Tensor;
let pixels: Float32Array;

beforeAll(() => {
  const px = loadFashionMnist("test").images.subarray(0, 784);
  writePng(imagePath, {
    width: 28,
    height: 28,
    data: Uint8Array.from({ length: 784 * 3 }, (_, i) => px[Math.floor(i / 3)]),
  });
  pixels = Float32Array.from(px, (v) => v / 255);
  x = keep(tensor(pixels, [1, 1, 28, 28]));
});

const quiet = () => {};
const base = ["--model", "fashion-cnn", "--image", imagePath, "--method", "gradient"];

/** The gradient saliency plane (max over channels of |gradient|) for the predicted class. */
async function gradientPlane(): Promise<{ plane: Float32Array; target: number }> {
  const net = loadFashionCnn();
  const model = (t: Tensor) => net.call(t);
  const logits = model(x).dataSync();
  let target = 0;
  for (let k = 1; k < logits.length; k++) if (logits[k] > logits[target]) target = k;
  const g = (await gradient(model, x, target)).map.dataSync();
  return { plane: Float32Array.from(g, Math.abs), target };
}

describe("salient localize", () => {
  test("a threshold rule's box is the library's box of the same map", async () => {
    const { plane, target } = await gradientPlane();
    for (const [rule, alpha] of [
      ["value", 0.3],
      ["energy", 0.6],
      ["mean", 2],
    ] as const) {
      const out = await runLocalize([...base, "--rule", rule, "--alpha", String(alpha)], quiet);
      expect(out.target).toBe(target);
      expect(out.rule).toBe(rule);
      expect(out.box).toEqual(thresholdBox(plane, 28, 28, rule, alpha));
    }
  });

  test("graphcut segments the image seeded by the map", async () => {
    const { plane } = await gradientPlane();
    const out = await runLocalize([...base, "--rule", "graphcut"], quiet);
    const want = graphCutSegment(pixels, plane, 28, 28);
    expect(out.box).toEqual(want.box);
    expect(out.segmentArea).toBe(want.segment.reduce((a, b) => a + b, 0));
    expect(out.alpha).toBeNull();
  });

  test("bad rules, alphas and areas are usage errors naming the flag", async () => {
    await expect(runLocalize([...base, "--rule", "otsu"], quiet)).rejects.toThrow(/--rule/);
    await expect(runLocalize([...base, "--alpha", "-1"], quiet)).rejects.toThrow(/--alpha/);
    await expect(
      runAttribute(
        [
          "--model",
          "fashion-cnn",
          "--image",
          imagePath,
          "--method",
          "extremal-perturbation",
        ].concat(["--areas", "0.1,1.5", "--out", join(dir, "ep")]),
        quiet,
      ),
    ).rejects.toThrow(/--areas must be fractions in \(0, 1\)/);
  });

  test("extremal-perturbation through the CLI writes the library's masks, one per area", async () => {
    const out = await runAttribute(
      ["--model", "fashion-cnn", "--image", imagePath, "--method", "extremal-perturbation"].concat([
        "--areas",
        "0.1,0.3",
        "--iterations",
        "3",
        "--out",
        join(dir, "ep"),
      ]),
      quiet,
    );
    expect(out.shape).toEqual([1, 2, 28, 28]);
    const { values } = decodeNpy(readFileSync(out.npy));
    // The method is deterministic (its jitter is a fixed flip schedule), so the file must hold
    // the library's masks for the predicted class with the same areas and iterations.
    const { target } = await gradientPlane();
    const net = loadFashionCnn();
    const want = await extremalPerturbation((t: Tensor) => net.call(t), x, target, {
      areas: [0.1, 0.3],
      iterations: 3,
    });
    expect(want.map.shape).toEqual([1, 2, 28, 28]);
    const wantValues = want.map.dataSync();
    let worst = 0;
    for (let i = 0; i < wantValues.length; i++)
      worst = Math.max(worst, Math.abs(values[i] - wantValues[i]));
    expect(worst).toBeLessThan(1e-6);
    // Masks are blends between the blurred and the clean image: weights in [0, 1].
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    want.map.dispose();
  }, 60_000);
});

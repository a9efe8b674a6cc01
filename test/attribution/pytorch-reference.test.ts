/**
 * Cross-check against PyTorch autograd (scripts/fixtures/make_attribution_fixtures.py, no Captum):
 * a tiny RGB CNN exported to ONNX, run through salient's ONNX importer, gives the same logits,
 * gradient, guided backprop, deconvnet and 16-node Gauss-Legendre IG, both through the library and
 * through `salient attribute`.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  deconvnet,
  gradient,
  guidedBackprop,
  integratedGradients,
} from "../../src/attribution/index.ts";
import { runAttribute } from "../../src/cli/attribute.ts";
import * as s from "../../src/index.ts";
import { readImage } from "../../src/viz/image-io-node.ts";
import { decodeNpy } from "../../src/viz/npy.ts";
import { expectClose } from "./helpers.ts";

const FIX = "test/fixtures/attribution/";
const ref = JSON.parse(readFileSync(`${FIX}tiny-reference.json`, "utf8"));
const net = s.loadOnnx(new Uint8Array(readFileSync(`${FIX}tiny-cnn.onnx`)), {
  name: "tiny-cnn.onnx",
});
const model = (x: s.Tensor) => net.call(x);
const img = readImage(`${FIX}tiny-input.png`);
const x = s.keep(s.tensor(img.data, [1, 3, 8, 8]));
const scale = (v: number[]) => Math.max(...v.map(Math.abs));

describe("PyTorch reference (ONNX import)", () => {
  test("logits and the gradient / guided backprop / deconvnet maps match autograd", async () => {
    expectClose(model(x).dataSync(), ref.logits, 1e-5);
    const t = ref.target;
    expectClose(
      (await gradient(model, x, t)).map.dataSync(),
      ref.gradient,
      1e-5 * scale(ref.gradient),
    );
    expectClose(
      (await guidedBackprop(model, x, t)).map.dataSync(),
      ref.guidedBackprop,
      1e-5 * scale(ref.guidedBackprop),
    );
    expectClose(
      (await deconvnet(model, x, t)).map.dataSync(),
      ref.deconvnet,
      1e-5 * scale(ref.deconvnet),
    );
    // The rules differ on this network: the three maps are not the same.
    expect(
      scale(ref.guidedBackprop.map((v: number, i: number) => v - ref.gradient[i])),
    ).toBeGreaterThan(1e-4);
  });

  test("IG with 16 Gauss-Legendre nodes matches PyTorch; salient attribute writes the same map", async () => {
    const ig = await integratedGradients(model, x, ref.target, { steps: 16 });
    expectClose(
      ig.map.dataSync(),
      ref.integratedGradients16,
      1e-5 * scale(ref.integratedGradients16),
    );
    expect(ig.details.baselineScores[0]).toBeCloseTo(ref.baselineScore, 5);
    const dir = mkdtempSync(join(tmpdir(), "salient-onnx-"));
    const out = join(dir, "ig");
    const summary = await runAttribute(
      [
        "--model",
        `${FIX}tiny-cnn.onnx`,
        "--image",
        `${FIX}tiny-input.png`,
        "--method",
        "integrated-gradients",
        "--steps",
        "16",
        "--out",
        out,
      ],
      () => {},
    );
    expect(summary.target).toBe(ref.target);
    expect(summary.score).toBeCloseTo(ref.logits[ref.target], 5);
    const npy = decodeNpy(new Uint8Array(readFileSync(`${out}.npy`)));
    expect(npy.shape).toEqual([1, 3, 8, 8]);
    expectClose(npy.values, ref.integratedGradients16, 1e-5 * scale(ref.integratedGradients16));
  });
});

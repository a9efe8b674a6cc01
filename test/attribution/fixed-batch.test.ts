/**
 * Path methods on a graph exported with a fixed batch of 1 (a tiny SwinIR-style upscaler whose
 * window reshapes hold the constant 1): it fails on a batch, so path steps run one at a time, said
 * once, with the same result as batch 1.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { integratedGradients } from "../../src/attribution/index.ts";
import { lam } from "../../src/attribution/lam/lam.ts";
import * as s from "../../src/index.ts";
import { loadOnnx } from "../../src/models/io/onnx/model.ts";
import { expectClose } from "./helpers.ts";

const DIR = "test/fixtures/layers/";
const refs = JSON.parse(readFileSync(`${DIR}references.json`, "utf8"));
const net = loadOnnx(new Uint8Array(readFileSync(`${DIR}swinir.onnx`)), { name: "swinir.onnx" });
const model = (x: s.Tensor) => net.call(x);
const lr = () => s.tensor(Float32Array.from(refs.input8), [1, 3, 8, 8]);
const window = { x: 4, y: 4, size: 8 };

describe("a fixed-batch SwinIR-style export", () => {
  test("runs like PyTorch on one image and refuses a batch of two", () => {
    const x = lr();
    const y = model(x);
    expect(y.shape).toEqual([1, 3, 16, 16]);
    expectClose(y.dataSync(), refs.swinirOutput, 1e-4);
    const two = s.concat([x, x], 0);
    expect(() => model(two)).toThrow(/Reshape/);
    s.dispose([x, y, two]);
  });

  test("LAM with default flags equals LAM one path image at a time, and says so once", async () => {
    const x = lr();
    const notices: string[] = [];
    const batched = await lam(model, x, { window, onNotice: (m) => notices.push(m) });
    const single = await lam(model, x, { window, batch: 1 });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/fails on a batch of 8 rows but runs on one/);
    expect(batched.details.note).toBe(notices[0]);
    expect(single.details.note).toBeUndefined();
    expectClose(batched.map.dataSync(), single.map.dataSync(), 1e-6);
    expect(batched.delta).toBeCloseTo(single.delta, 6);
    s.dispose([x, batched.map, single.map]);
  });

  test("integrated gradients with the default batch equals batch size 1", async () => {
    const x = lr();
    // The mean of the upscaled image's first channel, as a scalar score per row.
    const score = (v: s.Tensor) => s.mean(s.slice(model(v), [0, 0], [-1, 1]), [1, 2, 3]);
    const batched = await integratedGradients(score, x, 0, { steps: 16 });
    const single = await integratedGradients(score, x, 0, { steps: 16, batchSize: 1 });
    expect(batched.details.note).toMatch(
      /integratedGradients: the model fails on a batch of 16 rows/,
    );
    expect(single.details.note).toBeUndefined();
    expectClose(batched.map.dataSync(), single.map.dataSync(), 1e-6);
    s.dispose([x, batched.map, single.map]);
  });
});

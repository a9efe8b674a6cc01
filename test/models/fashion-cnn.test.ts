/**
 * The bundled Fashion-MNIST classifier: the shipped weights (inlined base64 == the .safetensors
 * file) reach the accuracy the training script measured, on the first 2000 test images.
 * Needs Debian's dataset-fashion-mnist (apt-get install -y dataset-fashion-mnist).
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  fashionCnnAccuracy,
  fashionCnnWeights,
  loadFashionCnn,
} from "../../src/models/classifiers/fashion-cnn.ts";
import { SmallCnn } from "../../src/models/classifiers/small-cnn.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { accuracy } from "../../src/models/train/fit-classifier.ts";

describe("bundled fashion-cnn", () => {
  test("the inlined weights are the shipped safetensors file", () => {
    const file = readFileSync(
      new URL("../../src/models/weights/fashion-cnn.safetensors", import.meta.url),
    );
    expect(Buffer.from(fashionCnnWeights()).equals(file)).toBe(true);
  });

  test("reaches its reported accuracy on the first 2000 test images", () => {
    const model = loadFashionCnn();
    expect(model).toBeInstanceOf(SmallCnn);
    const acc = accuracy(model, loadFashionMnist("test"), 2000);
    console.log(
      `fashion-cnn: ${(100 * acc).toFixed(2)}% on the first 2000 test images (reported ${(100 * fashionCnnAccuracy.first2000).toFixed(2)}%, all 10000: ${(100 * fashionCnnAccuracy.all).toFixed(2)}%)`,
    );
    expect(Math.abs(acc - fashionCnnAccuracy.first2000)).toBeLessThanOrEqual(0.005);
    expect(acc).toBeGreaterThanOrEqual(0.88);
  });
});

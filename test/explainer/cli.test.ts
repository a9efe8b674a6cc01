/** `salient explain`, run in-process on a held-out canvas written as a PNG. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadExplainerPair } from "../../src/attribution/explainer/bundled.ts";
import { explainerPools, SEEDS } from "../../src/attribution/explainer/data.ts";
import { runExplain } from "../../src/cli/explain.ts";
import { sigmoid, tensor } from "../../src/index.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { multiFashionSample } from "../../src/models/data/multi-fashion.ts";
import { writePng } from "../../src/viz/image-io-node.ts";
import { decodeNpy } from "../../src/viz/npy.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-explain-"));
const pools = explainerPools(loadFashionMnist("train"), loadFashionMnist("test"));

function canvasPng(path: string, index: number): Float32Array {
  const s = multiFashionSample(pools.test, SEEDS.test, index);
  const bytes = Uint8Array.from(s.image, (v) => Math.round(v * 255));
  writePng(path, {
    width: 64,
    height: 64,
    data: Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => bytes[Math.floor(i / 3)]),
  });
  return Float32Array.from(bytes, (v) => v / 255);
}

describe("salient explain", () => {
  it("writes the [C, H, W] masks as .npy and an overlay PNG, and summarises the prediction", async () => {
    const image = join(dir, "canvas.png");
    const pixels = canvasPng(image, 5);
    const lines: string[] = [];
    const summary = await runExplain(["--image", image, "--out", join(dir, "out")], (l) =>
      lines.push(l),
    );
    expect(JSON.parse(lines[lines.length - 1])).toEqual(summary);
    const npy = decodeNpy(new Uint8Array(readFileSync(summary.npy)));
    expect(npy.shape).toEqual([10, 64, 64]);
    // The file holds sigmoid of the explainer's logits for the image as read back from the PNG.
    const pair = loadExplainerPair();
    const expected = sigmoid(pair.explainer.call(tensor(pixels, [1, 1, 64, 64]))).dataSync();
    for (let i = 0; i < npy.values.length; i += 101)
      expect(npy.values[i]).toBeCloseTo(expected[i], 6);
    // The PNG: input, combined and one panel per predicted class, 4x enlarged, 4 px gaps.
    const png = readFileSync(summary.png);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    const width = png.readUInt32BE(16);
    const panels = 2 + summary.predicted.length;
    expect(width).toBe(panels * 256 + (panels - 1) * 4);
    const logits = pair.classifier.call(tensor(pixels, [1, 1, 64, 64])).dataSync();
    expect(summary.predicted.map((p) => p.class)).toEqual(
      [...logits.keys()].filter((c) => logits[c] >= 0),
    );
  });

  it("says what is wrong with bad arguments and images", async () => {
    const log = () => {};
    await expect(runExplain(["--out", join(dir, "x")], log)).rejects.toThrow(
      /explain needs --image/,
    );
    await expect(
      runExplain(["--image", "a.png", "--out", "x", "--model", "nope"], log),
    ).rejects.toThrow(/--model must be one of multi-fashion, got "nope"/);
    const odd = join(dir, "odd.png");
    writePng(odd, { width: 30, height: 28, data: new Uint8Array(30 * 28 * 3) });
    await expect(runExplain(["--image", odd, "--out", join(dir, "odd")], log)).rejects.toThrow(
      /divisible by 8/,
    );
  });
});

/**
 * `salient run`, in-process: the .npy outputs must equal the model called directly through the
 * library on the input the test builds itself (from the PNG's bytes or the .npy values), and bad
 * invocations must say what was wrong.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { tidy } from "../../src/autodiff/tidy.ts";
import { runModel } from "../../src/cli/run-model.ts";
import { loadFashionCnn } from "../../src/models/classifiers/fashion-cnn.ts";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import { createArchitecture } from "../../src/models/registry.ts";
import { loadFsrcnnX2 } from "../../src/models/zoo/fsrcnn-pretrained.ts";
import { loadUpscalerModule } from "../../src/models/zoo/upscaler-node.ts";
import { tensor } from "../../src/ops/creation.ts";
import { Random } from "../../src/random.ts";
import { writePng } from "../../src/viz/image-io-node.ts";
import { decodeNpy, encodeNpy } from "../../src/viz/npy.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-run-"));
const FIXTURES = join(import.meta.dirname, "..", "fixtures", "io");

/** An RGB PNG of seeded pixels; returns its bytes as [3, H, W] planes (0..255). */
function png(name: string, h: number, w: number, seed: number, grey = false) {
  const rng = new Random(seed);
  const rgb = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    const v = Math.floor(rng.uniform() * 256);
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = grey ? v : Math.floor(rng.uniform() * 256);
  }
  const path = join(dir, name);
  writePng(path, { width: w, height: h, data: rgb });
  const planes = new Float32Array(3 * h * w);
  for (let p = 0; p < h * w; p++)
    for (let c = 0; c < 3; c++) planes[c * h * w + p] = rgb[p * 3 + c];
  return { path, planes };
}

async function run(args: string[]) {
  const lines: string[] = [];
  const summary = await runModel(args, (l) => lines.push(l));
  expect(lines.length).toBe(1);
  expect(JSON.parse(lines[0])).toEqual(summary);
  const outputs = summary.outputs.map((o) => decodeNpy(new Uint8Array(readFileSync(o.file))));
  summary.outputs.forEach((o, i) => expect(outputs[i].shape).toEqual(o.shape));
  return { summary, outputs };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number) {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst).toBeLessThanOrEqual(tol);
}

describe("salient run: outputs equal the library's forward pass", () => {
  test("fashion-cnn on a grey PNG (pixels / 255)", async () => {
    const { path, planes } = png("grey.png", 28, 28, 1, true);
    const { summary, outputs } = await run([
      "--model",
      "fashion-cnn",
      "--input",
      path,
      "--out",
      join(dir, "f"),
    ]);
    const want = tidy(() =>
      loadFashionCnn()
        .call(
          tensor(
            planes.subarray(0, 784).map((v) => v / 255),
            [1, 1, 28, 28],
          ),
        )
        .dataSync(),
    );
    expect(summary.outputs).toEqual([
      { name: "output", shape: [1, 10], file: join(dir, "f_0.npy") },
    ]);
    expectClose(outputs[0].values, want, 1e-5);
  });

  test("an ONNX file with two outputs, fed a .npy: both equal torch's values", async () => {
    const ref = JSON.parse(readFileSync(join(FIXTURES, "small_cnn.json"), "utf8"));
    const x = join(dir, "x.npy");
    writeFileSync(x, encodeNpy(Float32Array.from(ref.x.values), ref.x.shape));
    const { summary, outputs } = await run([
      "--model",
      join(FIXTURES, "small_cnn.onnx"),
      "--input",
      x,
      "--out",
      join(dir, "o"),
    ]);
    expect(summary.outputs.map((o) => [o.name, o.shape])).toEqual([
      ["sr", ref.sr.shape],
      ["probs", ref.probs.shape],
    ]);
    expectClose(outputs[0].values, ref.sr.values, 1e-4);
    expectClose(outputs[1].values, ref.probs.values, 1e-4);
  });

  test("fsrcnn-x2 on an RGB PNG takes its BT.601 luminance", async () => {
    const h = 12;
    const w = 10;
    const { path, planes } = png("rgb.png", h, w, 2);
    const { outputs } = await run([
      "--model",
      "fsrcnn-x2",
      "--input",
      path,
      "--out",
      join(dir, "s"),
    ]);
    // Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255 with R, G, B in [0, 1] (MATLAB rgb2ycbcr).
    const y = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) {
      const [r, g, b] = [0, 1, 2].map((c) => planes[c * h * w + p] / 255);
      y[p] = (16 + 65.481 * r + 128.553 * g + 24.966 * b) / 255;
    }
    const want = tidy(() =>
      loadFsrcnnX2()
        .call(tensor(y, [1, 1, h, w]))
        .dataSync(),
    );
    expect(outputs[0].shape).toEqual([1, 1, 2 * h, 2 * w]);
    expectClose(outputs[0].values, want, 1e-5);
  });

  test("an UpscalerJS package gets pixels in [0, 255]", async () => {
    const { path, planes } = png("small.png", 6, 5, 3);
    const { outputs } = await run([
      "--model",
      "esrgan-slim",
      "--scale",
      "2",
      "--input",
      path,
      "--out",
      join(dir, "e"),
    ]);
    const want = tidy(() =>
      loadUpscalerModule("esrgan-slim", 2)
        .eval()
        .call(tensor(planes, [1, 3, 6, 5]))
        .dataSync(),
    );
    expect(outputs[0].shape).toEqual([1, 3, 12, 10]);
    expectClose(outputs[0].values, want, 1e-3);
  });

  test("a weights file with --arch (zoo FSRCNN x2, safetensors) and a .npy batch of two", async () => {
    const net = createArchitecture("fsrcnn", 2);
    const weights = join(dir, "fsrcnn.safetensors");
    writeFileSync(
      weights,
      writeSafetensors(
        new Map(
          [...net.stateDict()].map(([k, v]) => [
            k,
            { shape: [...v.shape], values: Float32Array.from(v.dataSync()) },
          ]),
        ),
      ),
    );
    const rng = new Random(5);
    const xv = Float32Array.from({ length: 2 * 9 * 7 }, () => rng.uniform());
    const x = join(dir, "batch.npy");
    writeFileSync(x, encodeNpy(xv, [2, 1, 9, 7]));
    const { outputs } = await run([
      "--model",
      weights,
      "--arch",
      "fsrcnn",
      "--scale",
      "2",
      "--input",
      x,
      "--out",
      join(dir, "z"),
    ]);
    const want = tidy(() => net.call(tensor(xv, [2, 1, 9, 7])).dataSync());
    expect(outputs[0].shape).toEqual([2, 1, 18, 14]);
    expectClose(outputs[0].values, want, 1e-6);
  });
});

describe("salient run: clear errors", () => {
  const out = join(dir, "err");
  const grey = () => png("g28.png", 28, 28, 7, true).path;

  test("an unknown model", async () => {
    await expect(
      runModel(["--model", "no-such", "--input", grey(), "--out", out], () => {}),
    ).rejects.toThrow(
      /--model "no-such" is neither a bundled model \(fashion-cnn, .*\) nor an existing file/,
    );
  });

  test("a weights file without --arch, and an unknown --arch", async () => {
    const pth = join(FIXTURES, "small_cnn.pth");
    await expect(
      runModel(["--model", pth, "--input", grey(), "--out", out], () => {}),
    ).rejects.toThrow(/is a weights file: name its architecture with --arch/);
    await expect(
      runModel(["--model", pth, "--arch", "lenet", "--input", grey(), "--out", out], () => {}),
    ).rejects.toThrow(/--arch: unknown architecture "lenet" \(known: .*small-cnn/);
  });

  test("the wrong number of inputs", async () => {
    const g = grey();
    await expect(
      runModel(["--model", "fashion-cnn", "--input", g, "--input", g, "--out", out], () => {}),
    ).rejects.toThrow('fashion-cnn takes 1 input(s) ("x" [N, 1, 28, 28]), got 2 --input');
  });

  test("the wrong shape names what the model expects", async () => {
    const big = png("g30.png", 30, 28, 8, true).path;
    await expect(
      runModel(["--model", "fashion-cnn", "--input", big, "--out", out], () => {}),
    ).rejects.toThrow(
      `input 1 ("x", ${big}) has shape [1, 1, 30, 28], the model expects [N, 1, 28, 28]`,
    );
    const rgb = join(dir, "rgb.npy");
    writeFileSync(rgb, encodeNpy(new Float32Array(3 * 784), [1, 3, 28, 28]));
    await expect(
      runModel(["--model", "fashion-cnn", "--input", rgb, "--out", out], () => {}),
    ).rejects.toThrow(/has shape \[1, 3, 28, 28\], the model expects \[N, 1, 28, 28\]/);
  });

  test("NaN in a .npy input", async () => {
    const v = new Float32Array(784);
    v[100] = Number.NaN;
    const nan = join(dir, "nan.npy");
    writeFileSync(nan, encodeNpy(v, [1, 1, 28, 28]));
    await expect(
      runModel(["--model", "fashion-cnn", "--input", nan, "--out", out], () => {}),
    ).rejects.toThrow(`input 1 ("x", ${nan}): element 100 is NaN; inputs must be finite`);
  });

  test("unreadable, truncated or undecodable inputs", async () => {
    const missing = join(dir, "missing.npy");
    await expect(
      runModel(["--model", "fashion-cnn", "--input", missing, "--out", out], () => {}),
    ).rejects.toThrow(/^cannot read input 1 ".*missing\.npy": ENOENT/);
    const cut = join(dir, "cut.npy");
    writeFileSync(cut, encodeNpy(new Float32Array(784), [1, 1, 28, 28]).subarray(0, 200));
    await expect(
      runModel(["--model", "fashion-cnn", "--input", cut, "--out", out], () => {}),
    ).rejects.toThrow(/cut\.npy: \d+ data bytes for 784 float32 values/);
    const txt = join(dir, "notes.txt");
    writeFileSync(txt, "hello");
    await expect(
      runModel(["--model", "fashion-cnn", "--input", txt, "--out", out], () => {}),
    ).rejects.toThrow(/notes\.txt" is neither a PNG nor a JPEG file/);
  });

  test("missing options are named, with where to find the usage", async () => {
    await expect(runModel(["--model", "fashion-cnn"], () => {})).rejects.toThrow(
      "run needs --input, --out; see salient run --help",
    );
  });
});

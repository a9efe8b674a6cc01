/**
 * What the commands write and say: every JSON summary lists the files written (and they hold
 * what the library computes for the same call), output folders are created, a set that cannot be
 * written completely leaves none of its files, and the messages that used to leak internals
 * ("undefinedxundefined", raw ENOENT paths, "ONNX model:") now say what is wrong.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { LAM_DEFAULTS, lam } from "../../src/attribution/lam/lam.ts";
import { gradient } from "../../src/attribution/methods/gradient.ts";
import { runAttribute } from "../../src/cli/attribute.ts";
import { runLam, runLamOn } from "../../src/cli/lam.ts";
import { lamImagesFromLr } from "../../src/cli/lam-images.ts";
import { runUpscale } from "../../src/cli/upscale.ts";
import { loadFashionCnn } from "../../src/models/classifiers/fashion-cnn.ts";
import { tensor } from "../../src/ops/creation.ts";
import { mean } from "../../src/ops/reduce.ts";
import { reshape } from "../../src/ops/reshape.ts";
import { resize } from "../../src/ops/resize.ts";
import { Random } from "../../src/random.ts";
import { writePng } from "../../src/viz/image-io-node.ts";
import { decodeNpy } from "../../src/viz/npy.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-outputs-cli-"));
const FIXTURES = join(import.meta.dirname, "..", "fixtures", "io");

/** A seeded PNG; returns its path and its pixels as planes in [0, 1]. */
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
    for (let c = 0; c < 3; c++) planes[c * h * w + p] = rgb[p * 3 + c] / 255;
  return { path, planes };
}

const leftovers = (d: string) =>
  readdirSync(d).filter((f) => f.endsWith(".tmp") || f.endsWith(".old"));

describe("files written and listed", () => {
  test("attribute: --out in a folder that does not exist; the map is the library's gradient", async () => {
    const { path, planes } = png("shoe.png", 28, 28, 3, true);
    const prefix = join(dir, "new", "deeper", "shoe");
    const lines: string[] = [];
    const s = await runAttribute(
      [
        "--model",
        "fashion-cnn",
        "--image",
        path,
        "--method",
        "gradient",
        "--target",
        "7",
        "--out",
        prefix,
      ],
      (l) => lines.push(l),
    );
    expect(JSON.parse(lines[0]).files).toEqual([`${prefix}.npy`, `${prefix}.png`]);
    expect(s.files).toEqual([`${prefix}.npy`, `${prefix}.png`]);
    const npy = decodeNpy(new Uint8Array(readFileSync(`${prefix}.npy`)));
    const net = loadFashionCnn();
    const x = tensor(planes.subarray(0, 784), [1, 1, 28, 28]);
    const want = await gradient((v) => net.call(v), x, 7);
    const w = await want.map.data();
    expect(npy.shape).toEqual([1, 1, 28, 28]);
    let worst = 0;
    for (let i = 0; i < 784; i++) worst = Math.max(worst, Math.abs(npy.values[i] - w[i]));
    expect(worst).toBeLessThan(1e-6);
    expect(readFileSync(`${prefix}.png`).subarray(1, 4).toString()).toBe("PNG");
  });

  test("attribute: a directory where the PNG goes leaves no .npy either", async () => {
    const { path } = png("shoe2.png", 28, 28, 4, true);
    const out = join(dir, "blocked");
    mkdirSync(join(out, "eye.png"), { recursive: true });
    await expect(
      runAttribute(
        [
          "--model",
          "fashion-cnn",
          "--image",
          path,
          "--method",
          "gradient",
          "--out",
          join(out, "eye"),
        ],
        () => {},
      ),
    ).rejects.toThrow(`cannot write ${join(out, "eye.png")}: it is a directory`);
    expect(readdirSync(out)).toEqual(["eye.png"]);
  });

  test("lam: the JSON summary lists PREFIX.npy and PREFIX.png; the map is the library's", async () => {
    const { path } = png("lr.png", 12, 10, 5);
    const prefix = join(dir, "lam-out", "eye");
    const lines: string[] = [];
    await runLam(
      [
        "--model",
        "bicubic",
        "--lr",
        path,
        "--window",
        "8,12,8",
        "--fold",
        "4",
        "--out",
        `${prefix}.png`,
      ],
      (l) => lines.push(l),
    );
    const s = JSON.parse(lines.at(-1)!);
    expect(s.files).toEqual([`${prefix}.npy`, `${prefix}.png`]);
    expect(s.sigma).toBe(LAM_DEFAULTS.sigma);
    const got = decodeNpy(new Uint8Array(readFileSync(`${prefix}.npy`)));
    const images = lamImagesFromLr(path);
    const r = await lam(
      (x) => resize(x, [x.shape[2] * 4, x.shape[3] * 4], { mode: "bicubic" }),
      images.lr,
      { window: { x: 8, y: 12, size: 8 }, fold: 4 },
    );
    const want = await r.map.data();
    expect(got.shape).toEqual([3, 12, 10]);
    let worst = 0;
    for (let i = 0; i < want.length; i++)
      worst = Math.max(worst, Math.abs(got.values[i] - want[i]));
    expect(worst).toBeLessThan(1e-6);
    images.lr.dispose();
  });

  test("upscale: --out PREFIX writes PREFIX.png; --out equal to --image is refused", async () => {
    const { path } = png("small.png", 6, 5, 6);
    const lines: string[] = [];
    const s = await runUpscale(
      ["--model", "bicubic", "--scale", "2", "--image", path, "--out", join(dir, "up")],
      (l) => lines.push(l),
    );
    expect(s.files).toEqual([join(dir, "up.png")]);
    expect(JSON.parse(lines[0]).files).toEqual([join(dir, "up.png")]);
    const before = readFileSync(path);
    await expect(
      runUpscale(
        ["--model", "bicubic", "--image", path, "--out", join(dir, ".", "small.png")],
        () => {},
      ),
    ).rejects.toThrow(`would overwrite the input image ${path}`);
    expect(readFileSync(path)).toEqual(before);
  });
});

describe("messages that name the problem", () => {
  test("upscale --scale 5 with esrgan-slim lists the scales the package has", async () => {
    const { path } = png("s5.png", 4, 4, 7);
    const root = join(
      import.meta.dirname,
      "..",
      "..",
      "node_modules",
      "@upscalerjs",
      "esrgan-slim",
      "models",
    );
    const scales = [2, 3, 4, 5, 8].filter((k) => existsSync(join(root, `x${k}`, "model.json")));
    expect(scales).toEqual([2, 3, 4, 8]);
    await expect(
      runUpscale(
        ["--model", "esrgan-slim", "--scale", "5", "--image", path, "--out", join(dir, "x5")],
        () => {},
      ),
    ).rejects.toThrow("esrgan-slim has no x5 model; available scales: 2, 3, 4, 8");
  });

  test("lam on a classifier says it is not an SR model", async () => {
    const { path } = png("c.png", 8, 8, 8);
    const images = lamImagesFromLr(path);
    const classifier = {
      name: "a classifier",
      scale: 4,
      parameters: 0,
      run: (x: Parameters<typeof mean>[0]) => reshape(mean(x, [1, 2, 3]), [1, 1]),
    };
    await expect(runLamOn(classifier, images, { window: { x: 0, y: 0, size: 4 } })).rejects.toThrow(
      "a classifier is not an SR model: it turns the [1, 3, 8, 8] LR image into [1, 1], not a larger image; lam needs a super-resolution model whose output is the input upscaled ([1, 3, 32, 32] at --scale 4)",
    );
    images.lr.dispose();
  });

  test("lam with ONNX files names the file", async () => {
    const { path } = png("o.png", 8, 8, 9);
    const bad = join(dir, "broken.onnx");
    writeFileSync(bad, "not a protobuf at all");
    const args = (model: string) => [
      "--model",
      model,
      "--lr",
      path,
      "--window",
      "0,0,8",
      "--out",
      join(dir, "o"),
    ];
    await expect(runLam(args(bad), () => {})).rejects.toThrow(bad);
    // A fixture network whose output is not x4 of its input: the error starts with its path.
    const cnn = join(FIXTURES, "small_cnn.onnx");
    const err = await runLam(args(cnn), () => {}).then(
      () => "",
      (e: Error) => e.message,
    );
    expect(err.startsWith(`${cnn}: `)).toBe(true);
    expect(err).not.toMatch(/^ONNX model:/);
  });

  test("lam: a window outside the SR image is refused before the model runs", async () => {
    const { path } = png("w.png", 8, 8, 10);
    await expect(
      runLam(
        ["--model", "/no/such.onnx", "--lr", path, "--window", "20,0,16", "--out", join(dir, "w")],
        () => {},
      ),
    ).rejects.toThrow("--window 20,0,16 does not fit the 32x32 (WxH) SR image (8x8 LR at x4)");
  });

  test("the library's lam() refuses sigma <= 0 on the blur paths", async () => {
    const lr = tensor(new Float32Array(3 * 8 * 8).fill(0.5), [1, 3, 8, 8]);
    const up = (x: Parameters<typeof resize>[0]) => resize(x, [32, 32], { mode: "bicubic" });
    for (const sigma of [0, -1]) {
      await expect(lam(up, lr, { window: { x: 0, y: 0, size: 8 }, sigma })).rejects.toThrow(
        `LAM: sigma ${sigma} must be a finite number > 0`,
      );
    }
    lr.dispose();
  });

  test("no temporaries are left anywhere in the test folder", () => {
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? [...leftovers(d), ...walk(join(d, e.name))] : [],
      );
    expect([...new Set([...leftovers(dir), ...walk(dir)])]).toEqual([]);
  });
});

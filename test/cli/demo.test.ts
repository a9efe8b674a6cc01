/**
 * `salient demo` as a user runs it: the built CLI (dist/cli.js, built by test/global-setup.ts), started from a folder outside
 * the repository, finds its bundled photos and Fashion-MNIST images next to itself and writes a
 * complete report; interrupted, it leaves no report folder and no temporary folder. The shipped
 * Fashion-MNIST images are checked against the dataset when Debian's copy is installed.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { PNG } from "pngjs";
import { describe, expect, test } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "cli.js");
const DEMO_JSON = join(ROOT, "assets", "fashion-mnist", "demo.json");
const DATASET = "/usr/share/datasets/fashion-mnist";

interface DemoImage {
  file: string;
  index: number;
  label: number;
  name: string;
}
const shipped = JSON.parse(readFileSync(DEMO_JSON, "utf8")) as DemoImage[];

function runCli(cwd: string, args: string[], onStart?: (kill: () => void) => void) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    onStart?.(() => child.kill("SIGINT"));
  });
}

describe("salient demo outside the repository", () => {
  test("writes index.html with labelled LAM and classifier figures, colour bars, timings and explorer links", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "salient-demo-"));
    const methods = ["gradient", "gradcam"];
    const r = await runCli(cwd, [
      "demo",
      "--models",
      "bicubic",
      "--fold",
      "2",
      "--methods",
      methods.join(","),
      "--out",
      "rep",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const html = readFileSync(join(cwd, "rep", "index.html"), "utf8");
    const pictures = [
      ...["hr", "crop", "map", "kde"].map((k) => `lam-bicubic-${k}.png`),
      ...shipped.flatMap((s) => [
        `fashion-${s.index}.png`,
        ...methods.map((m) => `fashion-${s.index}-${m}.png`),
      ]),
    ];
    for (const p of pictures) {
      expect(html).toContain(`src="${p}"`);
      expect(existsSync(join(cwd, "rep", p)), p).toBe(true);
    }
    // The LAM panels are drawn large: 256 pixels wide (the 32x32 LR map enlarged 8 times).
    const map = PNG.sync.read(readFileSync(join(cwd, "rep", "lam-bicubic-map.png")));
    expect([map.width, map.height]).toEqual([256, 256]);

    // Class names, not indices: each shipped image's name from demo.json, as a heading and title.
    for (const s of shipped) {
      expect(html).toContain(`${s.name} (test image ${s.index}): maps of the class ${s.name}`);
      expect(html).toContain(`input: ${s.name}`);
    }
    // Real timings, one per method and image, each positive.
    const times = [...html.matchAll(/<small>([0-9.e-]+) (ms|s) · /g)].map((m) => Number(m[1]));
    expect(times).toHaveLength(shipped.length * methods.length);
    for (const t of times) expect(t).toBeGreaterThan(0);

    // Links to the explorer that reproduce each view (the CNN predicts each image's label).
    const links = [...html.matchAll(/href="(http:\/\/127\.0\.0\.1:8321\/[^"]*)"/g)].map(
      (m) => new URL(m[1].replaceAll("&amp;", "&")),
    );
    const params = links.map((u) => Object.fromEntries(u.searchParams));
    expect(params).toContainEqual({
      model: "bicubic",
      image: "astronaut",
      window: "40,44,16",
      fold: "2",
    });
    for (const s of shipped)
      for (const m of methods)
        expect(params).toContainEqual({
          mode: "classify",
          model: "fashion-cnn",
          image: s.file.replace(".png", ""),
          method: m,
          target: String(s.label),
        });
    expect(html).toContain("npx salient app");

    // Colour bars: gradient is signed (diverging seismic, its left end seismic's first entry
    // #00004d), gradcam non-negative (sequential viridis, left end #440154).
    const bars = [
      ...html.matchAll(/<img src="data:image\/png;base64,([^"]+)"[^>]*alt="colour bar">/g),
    ];
    expect(bars).toHaveLength(shipped.length * methods.length + 1);
    const leftEnd = (b64: string) =>
      Array.from(PNG.sync.read(Buffer.from(b64, "base64")).data.subarray(0, 3));
    const barOf = (file: string) => {
      const i = html.indexOf(`src="${file}"`);
      return bars.find((b) => (b.index ?? 0) > i)![1];
    };
    expect(leftEnd(barOf(`fashion-${shipped[0].index}-gradient.png`))).toEqual([0, 0, 0x4d]);
    expect(leftEnd(barOf(`fashion-${shipped[0].index}-gradcam.png`))).toEqual([0x44, 0x01, 0x54]);

    const summary = JSON.parse(r.stdout.trimEnd().split("\n").at(-1)!);
    expect(summary.report).toBe(join("rep", "index.html"));
    expect(summary.files).toEqual(
      readdirSync(join(cwd, "rep"))
        .sort()
        .map((f) => join("rep", f)),
    );
    expect(readdirSync(cwd)).toEqual(["rep"]);
  }, 60_000);

  test("lam and upscale take a bundled photo's name as --image, whatever the folder", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "salient-photo-"));
    const lamRun = await runCli(cwd, [
      "lam",
      "--model",
      "bicubic",
      "--image",
      "astronaut",
      "--window",
      "40,44,16",
      "--fold",
      "2",
      "--out",
      "eye",
    ]);
    expect(lamRun.code).toBe(0);
    expect(JSON.parse(lamRun.stdout.trim()).files).toEqual(["eye.npy", "eye.png"]);
    const up = await runCli(cwd, [
      "upscale",
      "--model",
      "bicubic",
      "--image",
      "coffee",
      "--out",
      "c",
    ]);
    expect(up.code).toBe(0);
    const png = PNG.sync.read(readFileSync(join(cwd, "c.png")));
    const photo = PNG.sync.read(readFileSync(join(ROOT, "assets", "photos", "coffee.png")));
    expect([png.width, png.height]).toEqual([4 * photo.width, 4 * photo.height]);
    expect(readdirSync(cwd).sort()).toEqual(["c.png", "eye.npy", "eye.png"]);
  }, 60_000);

  test("SIGINT while the report is being built leaves neither the report nor temporaries", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "salient-demo-int-"));
    const r = await runCli(
      cwd,
      ["demo", "--models", "bicubic,bicubic,bicubic", "--fold", "8", "--out", "rep"],
      (kill) => {
        // Interrupt as soon as the temporary report folder exists.
        const poll = setInterval(() => {
          if (readdirSync(cwd).some((f) => f.startsWith(".rep."))) {
            clearInterval(poll);
            kill();
          }
        }, 5);
      },
    );
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("interrupted (SIGINT); no output was written");
    expect(readdirSync(cwd)).toEqual([]);
  }, 60_000);
});

describe("the shipped Fashion-MNIST images", () => {
  const installed = existsSync(join(DATASET, "t10k-labels-idx1-ubyte.gz"));

  test.skipIf(!installed)("are the first test images of their classes, pixel for pixel", () => {
    const idx = (f: string) => gunzipSync(readFileSync(join(DATASET, f)));
    const labels = idx("t10k-labels-idx1-ubyte.gz").subarray(8);
    const images = idx("t10k-images-idx3-ubyte.gz").subarray(16);
    for (const s of shipped) {
      expect(labels.indexOf(s.label)).toBe(s.index);
      const png = PNG.sync.read(readFileSync(join(ROOT, "assets", "fashion-mnist", s.file)));
      expect([png.width, png.height]).toEqual([28, 28]);
      const grey = Uint8Array.from({ length: 784 }, (_, p) => png.data[p * 4]);
      expect(grey).toEqual(new Uint8Array(images.subarray(s.index * 784, (s.index + 1) * 784)));
    }
  });
});

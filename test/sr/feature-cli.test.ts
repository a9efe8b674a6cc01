/**
 * `salient srga` and `salient ddr` end to end on the bundled FSRCNN x2 and real photos, plus the
 * deep-feature tap on the zoo transformers' default layer.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  deepFeatures,
  defaultFeatureLayer,
  poolCells,
} from "../../src/attribution/sr/deep-features.ts";
import { UsageError } from "../../src/cli/args.ts";
import { runDdr } from "../../src/cli/ddr.ts";
import { runSrga } from "../../src/cli/srga.ts";
import { Hat } from "../../src/models/zoo/hat.ts";
import { tensor } from "../../src/ops/creation.ts";
import { Random } from "../../src/random.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-features-"));
const photos = join(dir, "photos");
mkdirSync(photos);
for (const f of ["astronaut", "chelsea", "coffee"])
  copyFileSync(
    join(import.meta.dirname, "../../assets/photos", `${f}.png`),
    join(photos, `${f}.png`),
  );

async function run(fn: typeof runSrga, args: string[]) {
  const lines: string[] = [];
  await fn(args, (l) => lines.push(l));
  return JSON.parse(lines.at(-1)!);
}

const common = ["--model", "fsrcnn-x2", "--layer", "mid_part", "--crop", "64", "--cell", "8"];
/** The photos against themselves with Gaussian noise (sigma 0.1), 4 mixture components. */
const noisyArgs = [
  ...common,
  "--images",
  photos,
  "--reference-images",
  photos,
  "--degradation",
  "noise:0.1",
  "--components",
  "4",
];

describe("salient srga", () => {
  test("a set against itself is the floor 0; the same photos with noise score higher", async () => {
    const same = await run(runSrga, [
      ...common,
      "--images",
      photos,
      "--reference-images",
      photos,
      "--components",
      "4",
      "--out",
      join(dir, "same"),
    ]);
    expect(same.srga).toBeCloseTo(0, 6);
    // 3 photos x (32 / 8)^2 cells of the 32x32 LR feature map
    expect(same.test_vectors).toBe(48);
    const noisy = await run(runSrga, [...noisyArgs, "--out", join(dir, "noisy")]);
    expect(noisy.srga).toBeGreaterThan(same.srga + 1);
    expect(noisy.fit).toBe("mggd");
    const json = JSON.parse(readFileSync(join(dir, "noisy.json"), "utf8"));
    expect(json.test_fit.scatter).toHaveLength(4);
    expect(json.test_fit.beta).toBeGreaterThan(0);
    const svg = readFileSync(join(dir, "noisy.svg"), "utf8");
    expect(svg.match(/<circle /g)!.length).toBe(48 + 48 + 2); // points + two legend marks
  });

  test("--fit per-component keeps the univariate model; an unknown --fit is a usage error", async () => {
    const per = await run(runSrga, [
      ...noisyArgs,
      "--fit",
      "per-component",
      "--out",
      join(dir, "per"),
    ]);
    expect(per.fit).toBe("per-component");
    expect(per.srga).toBeGreaterThan(1);
    await expect(
      runSrga([...noisyArgs, "--fit", "gaussian", "--out", join(dir, "bad")], () => {}),
    ).rejects.toThrow(/--fit must be mggd or per-component, got "gaussian"/);
  });

  test("a model without a body-end module asks for --layer", async () => {
    await expect(
      runSrga(
        [
          "--model",
          "fsrcnn-x2",
          "--images",
          photos,
          "--reference-images",
          photos,
          "--out",
          join(dir, "x"),
        ],
        () => {},
      ),
    ).rejects.toThrow(UsageError);
  });
});

describe("salient ddr", () => {
  test("FSRCNN's cell features follow content: a noisy cell's nearest neighbour is its clean twin", async () => {
    // FSRCNN was trained on clean bicubic inputs only, so nothing makes its features cluster by
    // degradation (the DDR paper's point): the same cell with and without noise stays close
    const r = await run(runDdr, [
      ...common,
      "--images",
      photos,
      "--degradations",
      "none,noise:0.2",
      "--iterations",
      "300",
      "--out",
      join(dir, "ddr"),
    ]);
    expect(r.points).toBe(96);
    expect(r.chance).toBe(0.5);
    expect(r.nn_agreement_pca).toBeLessThan(0.5);
    const json = JSON.parse(readFileSync(join(dir, "ddr.json"), "utf8"));
    expect(
      json.points.filter((p: { degradation: string }) => p.degradation === "noise:0.2").length,
    ).toBe(48);
  });
});

describe("deep features", () => {
  test("HAT's default layer is conv_after_body, tapped at the LR grid", () => {
    const net = new Hat(2, {
      embedDim: 12,
      depths: [1],
      numHeads: [2],
      windowSize: 4,
      compressRatio: 3,
      squeezeFactor: 4,
    });
    expect(defaultFeatureLayer(net)).toBe("conv_after_body");
    const rng = new Random(1);
    const x = tensor(
      Float32Array.from({ length: 3 * 8 * 8 }, () => rng.uniform()),
      [1, 3, 8, 8],
    );
    const f = deepFeatures((z) => net.call(z), x, "conv_after_body", 4);
    expect(f.length).toBe(4);
    expect(f[0].length).toBe(12);
    x.dispose();
  });

  test("cell pooling averages each block by hand", () => {
    // one channel, 2x4 map, cells of 2: blocks [[1,2],[5,6]] and [[3,4],[7,8]]
    const v = poolCells([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 4], 2);
    expect(v.map((r) => r[0])).toEqual([3.5, 5.5]);
  });
});

/** `salient evaluate`, run in-process on a SmallCnn weights file. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import {
  deletionAuc,
  faithfulnessEstimate,
  gradient,
  insertionAuc,
  monotonicityArya,
  pixelFlipping,
  selectivity,
  sensitivityN,
} from "../../src/attribution/index.ts";
import { UsageError } from "../../src/cli/args.ts";
import { METRICS, runEvaluate } from "../../src/cli/evaluate.ts";
import * as s from "../../src/index.ts";
import { SmallCnn } from "../../src/models/classifiers/small-cnn.ts";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import { writePng } from "../../src/viz/image-io-node.ts";
import { encodeNpy } from "../../src/viz/npy.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-evaluate-"));
const weights = join(dir, "cnn.safetensors");
const imagePath = join(dir, "img.png");
const maskPath = join(dir, "mask.png");
const hotPath = join(dir, "hot.npy");
// The mask is the square rows and columns 6..21 (256 pixels); the one-hot map's pixel (10, 10) is inside.
const inside = (p: number) => {
  const r = Math.floor(p / 28);
  const c = p % 28;
  return r >= 6 && r < 22 && c >= 6 && c < 22;
};
let net: SmallCnn;
let x: s.Tensor;

beforeAll(() => {
  net = new SmallCnn({ seed: 4, channels: [4, 8] });
  const dict = new Map(
    net
      .namedParameters()
      .map(([k, p]) => [k, { shape: [...p.shape], values: Float32Array.from(p.dataSync()) }]),
  );
  writeFileSync(weights, writeSafetensors(dict));
  const px = Uint8Array.from({ length: 784 }, (_, p) => (p * 37) % 256);
  writePng(imagePath, {
    width: 28,
    height: 28,
    data: Uint8Array.from({ length: 784 * 3 }, (_, i) => px[Math.floor(i / 3)]),
  });
  writePng(maskPath, {
    width: 28,
    height: 28,
    data: Uint8Array.from({ length: 784 * 3 }, (_, i) => (inside(Math.floor(i / 3)) ? 255 : 0)),
  });
  const hot = new Float32Array(784);
  hot[10 * 28 + 10] = 2;
  writeFileSync(hotPath, encodeNpy(hot, [1, 1, 28, 28]));
  x = s.keep(
    s.tensor(
      Float32Array.from(px, (v) => v / 255),
      [1, 1, 28, 28],
    ),
  );
});

// Tested on their own: monotonicity-correlation takes 100 samples per pixel; sensitivity-n needs --images.
const SLOW_OR_BATCH = ["monotonicity-correlation", "sensitivity-n"];
const base = () => ["--model", weights, "--arch", "small-cnn", "--image", imagePath];
const evaluate = async (extra: string[]) => {
  const lines: string[] = [];
  const summary = await runEvaluate([...base(), ...extra], (l) => lines.push(l));
  expect(JSON.parse(lines[lines.length - 1])).toEqual(summary);
  return { summary, report: JSON.parse(readFileSync(summary.json, "utf8")) };
};

describe("salient evaluate", () => {
  test("a one-hot map inside the mask: closed-form complexity and localisation scores", async () => {
    const { report } = await evaluate([
      "--map",
      hotPath,
      "--mask",
      maskPath,
      "--metrics",
      "sparseness,complexity,effective-complexity,relevance-mass-accuracy,attribution-localisation,pointing-game,top-k-intersection,auc",
      "--out",
      join(dir, "hot.json"),
    ]);
    const m = report.metrics;
    const n = 784;
    // Gini of a one-hot map (scale-free up to the 1e-7 offset): (n - 1) / (n (1 + n e / 2)) for the value 2.
    expect(m.sparseness.score).toBeCloseTo((n - 1) / (n * (1 + (n * 1e-7) / 2)), 10);
    expect(m.complexity.score).toBe(0);
    expect(m["effective-complexity"].score).toBe(1);
    expect(m["relevance-mass-accuracy"].score).toBe(1);
    expect(m["attribution-localisation"].score).toBe(1);
    expect(m["pointing-game"]).toMatchObject({ score: true, point: [10, 10] });
    // k = all 784 pixels, 256 of them inside.
    expect(m["top-k-intersection"].score).toBeCloseTo(256 / 784, 12);
    // The hot pixel beats all 528 outside; the other 255 inside tie with them (half each).
    expect(m.auc.score).toBeCloseTo((528 + 0.5 * 255 * 528) / (256 * 528), 12);
    expect(m.sparseness.family).toBe("complexity");
  });

  test("--method and a saved --map of the same gradient score alike, as the library does", async () => {
    const model = (v: s.Tensor) => net.call(v);
    const logits = Array.from(model(x).dataSync());
    const target = logits.indexOf(Math.max(...logits));
    const g = (await gradient(model, x, target)).map;
    const gPath = join(dir, "grad.npy");
    writeFileSync(gPath, encodeNpy(Float32Array.from(g.dataSync()), [1, 1, 28, 28]));
    const expected = (await faithfulnessEstimate(model, x, target, g))[0];
    const a = await evaluate([
      "--method",
      "gradient",
      "--metrics",
      "faithfulness-estimate",
      "--out",
      join(dir, "a"),
    ]);
    const b = await evaluate([
      "--map",
      gPath,
      "--metrics",
      "faithfulness-estimate",
      "--out",
      join(dir, "b"),
    ]);
    expect(a.summary.target).toBe(target);
    expect(a.report.metrics["faithfulness-estimate"].score).toBeCloseTo(expected, 5);
    expect(b.report.metrics["faithfulness-estimate"].score).toBeCloseTo(expected, 5);
  });

  test("--score softmax: completeness compares the map with the probability drop to the black image", async () => {
    const probs = (v: s.Tensor) => {
      const z = Array.from(net.call(v).dataSync());
      const e = z.map((t) => Math.exp(t - Math.max(...z)));
      return e.map((t) => t / e.reduce((u, w) => u + w, 0));
    };
    const px = probs(x);
    const target = px.indexOf(Math.max(...px));
    // The image's minimum is 0 (pixel 0), so "black" is the zero image.
    const drop = px[target] - probs(s.zeros([1, 1, 28, 28]))[target];
    const { report } = await evaluate([
      ...["--map", hotPath, "--metrics", "completeness", "--score", "softmax"],
      ...["--out", join(dir, "soft")],
    ]);
    expect(report.metrics.completeness.difference).toBeCloseTo(drop, 5);
    expect(report.metrics.completeness.score).toBeCloseTo(2 - drop, 5);
  });

  test("sensitivity-n over --image and --images matches the library on the same batch", async () => {
    const paths = [1, 2].map((k) => {
      const path = join(dir, `more-${k}.png`);
      const v = Uint8Array.from({ length: 784 }, (_, p) => (p * (37 + 20 * k) + 11 * k) % 256);
      writePng(path, {
        width: 28,
        height: 28,
        data: Uint8Array.from({ length: 784 * 3 }, (_, i) => v[Math.floor(i / 3)]),
      });
      return {
        path,
        x: s.tensor(
          Float32Array.from(v, (t) => t / 255),
          [1, 1, 28, 28],
        ),
      };
    });
    const model = (v: s.Tensor) => net.call(v);
    const xs = [x, ...paths.map((q) => q.x)];
    const targets = xs.map((xi) => {
      const z = Array.from(model(xi).dataSync());
      return z.indexOf(Math.max(...z));
    });
    const maps = await Promise.all(
      xs.map(async (xi, i) => (await gradient(model, xi, targets[i])).map),
    );
    const lib = await sensitivityN(model, s.concat(xs, 0), targets, s.concat(maps, 0));
    const { report } = await evaluate([
      ...["--method", "gradient", "--metrics", "sensitivity-n"],
      ...["--images", paths.map((q) => q.path).join(","), "--out", join(dir, "sn")],
    ]);
    const r = report.metrics["sensitivity-n"];
    expect(r.targets).toEqual(targets);
    // Quantus's default: n up to 80% of the pixels, one pixel per step.
    expect(r.correlation.length).toBe(Math.floor(0.8 * 784));
    for (let j = 0; j < lib.correlation.length; j++)
      expect(r.correlation[j]).toBeCloseTo(lib.correlation[j], 4);
  }, 60000);

  test("every metric runs on --method gradient with a mask (all); the mask metrics match their definitions", async () => {
    const { report } = await evaluate([
      "--method",
      "gradient",
      "--mask",
      maskPath,
      "--metrics",
      Object.keys(METRICS)
        .filter((k) => !SLOW_OR_BATCH.includes(k))
        .join(","),
      "--out",
      join(dir, "all"),
    ]);
    for (const k of Object.keys(METRICS)) {
      if (SLOW_OR_BATCH.includes(k)) continue;
      expect(report.metrics[k], k).toHaveProperty("score");
      expect(report.metrics[k].error, k).toBeUndefined();
    }
    // The gradient is input invariant (Kindermans et al.): shifting the input and the model alike leaves it.
    expect(report.metrics["input-invariance"].score).toBe(true);

    // The mask metrics from their definitions, on the gradient of the predicted class.
    const model = (v: s.Tensor) => net.call(v);
    const logits = Array.from(model(x).dataSync());
    const a = Array.from(
      (await gradient(model, x, logits.indexOf(Math.max(...logits)))).map.dataSync(),
    );
    const ins = a.map((_, p) => inside(p));
    const sum = (f: (v: number, p: number) => number) => a.reduce((t, v, p) => t + f(v, p), 0);
    const m = report.metrics;
    expect(m["attribution-localisation"].score).toBeCloseTo(
      sum((v, p) => (ins[p] ? Math.abs(v) : 0)) / sum(Math.abs),
      6,
    );
    expect(m["relevance-mass-accuracy"].score).toBeCloseTo(
      sum((v, p) => (ins[p] ? v : 0)) / sum((v) => v),
      6,
    );
    // The 256 largest signed values (the mask's size): the share inside.
    const byValue = a.map((_, p) => p).sort((p, q) => a[q] - a[p]);
    const rankHits = byValue.slice(0, 256).filter((p) => ins[p]).length;
    expect(m["relevance-rank-accuracy"].score).toBeCloseTo(rankHits / 256, 12);
    // k = min(1000, 784) = every pixel, so the share inside is the mask's: 256 / 784.
    expect(m["top-k-intersection"].score).toBeCloseTo(256 / 784, 12);
    // ROC AUC as the probability that an inside pixel outranks an outside one (ties count half).
    let wins = 0;
    for (let p = 0; p < 784; p++)
      if (ins[p])
        for (let q = 0; q < 784; q++)
          if (!ins[q]) wins += a[p] > a[q] ? 1 : a[p] === a[q] ? 0.5 : 0;
    expect(m.auc.score).toBeCloseTo(wins / (256 * 528), 12);
    // Complexity: the entropy of |a| / sum |a|.
    const total = sum(Math.abs);
    expect(m.complexity.score).toBeCloseTo(
      -sum((v) => (v === 0 ? 0 : (Math.abs(v) / total) * Math.log(Math.abs(v) / total))),
      6,
    );
  }, 60000);

  test("flag mistakes are usage errors, found before the model is loaded", async () => {
    const bad = (extra: string[]) =>
      runEvaluate(
        ["--model", "/nonexistent.onnx", "--image", imagePath, "--out", join(dir, "x"), ...extra],
        () => {},
      );
    await expect(bad(["--method", "gradient", "--metrics", "sparsenes"])).rejects.toThrow(
      /unknown metric "sparsenes"; did you mean "sparseness"/,
    );
    await expect(bad(["--map", hotPath, "--metrics", "avg-sensitivity"])).rejects.toThrow(
      /give --method, not --map/,
    );
    await expect(bad(["--method", "gradient", "--metrics", "auc"])).rejects.toThrow(
      /--mask FILE.png/,
    );
    await expect(bad(["--method", "gradient", "--metrics", "sensitivity-n"])).rejects.toThrow(
      /correlates across images: give --images/,
    );
    await expect(bad(["--metrics", "sparseness"])).rejects.toThrow(/--method NAME or --map/);
    await expect(
      bad(["--method", "gradient", "--map", hotPath, "--metrics", "sparseness"]),
    ).rejects.toBeInstanceOf(UsageError);
  });

  test("a map of the wrong size is refused with both shapes named", async () => {
    const small = join(dir, "small.npy");
    writeFileSync(small, encodeNpy(new Float32Array(16), [1, 1, 4, 4]));
    await expect(
      runEvaluate(
        [...base(), "--map", small, "--metrics", "sparseness", "--out", join(dir, "s")],
        () => {},
      ),
    ).rejects.toThrow(/shape \[1,1,4,4\]; expected \[1, C, 28, 28\]/);
  });
});

describe("salient evaluate reports what the library computes", () => {
  test("curve metrics: each row's score and curve are the library's for the one example", async () => {
    const model = (v: s.Tensor) => net.call(v);
    const logits = Array.from(model(x).dataSync());
    const target = logits.indexOf(Math.max(...logits));
    const hot = new Float32Array(784);
    hot[10 * 28 + 10] = 2;
    const map = s.tensor(hot, [1, 1, 28, 28]);
    const { report } = await evaluate([
      "--map",
      hotPath,
      "--metrics",
      "pixel-flipping,selectivity,deletion,insertion,monotonicity-arya",
      "--out",
      join(dir, "curves"),
    ]);
    const m = report.metrics;
    const flip = (await pixelFlipping(model, x, target, map))[0];
    expect(m["pixel-flipping"].score).toBeCloseTo(flip.score, 5);
    expect(m["pixel-flipping"].curve).toHaveLength(flip.curve.length);
    const sel = (await selectivity(model, x, target, map))[0];
    expect(m.selectivity.score).toBeCloseTo(sel.score, 5);
    const del = await deletionAuc(model, x, target, map);
    expect(m.deletion.score).toBeCloseTo(del.auc[0], 5);
    expect(m.deletion.curve).toHaveLength(del.curves[0].length);
    const ins = await insertionAuc(model, x, target, map);
    expect(m.insertion.score).toBeCloseTo(ins.auc[0], 5);
    const mono = (await monotonicityArya(model, x, target, map))[0];
    expect(m["monotonicity-arya"].score).toBe(mono.monotonic);
    expect(m["monotonicity-arya"].curve).toHaveLength(mono.curve.length);
    map.dispose();
  }, 60000);
});

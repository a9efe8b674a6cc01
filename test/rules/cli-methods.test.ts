/** salient attribute --method lrp | deeplift | deeplift-shap: the files hold the library's maps. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { makeBaseline } from "../../src/attribution/baselines.ts";
import { deepLift, deepLiftShap } from "../../src/attribution/methods/deeplift.ts";
import { lrp } from "../../src/attribution/methods/lrp.ts";
import { runAttribute } from "../../src/cli/attribute.ts";
import { loadFashionCnn } from "../../src/models/classifiers/fashion-cnn.ts";
import { concat } from "../../src/ops/concat.ts";
import { tensor } from "../../src/ops/creation.ts";
import { writePng } from "../../src/viz/image-io-node.ts";
import { decodeNpy } from "../../src/viz/npy.ts";
import { seeded } from "./lrp-reference.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-rules-cli-"));
const rnd = seeded(5);
const grey = Uint8Array.from({ length: 28 * 28 }, () => Math.floor(rnd(0, 256)));
const image = join(dir, "shoe.png");
const rgb = new Uint8Array(28 * 28 * 3);
for (let p = 0; p < 28 * 28; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = grey[p];
writePng(image, { width: 28, height: 28, data: rgb });
const x = () =>
  tensor(
    Float32Array.from(grey, (v) => v / 255),
    [1, 1, 28, 28],
  );
const net = loadFashionCnn();
const model = (v: Parameters<typeof net.call>[0]) => net.call(v);

async function cliMap(method: string, extra: string[]): Promise<Float32Array> {
  const out = join(dir, `${method}-${extra.join("_").replace(/[^a-z0-9]/gi, "")}`);
  await runAttribute(
    [
      "--model",
      "fashion-cnn",
      "--image",
      image,
      "--method",
      method,
      "--target",
      "3",
      "--out",
      out,
      ...extra,
    ],
    () => {},
  );
  return Float32Array.from(decodeNpy(new Uint8Array(readFileSync(`${out}.npy`))).values);
}

function worst(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
  return w;
}

describe("CLI methods of the rule sets", () => {
  test("lrp --composite epsilon-plus --epsilon 0.01", async () => {
    const got = await cliMap("lrp", ["--composite", "epsilon-plus", "--epsilon", "0.01"]);
    const want = await lrp(model, x(), 3, { composite: "epsilon-plus", epsilon: 0.01 });
    expect(worst(got, await want.map.data())).toBeLessThan(1e-6);
  });

  test("deeplift --baseline white", async () => {
    const got = await cliMap("deeplift", ["--baseline", "white"]);
    const want = await deepLift(model, x(), 3, { baseline: "white" });
    expect(worst(got, await want.map.data())).toBeLessThan(1e-6);
  });

  test("deeplift-shap --baselines noise:2 --seed 4", async () => {
    const got = await cliMap("deeplift-shap", ["--baselines", "noise:2", "--seed", "4"]);
    const baselines = concat(
      [4, 5].map((seed) => makeBaseline({ kind: "uniform", seed }, x(), "test")),
      0,
    );
    const want = await deepLiftShap(model, x(), 3, { baselines });
    expect(worst(got, await want.map.data())).toBeLessThan(1e-6);
  });

  test("bad values are refused by name", async () => {
    await expect(cliMap("lrp", ["--composite", "plus"])).rejects.toThrow(/--composite/);
    await expect(cliMap("deeplift-shap", ["--baselines", "a.txt"])).rejects.toThrow(
      /--baselines must be image files A.png,B.png,... or noise:N, got "a.txt"/,
    );
  });
});

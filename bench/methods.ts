/**
 * Seconds per image of every method in the registry (`salient methods`) on the bundled
 * classifier (fashion-cnn, SmallCnn on 1 x 28 x 28 Fashion-MNIST), CPU backend, each method with
 * its CLI defaults, target = the predicted class. Run: npx esbuild bench/methods.ts --bundle --platform=node --format=esm
 * --outfile=dist/bench-methods.mjs --packages=external && node dist/bench-methods.mjs [--runs N]
 */
import { METHODS } from "../src/attribution/registry.ts";
import { loadFashionCnn } from "../src/models/classifiers/fashion-cnn.ts";
import { SmallCnn } from "../src/models/classifiers/small-cnn.ts";
import { loadFashionMnist } from "../src/models/data/fashion-mnist-node.ts";
import { tensor } from "../src/ops/creation.ts";

export async function runMethodsBench(
  runs: number,
): Promise<{ method: string; seconds: number }[]> {
  const net = loadFashionCnn();
  const model = (v: Parameters<typeof net.call>[0]) => net.call(v);
  const px = loadFashionMnist("test").images.subarray(0, 784);
  const x = tensor(
    Float32Array.from(px, (v) => v / 255),
    [1, 1, 28, 28],
  );
  const logits = Array.from(model(x).dataSync());
  const target = logits.indexOf(Math.max(...logits));
  const rows: { method: string; seconds: number }[] = [];
  for (const [name, entry] of Object.entries(METHODS)) {
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const res = await entry.run({
        model,
        x,
        target,
        opt: () => undefined,
        preset: null,
        module: net,
        layer: () => SmallCnn.gradCamLayer,
        readBaseline: () => {
          throw new Error("no baseline files in the bench");
        },
        batchSize: undefined,
        seed: 0,
      });
      await res.map.data();
      times.push((performance.now() - t0) / 1000);
      res.map.dispose();
    }
    times.sort((a, b) => a - b);
    rows.push({ method: name, seconds: times[Math.floor(times.length / 2)] });
  }
  return rows;
}

if (process.argv[1]?.endsWith("bench-methods.mjs")) {
  const i = process.argv.indexOf("--runs");
  const runs = i > 0 ? Number(process.argv[i + 1]) : 3;
  const rows = await runMethodsBench(runs);
  console.log(`| method | s / image (median of ${runs}, fashion-cnn 28x28, CPU) |`);
  console.log("|---|---|");
  for (const r of rows) console.log(`| ${r.method} | ${r.seconds.toFixed(4)} |`);
}

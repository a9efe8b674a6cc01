/**
 * Items per second of `salient batch` on the bundled classifier (fashion-cnn) for three methods
 * (gradient, integrated-gradients, smoothgrad with their CLI defaults) over N Fashion-MNIST test
 * images, against a shell loop that starts `salient attribute` once per image and method, and
 * the scaling from one to two batch processes (--shard 0/2 and 1/2 side by side). All rows run the
 * built CLI (dist/cli.js) as separate processes; wall-clock time.
 *
 *   bash scripts/ensure-apt.sh dataset-fashion-mnist && node scripts/build.mjs
 *   npx esbuild bench/batch.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=dist/bench-batch.mjs && node dist/bench-batch.mjs [--images 200] [--loop-images 40]
 *     [--cli dist/cli.js]
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadFashionMnist } from "../src/models/data/fashion-mnist-node.ts";
import { encodePng } from "../src/viz/image-io-node.ts";

const { values } = parseArgs({
  options: {
    images: { type: "string", default: "200" },
    "loop-images": { type: "string", default: "40" },
    /** The CLI to time (any build of src/cli/main.ts). */
    cli: { type: "string", default: join("dist", "cli.js") },
  },
});
const N = Number(values.images);
const LOOP = Math.min(N, Number(values["loop-images"]));
const METHODS = ["gradient", "integrated-gradients", "smoothgrad"];
const CLI = resolve(values.cli!);

function sh(args: string[], cwd: string): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("close", (code) => (code === 0 ? ok() : fail(new Error(`${args[0]}: ${err}`))));
  });
}

async function wall(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

const dir = mkdtempSync(join(tmpdir(), "salient-bench-batch-"));
try {
  const test = loadFashionMnist("test");
  mkdirSync(join(dir, "imgs"));
  for (let i = 0; i < N; i++) {
    const data = new Uint8Array(784 * 3);
    for (let p = 0; p < 784; p++) data.fill(test.images[i * 784 + p], p * 3, p * 3 + 3);
    writeFileSync(
      join(dir, "imgs", `t${String(i).padStart(5, "0")}.png`),
      encodePng({ width: 28, height: 28, data }),
    );
  }
  const batch = (out: string, extra: string[] = []) => [
    "batch",
    "--images",
    "imgs",
    "--model",
    "fashion-cnn",
    "--methods",
    METHODS.join(","),
    "--out",
    out,
    ...extra,
  ];
  const rows: { row: string; items: number; seconds: number }[] = [];
  const add = (row: string, items: number, seconds: number) => {
    rows.push({ row, items, seconds });
    console.log(
      `${row.padEnd(52)} ${String(items).padStart(5)} items ${seconds.toFixed(1).padStart(7)} s ${(items / seconds).toFixed(2).padStart(7)} items/s`,
    );
  };

  // The shell loop: one process per image and method, as a user without batch would do.
  const loopNames = Array.from({ length: LOOP }, (_, i) => `t${String(i).padStart(5, "0")}`);
  add(
    "shell loop over salient attribute (3 methods)",
    LOOP,
    await wall(async () => {
      for (const n of loopNames)
        for (const m of METHODS)
          await sh(
            [
              "attribute",
              "--model",
              "fashion-cnn",
              "--image",
              `imgs/${n}.png`,
              "--method",
              m,
              "--out",
              `loop/${n}-${m}`,
            ],
            dir,
          );
    }),
  );
  add(
    "salient batch, 1 process, no metrics",
    N,
    await wall(() => sh(batch("b1", ["--metrics", ""]), dir)),
  );
  add(
    "salient batch, 2 processes (--shard 0/2, 1/2), no metrics",
    N,
    await wall(() =>
      Promise.all([0, 1].map((i) => sh(batch("b2", ["--metrics", "", "--shard", `${i}/2`]), dir))),
    ),
  );
  add(
    "salient batch, 1 process, deletion+insertion+sparseness",
    N,
    await wall(() => sh(batch("b3"), dir)),
  );
  console.log(JSON.stringify({ images: N, loop_images: LOOP, methods: METHODS, rows }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

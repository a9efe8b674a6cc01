/**
 * The explorer's time from a click to the new window's LAM map, in headless Chromium: a bundled
 * RDN (UpscalerJS esrgan-slim x2) on an LR image cut from a bundled photo, on the worker's WebGPU
 * backend and on its CPU fallback (Chromium without WebGPU). Builds the page, serves it with the
 * `salient app` server, clicks a window on the SR output and reads the page's own click-to-map
 * time. On this machine WebGPU is SwiftShader (software): those numbers say nothing about a GPU.
 *   npx esbuild bench/app.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=dist/bench-app.mjs && node dist/bench-app.mjs [--fold 50] [--lr 64] [--runs 1]
 *     [--backends webgpu,cpu]
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { buildApp } from "../scripts/build-app.mjs";
import { appServer, installedUpscalers } from "../src/cli/app.ts";

const args = process.argv.slice(2);
const num = (flag: string, fallback: number) => {
  const at = args.indexOf(flag);
  if (at < 0) return fallback;
  const v = Number(args[at + 1]);
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`${flag} expects a positive integer`);
  return v;
};
const fold = num("--fold", 50);
const lr = num("--lr", 64);
const runs = num("--runs", 1);
const at = args.indexOf("--backends");
const backends = (at >= 0 ? args[at + 1] : "webgpu,cpu").split(",");
const scale = 2;
// The bundled photos are 128 x 128: a centred crop of lr * scale HR pixels gives an lr x lr input.
if (lr * scale > 128) throw new Error(`--lr ${lr}: the bundled photos give at most ${128 / scale}`);

const work = mkdtempSync(join(tmpdir(), "salient-bench-app-"));
const dir = await buildApp(join(work, "app"));
const server = appServer(dir, installedUpscalers(["esrgan-slim"]));
await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), "xdg-"));

/** Clicks at a fraction (fx, fy) of the SR output and waits for the map; returns the page's time. */
async function clickToMap(page: Page, fx: number, fy: number): Promise<number> {
  const box = await page.locator('.view[data-slot="a"] canvas.sr').boundingBox();
  if (!box) throw new Error("no SR output on the page");
  await page.mouse.click(box.x + fx * box.width, box.y + fy * box.height);
  await page.waitForSelector('.view[data-slot="a"][data-state="done"]', { timeout: 3_600_000 });
  const s = await page.locator('.view[data-slot="a"]').getAttribute("data-seconds");
  return Number(s);
}

const rows: string[] = [];
for (const backend of backends) {
  const context = await chromium.launchPersistentContext(join(work, `profile-${backend}`), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless=new",
      "--no-sandbox",
      "--no-first-run",
      backend === "webgpu" ? "--enable-unsafe-webgpu" : "--disable-webgpu",
    ],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(
      `${base}?model=esrgan-slim&scale=${scale}&image=astronaut&crop=${lr * scale}&fold=${fold}&backend=${backend}`,
    );
    await page.waitForSelector('.view[data-slot="a"][data-state="ready"]', { timeout: 600_000 });
    const adapter = await page.locator("#backend").textContent();
    const times: number[] = [];
    for (let r = 0; r < runs; r++) times.push(await clickToMap(page, 0.3 + 0.1 * r, 0.4));
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    rows.push(
      `| ${backend} | ${adapter} | esrgan-slim x2, ${lr}x${lr} LR | ${fold} | ${median.toFixed(2)} s |`,
    );
    console.log(rows[rows.length - 1]);
  } finally {
    await context.close();
  }
}
server.close();
rmSync(work, { recursive: true, force: true });
console.log(
  "\n| backend | adapter | model, input | fold | click to map (median) |\n|---|---|---|---|---|",
);
for (const r of rows) console.log(r);

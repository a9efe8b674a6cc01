// Screenshots of the explorer for the README: builds the page, starts `salient app` from the
// sources, and has headless Chromium (WebGPU on SwiftShader) capture each mode once its maps are
// computed. Writes docs/img/app-lam.png and docs/img/app-classify.png.
//   node scripts/app-screenshots.mjs
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { buildApp } from "./build-app.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const work = mkdtempSync(join(tmpdir(), "salient-shots-"));
await buildApp(join(work, "app"));
// The bundle resolves its packages from the repository's node_modules.
const cli = join(root, ".cache", "shots-cli.mjs");
await build({
  entryPoints: [join(root, "src/cli/main.ts")],
  outfile: cli,
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  logLevel: "warning",
});
const server = spawn(process.execPath, [cli, "app", "--port", "0"], {
  env: { ...process.env, SALIENT_APP_DIR: join(work, "app") },
  stdio: ["ignore", "pipe", "inherit"],
});
const base = await new Promise((ok, fail) => {
  server.stdout.on("data", (d) => {
    const m = /serving the explorer on (\S+)/.exec(String(d));
    if (m) ok(m[1]);
  });
  server.on("exit", (code) => fail(new Error(`salient app exited with ${code}`)));
});

process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), "xdg-"));
const context = await chromium.launchPersistentContext(join(work, "profile"), {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: ["--headless=new", "--enable-unsafe-webgpu", "--no-sandbox", "--no-first-run"],
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${base}?model=fsrcnn-x2&compare=bicubic&image=chelsea&window=60,40,16&fold=20`);
  await page.waitForSelector('.view[data-slot="b"][data-state="done"]', { timeout: 300000 });
  await page.screenshot({ path: join(root, "docs/img/app-lam.png"), fullPage: true });

  await page.goto(
    `${base}?mode=classify&model=fashion-cnn&image=test-0&method=integrated-gradients&target=9`,
  );
  await page.waitForSelector('#c-result .map-card[data-method="integrated-gradients"]', {
    timeout: 300000,
  });
  await page.uncheck("#c-curves");
  await page.click("#c-gallery-run");
  await page.waitForFunction(
    () => document.querySelectorAll("#c-gallery .map-card").length === 4,
    null,
    {
      timeout: 300000,
    },
  );
  await page.screenshot({ path: join(root, "docs/img/app-classify.png"), fullPage: true });
  console.log("app-screenshots: wrote docs/img/app-lam.png and docs/img/app-classify.png");
} finally {
  await context.close();
  server.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
}

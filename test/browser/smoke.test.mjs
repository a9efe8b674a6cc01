// Browser smoke test: serves the esbuild bundle of page.ts on localhost, opens it in headless
// Chromium (WebGPU on SwiftShader) through playwright-core, and checks the gradient it computed
// against closed forms evaluated here in float64. Prints "browser: N passed, N failed".

import { mkdtempSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const dir = process.argv[2];
const { smokeInputs } = await import(join(dir, "smoke-inputs.mjs"));

/** f = sum_o c[o] (conv(x, w))[o] + sum x^2 on an n x n plane, 3x3 kernel, zero padding 1. */
function closedForms(x, w, c, n) {
  const at = (a, i, j) => (i >= 0 && i < n && j >= 0 && j < n ? a[i * n + j] : 0);
  let value = 0;
  const gx = new Float64Array(n * n);
  const gw = new Float64Array(9);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let y = 0;
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++) y += w[a * 3 + b] * at(x, i + a - 1, j + b - 1);
      value += c[i * n + j] * y + x[i * n + j] ** 2;
      // d/dx[p]: every output o = p - (a-1, b-1) in range sees x[p] through tap (a, b).
      let g = 2 * x[i * n + j];
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++) g += w[a * 3 + b] * at(c, i - a + 1, j - b + 1);
      gx[i * n + j] = g;
    }
  }
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      let g = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) g += c[i * n + j] * at(x, i + a - 1, j + b - 1);
      gw[a * 3 + b] = g;
    }
  }
  return { value: [value], gx, gw };
}

const server = createServer(async (req, res) => {
  const name = req.url === "/" ? "index.html" : req.url.slice(1);
  try {
    const body = await readFile(join(dir, name));
    res.writeHead(200, { "content-type": name.endsWith(".js") ? "text/javascript" : "text/html" });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/`;

let passed = 0;
let failed = 0;
const check = (name, ok, detail) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
  if (ok) passed++;
  else failed++;
};

// A fresh profile per run; playwright wants it as launchPersistentContext's first argument.
const context = await chromium.launchPersistentContext(
  mkdtempSync(join(tmpdir(), "salient-chromium-")),
  {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless=new",
      "--enable-unsafe-webgpu",
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  },
);
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => console.log(`[page] ${m.text()}`));
  page.on("pageerror", (e) => console.log(`[page error] ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.smokeResult !== undefined, null, { timeout: 120000 });
  const result = await page.evaluate(() => window.smokeResult);
  // One run per conv/matmul variant (register tiles, workgroup-memory tiles).
  const runs = Array.isArray(result) ? result : [result];
  for (const r of runs) {
    check(
      "the page computed on WebGPU",
      !r.error && r.backend === "webgpu",
      r.error ?? `${r.adapter}, ${r.tiling} tiles`,
    );
    if (r.error) continue;
    const { x, w, c, n } = smokeInputs();
    const want = closedForms(x, w, c, n);
    for (const key of ["value", "gx", "gw"]) {
      const got = r[key];
      let worst = 0;
      for (let i = 0; i < want[key].length; i++) {
        const err = Math.abs(got[i] - want[key][i]) / (1e-4 + Math.abs(want[key][i]));
        worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
      }
      check(
        `${r.tiling} tiles: ${key} matches its closed form`,
        got.length === want[key].length && worst < 1e-4,
        `max relative error ${worst.toExponential(2)}`,
      );
    }
  }
} finally {
  await context.close();
  server.close();
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

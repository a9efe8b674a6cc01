// The explorer end to end: starts `salient app` (the CLI bundle given as argv[2], serving the app
// folder in SALIENT_APP_DIR), opens it in headless Chromium (WebGPU on SwiftShader) through
// playwright-core and checks what the page computes against the library run in Node here
// (app-reference.mjs, the CLI's own code paths) and against PyTorch's gradient of a tiny ONNX
// classifier. Then the same LAM link in a Chromium without WebGPU (the worker falls back to the
// CPU). Prints "app: N passed, N failed".
//   node test/browser/app.test.mjs CLI.mjs REFERENCE.mjs
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const [cli, referencePath] = process.argv.slice(2).map((p) => resolve(p));
const ref = await import(referencePath);
const FIX = resolve("test/fixtures/attribution");
const tinyRef = JSON.parse(readFileSync(join(FIX, "tiny-reference.json"), "utf8"));

let passed = 0;
let failed = 0;
const check = (name, ok, detail) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
  if (ok) passed++;
  else failed++;
};
const maxRelDiff = (got, want) => {
  const scale = Math.max(...want.map(Math.abs), 1e-12);
  if (!got || got.length !== want.length) return Infinity;
  return Math.max(...want.map((w, i) => Math.abs(got[i] - w) / scale));
};

// ---- `salient app --port 0`: the URL is in its first line ----
const server = spawn(process.execPath, [cli, "app", "--port", "0"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const base = await new Promise((ok, fail) => {
  let text = "";
  server.stdout.on("data", (d) => {
    text += d;
    const m = /serving the explorer on (\S+)/.exec(text);
    if (m) ok(m[1]);
  });
  server.on("exit", (code) => fail(new Error(`salient app exited with ${code}: ${text}`)));
  setTimeout(() => fail(new Error(`salient app printed no URL in 20 s: ${text}`)), 20000);
});

const FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), "xdg-"));

async function browser(webgpu) {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "salient-app-")), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: webgpu ? [...FLAGS, "--enable-unsafe-webgpu"] : [...FLAGS, "--disable-webgpu"],
  });
}

/** A page that records uncaught errors and console errors (the tests require none). */
async function openPage(context, query) {
  for (const old of context.pages()) await old.close();
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") page.errors.push(m.text());
  });
  await page.goto(`${base}${query}`);
  return page;
}

/** Drops files on the page's drop zone, as a user dragging them from a file manager does. */
async function dropFiles(page, paths) {
  const files = paths.map((p) => ({
    name: p.split("/").pop(),
    type: p.endsWith(".png") ? "image/png" : "",
    base64: readFileSync(p).toString("base64"),
  }));
  await page.evaluate((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    document
      .querySelector("#drop")
      .dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
}

/** Waits for view `slot` to finish a run whose DI differs from `before` (a rerun's result). */
async function nextLamResult(page, before, slot = "a", timeout = 60000) {
  await page.waitForFunction(
    ([slot, before]) => {
      const v = document.querySelector(`.view[data-slot="${slot}"]`);
      return v?.dataset.state === "done" && v.querySelector(".di")?.dataset.di !== before;
    },
    [slot, String(before)],
    { timeout },
  );
  return lamResult(page, slot);
}

/**
 * Presses the mouse on the SR output of view `slot` at SR pixel `from`, drags it to `to` in a few
 * moves and releases there, as a user does (coordinates in SR pixels).
 */
async function dragWindow(page, from, to, slot = "a") {
  const canvas = page.locator(`.view[data-slot="${slot}"] canvas.sr`);
  const box = await canvas.boundingBox();
  const [w, h] = await canvas.evaluate((c) => [c.width, c.height]);
  const at = ([x, y]) => [box.x + (x / w) * box.width, box.y + (y / h) * box.height];
  await page.mouse.move(...at(from));
  await page.mouse.down();
  for (let k = 1; k <= 4; k++) {
    const p = [from[0] + ((to[0] - from[0]) * k) / 4, from[1] + ((to[1] - from[1]) * k) / 4];
    await page.mouse.move(...at(p));
  }
  await page.mouse.up();
}

const LAM_WINDOW = { x: 48, y: 48, size: 16 };
const LAM_QUERY = "?model=bicubic&image=astronaut&window=48,48,16&fold=10";

/** Waits for view `slot` to finish and returns its DI (full precision) and text. */
async function lamResult(page, slot = "a", timeout = 90000) {
  const view = page.locator(`.view[data-slot="${slot}"]`);
  await page.waitForSelector(`.view[data-slot="${slot}"][data-state="done"]`, { timeout });
  const di = page.locator(`.view[data-slot="${slot}"] .di`);
  return { value: Number(await di.getAttribute("data-di")), text: await di.textContent(), view };
}

async function checkLamLink(page, label, wantBackend) {
  const want = await ref.lamReference({
    model: "bicubic",
    scale: 4,
    photo: "astronaut",
    window: LAM_WINDOW,
    fold: 10,
  });
  try {
    const r = await lamResult(page);
    const backend = await page.locator("#backend").getAttribute("data-backend");
    check(
      `${label}: the worker computes on ${wantBackend}`,
      backend === wantBackend,
      await page.locator("#backend").textContent(),
    );
    check(
      `${label}: bicubic x4 LAM on astronaut, DI equals the CLI's to 1e-3`,
      Math.abs(r.value - want) < 1e-3,
      `page ${r.value}, CLI ${want}`,
    );
    check(
      `${label}: the page shows "DI" with two decimals`,
      r.text === `DI ${want.toFixed(2)}`,
      r.text,
    );
    const panels = await page.locator('.view[data-slot="a"] .panel canvas').count();
    check(`${label}: the four LAM panels are drawn`, panels === 4, `${panels} panels`);
  } catch (e) {
    check(
      `${label}: LAM link finishes`,
      false,
      `${e.message}; page errors: ${page.errors.join("; ")}`,
    );
  }
}

let context = await browser(true);
try {
  // ---- LAM mode on WebGPU: a link, the second model side by side ----
  let page = await openPage(context, LAM_QUERY);
  await checkLamLink(page, "WebGPU", "webgpu");

  page = await openPage(
    context,
    "?model=fsrcnn-x2&compare=bicubic&image=chelsea&crop=64&window=20,24,12&fold=6",
  );
  try {
    const a = await lamResult(page, "a");
    const b = await lamResult(page, "b");
    const wa = await ref.lamReference({
      model: "fsrcnn-x2",
      scale: 2,
      photo: "chelsea",
      crop: 64,
      window: { x: 20, y: 24, size: 12 },
      fold: 6,
    });
    const wb = await ref.lamReference({
      model: "bicubic",
      scale: 2,
      photo: "chelsea",
      crop: 64,
      window: { x: 20, y: 24, size: 12 },
      fold: 6,
    });
    check(
      "side by side: fsrcnn-x2 DI equals the CLI's to 1e-3",
      Math.abs(a.value - wa) < 1e-3,
      `page ${a.value}, CLI ${wa}`,
    );
    check(
      "side by side: bicubic x2 DI equals the CLI's to 1e-3",
      Math.abs(b.value - wb) < 1e-3,
      `page ${b.value}, CLI ${wb}`,
    );
  } catch (e) {
    check("side by side: both views finish", false, `${e.message}; ${page.errors.join("; ")}`);
  }

  // ---- An UpscalerJS model the server publishes from node_modules ----
  page = await openPage(
    context,
    "?model=esrgan-slim&image=astronaut&scale=2&crop=32&window=8,8,8&fold=3",
  );
  try {
    const r = await lamResult(page);
    const want = await ref.lamReference({
      model: "esrgan-slim",
      scale: 2,
      photo: "astronaut",
      crop: 32,
      window: { x: 8, y: 8, size: 8 },
      fold: 3,
    });
    check(
      "esrgan-slim x2 (UpscalerJS) DI equals the CLI's to 1e-3",
      Math.abs(r.value - want) < 1e-3,
      `page ${r.value}, CLI ${want}`,
    );
  } catch (e) {
    check(
      "esrgan-slim x2 (UpscalerJS) LAM finishes",
      false,
      `${e.message}; ${page.errors.join("; ")}`,
    );
  }

  // ---- Cancel mid-run, then the page still computes ----
  page = await openPage(context, "?model=bicubic&image=coffee&window=40,40,16&fold=100000&batch=1");
  try {
    await page.waitForFunction(
      () => (document.querySelector(".lam-progress")?.value ?? 0) > 0,
      null,
      { timeout: 60000 },
    );
    await page.click("#cancel");
    await page.waitForSelector('.view[data-slot="a"][data-state="ready"]', { timeout: 30000 });
    await page.fill("#fold", "5");
    await page.dispatchEvent("#fold", "change");
    await page.click("#rerun");
    const r = await lamResult(page);
    const want = await ref.lamReference({
      model: "bicubic",
      scale: 4,
      photo: "coffee",
      window: { x: 40, y: 40, size: 16 },
      fold: 5,
    });
    check(
      "cancel mid-run: the page runs LAM again and gets the CLI's DI",
      Math.abs(r.value - want) < 1e-3,
      `page ${r.value}, CLI ${want}`,
    );
    check("cancel mid-run: the URL keeps the new fold", page.url().includes("fold=5"), page.url());
  } catch (e) {
    check(
      "cancel mid-run leaves the page usable",
      false,
      `${e.message}; ${page.errors.join("; ")}`,
    );
  }

  // ---- A model that is not image-to-image: a message in the page, no console error ----
  page = await openPage(context, "?model=bicubic&image=astronaut");
  try {
    await page.waitForSelector('.view[data-slot="a"][data-state="ready"]', { timeout: 30000 });
    await dropFiles(page, [join(FIX, "tiny-cnn.onnx")]);
    await page.waitForSelector("#message.error:not([hidden])", { timeout: 30000 });
    const text = await page.locator("#message").textContent();
    check(
      "a classifier dropped in LAM mode gets a clear message",
      /is not an image-to-image super-resolution model/.test(text) &&
        text.includes("tiny-cnn.onnx"),
      text,
    );
    check(
      "... and no console error or uncaught exception",
      page.errors.length === 0,
      page.errors.join("; "),
    );
  } catch (e) {
    check(
      "a classifier dropped in LAM mode gets a clear message",
      false,
      `${e.message}; ${page.errors.join("; ")}`,
    );
  }

  // ---- Dropped models (a tfjs layers folder; a weights file for a chosen architecture), a
  // dragged window, the sigma and path settings: each DI against the CLI's code run here ----
  const dropped = mkdtempSync(join(tmpdir(), "salient-app-models-"));
  const tiny = join(dropped, "tiny-sr");
  ref.writeTinyTfjsSr(tiny);
  ref.writeArchWeights("fsrcnn", 2, join(dropped, "fsrcnn-random.safetensors"));
  const small = { model: "", scale: 2, photo: "chelsea", crop: 32, fold: 4 };
  const lamState = (model) =>
    page.waitForFunction(
      (model) =>
        document.querySelector('.view[data-slot="a"]')?.dataset.state === "ready" &&
        document.querySelector("#model").value === model,
      model,
      { timeout: 30000 },
    );
  page = await openPage(context, "?model=bicubic&image=chelsea&scale=2&crop=32&fold=4");
  try {
    await lamState("bicubic");
    await page.fill("#win-size", "8");
    await page.dispatchEvent("#win-size", "change");
    await dropFiles(page, [join(tiny, "model.json"), join(tiny, "group1-shard1of1.bin")]);
    await lamState("dropped/model.json");
    // Pressed at SR pixel (5.25, 5.25), released at (20.25, 12.25): the 8-pixel window centred on
    // the release point starts at round(20.25 - 4), round(12.25 - 4) = (16, 8); the press
    // point's window would start at (1, 1).
    await dragWindow(page, [5.25, 5.25], [20.25, 12.25]);
    const window = { x: 16, y: 8, size: 8 };
    const r = await lamResult(page);
    const want = await ref.lamReference({ ...small, tfjsDir: tiny, window });
    check(
      "a dropped tfjs folder (model.json + shard), window dragged: DI equals the library's",
      Math.abs(r.value - want) < 1e-3,
      `page ${r.value}, library ${want}`,
    );
    check(
      "a dragged window is where the mouse was released",
      page.url().includes("window=16,8,8"),
      page.url(),
    );

    await page.fill("#sigma", "3");
    await page.dispatchEvent("#sigma", "change");
    await page.click("#rerun");
    const s3 = await nextLamResult(page, r.value);
    const want3 = await ref.lamReference({ ...small, tfjsDir: tiny, window, sigma: 3 });
    check(
      "sigma 3: DI equals the library's with sigma 3",
      Math.abs(s3.value - want3) < 1e-3 && Math.abs(want3 - want) > 1e-2,
      `page ${s3.value}, library ${want3} (with sigma 1.2: ${want})`,
    );
    await page.selectOption("#path", "linear-black");
    await page.click("#rerun");
    const lb = await nextLamResult(page, s3.value);
    const wantLb = await ref.lamReference({
      ...small,
      tfjsDir: tiny,
      window,
      sigma: 3,
      path: "linear-black",
    });
    check(
      "path linear-black: DI equals the library's on that path",
      Math.abs(lb.value - wantLb) < 1e-3 && Math.abs(wantLb - want3) > 1e-2,
      `page ${lb.value}, library ${wantLb} (blur path: ${want3})`,
    );
    check(
      "the URL keeps sigma and path",
      page.url().includes("sigma=3") && page.url().includes("path=linear-black"),
      page.url(),
    );

    await page.selectOption("#arch", "fsrcnn");
    await dropFiles(page, [join(dropped, "fsrcnn-random.safetensors")]);
    await lamState("fsrcnn-random.safetensors");
    await dragWindow(page, [20.25, 12.25], [20.25, 12.25]);
    const f = await lamResult(page);
    const wantF = await ref.lamReference({
      ...small,
      model: join(dropped, "fsrcnn-random.safetensors"),
      arch: "fsrcnn",
      window,
      sigma: 3,
      path: "linear-black",
    });
    check(
      "a dropped weights file, architecture fsrcnn (one channel, run on Y): DI equals the CLI's",
      Math.abs(f.value - wantF) < 1e-3,
      `page ${f.value}, CLI ${wantF}`,
    );
  } catch (e) {
    check(
      "dropped models, a dragged window, sigma and path",
      false,
      `${e.message}; ${page.errors.join("; ")}`,
    );
  }

  // ---- Classifier mode: two registry methods against the library's maps ----
  page = await openPage(
    context,
    "?mode=classify&model=fashion-cnn&image=test-0&method=saliency&target=9",
  );
  for (const method of ["saliency", "integrated-gradients"]) {
    try {
      if (method !== "saliency") {
        await page.selectOption("#c-method", method);
        await page.click("#c-run");
        await page.waitForSelector(`#c-result .map-card[data-method="${method}"]`, {
          timeout: 60000,
        });
      }
      await page.waitForSelector(`#c-result .map-card[data-method="${method}"]`, {
        timeout: 60000,
      });
      const got = await page.evaluate(() =>
        Array.from(document.querySelector("#c-result .map-card").mapValues),
      );
      const want = await ref.classifierReference(method, "test-0", 9);
      const d = maxRelDiff(got, want);
      check(
        `classifier: ${method} on fashion-cnn (class 9) equals the library's map`,
        d < 1e-4,
        `max diff ${d.toExponential(2)} of the map's max`,
      );
    } catch (e) {
      check(`classifier: ${method} map`, false, `${e.message}; ${page.errors.join("; ")}`);
    }
  }
  try {
    // The method's options are inputs filled with the registry's defaults; a changed one reaches
    // the method: integrated gradients with 8 steps instead of 50.
    await page.selectOption("#c-method", "integrated-gradients");
    const defaults = await page.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll("#c-params input")].map((i) => [i.name, i.value]),
      ),
    );
    check(
      "classifier: option inputs start at the registry's defaults",
      defaults.steps === "50" &&
        defaults.quadrature === "gausslegendre" &&
        defaults.baseline === "black",
      JSON.stringify(defaults),
    );
    await page.fill('#c-params input[name="steps"]', "8");
    // Marks the 50-step card so the wait below sees the new one.
    await page.evaluate(() => {
      for (const c of document.querySelectorAll("#c-result .map-card")) c.dataset.old = "1";
    });
    await page.click("#c-run");
    await page.waitForSelector(
      '#c-result .map-card[data-method="integrated-gradients"]:not([data-old])',
      { timeout: 60000 },
    );
    const got = await page.evaluate(() =>
      Array.from(document.querySelector("#c-result .map-card:not([data-old])").mapValues),
    );
    const want = await ref.classifierReference("integrated-gradients", "test-0", 9, {
      steps: "8",
    });
    const want50 = await ref.classifierReference("integrated-gradients", "test-0", 9);
    const d = maxRelDiff(got, want);
    check(
      "classifier: integrated-gradients with steps 8 equals the library's 8-step map",
      d < 1e-4 && maxRelDiff(want50, want) > 1e-4,
      `max diff ${d.toExponential(2)}; 8 vs 50 steps differ by ${maxRelDiff(want50, want).toExponential(2)}`,
    );
  } catch (e) {
    check("classifier: a changed method option", false, `${e.message}; ${page.errors.join("; ")}`);
  }
  try {
    await page.fill('#c-params input[name="quadrature"]', "simpson");
    await page.click("#c-run");
    await page.waitForSelector("#message.error:not([hidden])", { timeout: 30000 });
    const text = await page.locator("#message").textContent();
    check(
      "classifier: a bad option value gets the registry's message",
      text.includes("--quadrature must be one of") && text.includes('got "simpson"'),
      text,
    );
    await page.fill('#c-params input[name="quadrature"]', "gausslegendre");
  } catch (e) {
    check("classifier: a bad option value", false, `${e.message}; ${page.errors.join("; ")}`);
  }
  try {
    const curves = await page.locator("#c-result .curves polyline").count();
    check(
      "classifier: deletion and insertion curves are plotted",
      curves === 2,
      `${curves} curves`,
    );
    const target = await page.locator("#c-target option:checked").textContent();
    check("classifier: the target is shown by class name", /^9: Ankle boot/.test(target), target);
  } catch (e) {
    check("classifier: curves and class names", false, e.message);
  }

  // ---- A dropped ONNX classifier against PyTorch's gradient ----
  page = await openPage(context, "?mode=classify");
  try {
    await page.waitForFunction(() => document.body.dataset.classify === "ready", null, {
      timeout: 30000,
    });
    await dropFiles(page, [join(FIX, "tiny-cnn.onnx"), join(FIX, "tiny-input.png")]);
    await page.waitForFunction(
      () =>
        document.body.dataset.classify === "ready" &&
        document.querySelector("#c-model").value === "tiny-cnn.onnx",
      null,
      { timeout: 30000 },
    );
    await page.selectOption("#c-target", String(tinyRef.target));
    await page.selectOption("#c-method", "gradient");
    await page.click("#c-run");
    await page.waitForSelector('#c-result .map-card[data-method="gradient"]', { timeout: 30000 });
    const got = await page.evaluate(() =>
      Array.from(document.querySelector("#c-result .map-card").mapValues),
    );
    // PyTorch's input gradient [1, 3, 8, 8], summed over channels.
    const want = Array.from(
      { length: 64 },
      (_, p) => tinyRef.gradient[p] + tinyRef.gradient[64 + p] + tinyRef.gradient[128 + p],
    );
    const d = maxRelDiff(got, want);
    check(
      "a dropped ONNX classifier: its gradient map equals PyTorch's",
      d < 1e-4,
      `max diff ${d.toExponential(2)} of the map's max`,
    );
  } catch (e) {
    const seen = await page.evaluate(() =>
      JSON.stringify({
        state: document.body.dataset.classify,
        model: document.querySelector("#c-model")?.value,
        message: document.querySelector("#message")?.textContent,
      }),
    );
    check(
      "a dropped ONNX classifier",
      false,
      `${e.message}; page: ${seen}; ${page.errors.join("; ")}`,
    );
  }
} finally {
  await context.close();
}

// ---- Without WebGPU: the worker falls back to the CPU ----
context = await browser(false);
try {
  const page = await openPage(context, LAM_QUERY);
  await checkLamLink(page, "no WebGPU", "cpu");
} finally {
  await context.close();
  server.kill("SIGTERM");
}
console.log(`app: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

// Runs the browser example in headless Chromium and checks it:
//   node examples/browser/run-in-chromium.mjs [project-dir]
// project-dir is either this repository (then "salient" and "salient/webgpu" bundle from src/) or
// a project that installed the salient package (then they resolve from its node_modules, through
// the package's exports map). esbuild bundles main.ts into a temp folder with index.html and a
// Fashion-MNIST image from the package's assets; a local HTTP server serves it; Chromium (the
// Debian package, WebGPU on SwiftShader) opens it through playwright-core. Passes when WebGPU and
// the CPU agree on the top class and the integrated-gradients map (max |diff| < 1e-4). Prints one
// line and exits 0 or 1. Needs /usr/bin/chromium (bash scripts/ensure-apt.sh chromium).
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const project = resolve(process.argv[2] ?? join(HERE, "..", ".."));
const TOLERANCE = 1e-4;

function finish(ok, message) {
  console.log(`browser example: ${ok ? "ok" : "FAILED"}: ${message}`);
  process.exit(ok ? 0 : 1);
}

function packageName(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name;
  } catch {
    return undefined;
  }
}

// In the repository itself "salient" means its sources; elsewhere, the installed package.
const inRepo = packageName(project) === "salient";
const packageRoot = inRepo ? project : join(project, "node_modules", "salient");
if (!existsSync(join(packageRoot, "package.json"))) {
  finish(false, `${project} has no node_modules/salient (install the package there first)`);
}
const image = join(packageRoot, "assets", "fashion-mnist", "test-0.png");
if (!existsSync(image)) finish(false, `the package ships no ${image}`);
if (!existsSync("/usr/bin/chromium")) {
  finish(false, "no /usr/bin/chromium (run: bash scripts/ensure-apt.sh chromium)");
}

/** Maps "salient" and "salient/<entry>" to the repository's src/<entry>.ts. */
const repoSources = {
  name: "salient-sources",
  setup(b) {
    b.onResolve({ filter: /^salient(\/[\w-]+)?$/ }, (args) => ({
      path: join(project, "src", `${args.path === "salient" ? "index" : args.path.slice(8)}.ts`),
    }));
  },
};

const out = mkdtempSync(join(tmpdir(), "salient-browser-example-"));
try {
  await build({
    stdin: {
      contents: readFileSync(join(HERE, "main.ts"), "utf8"),
      loader: "ts",
      // Bare imports resolve from the project, as they would for its own code.
      resolveDir: project,
      sourcefile: "main.ts",
    },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outfile: join(out, "main.js"),
    logLevel: "warning",
    plugins: inRepo ? [repoSources] : [],
  });
} catch (e) {
  finish(false, `esbuild could not bundle main.ts against ${packageRoot}: ${e.message}`);
}
copyFileSync(join(HERE, "index.html"), join(out, "index.html"));
copyFileSync(image, join(out, "fashion-mnist.png"));

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".png": "image/png" };
const server = createServer(async (req, res) => {
  const name = req.url === "/" ? "index.html" : req.url.slice(1);
  try {
    const body = await readFile(join(out, name));
    res.writeHead(200, { "content-type": TYPES[name.slice(name.lastIndexOf("."))] ?? "" });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));

process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), "xdg-"));
const profile = mkdtempSync(join(tmpdir(), "salient-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
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
});
let result;
const pageErrors = [];
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(
    () => document.title.startsWith("done") || document.title === "failed",
    null,
    {
      timeout: 180_000,
    },
  );
  result = JSON.parse(await page.locator("#result").textContent());
} catch (e) {
  result = {
    error: `${e.message}${pageErrors.length ? ` (page errors: ${pageErrors.join("; ")})` : ""}`,
  };
} finally {
  await context.close();
  server.close();
  rmSync(out, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
}

if (result.error) finish(false, result.error);
const problems = [];
if (result.backend !== "webgpu") problems.push(`ran on ${result.backend}, not webgpu`);
if (!result.sharedDevice) problems.push("the backend did not use the page's own GPUDevice");
if (result.topClassGpu !== result.topClassCpu) {
  problems.push(`top class ${result.topClassGpu} on WebGPU but ${result.topClassCpu} on the CPU`);
}
if (!(result.maxAbsDiff < TOLERANCE)) {
  problems.push(
    `WebGPU and CPU maps differ by up to ${result.maxAbsDiff} (tolerance ${TOLERANCE})`,
  );
}
if (!(result.logitsMaxAbsDiff < TOLERANCE))
  problems.push(`logits differ by ${result.logitsMaxAbsDiff}`);
if (!(result.maxAbsMap > 0)) problems.push("the attribution map is all zeros");
if (JSON.stringify(result.canvas) !== "[28,28]")
  problems.push(`the overlay canvas is ${result.canvas}`);
finish(
  problems.length === 0,
  problems.length
    ? problems.join("; ")
    : `${inRepo ? "repo sources" : "installed package"}, "${result.label}" (class ${result.topClassGpu}) on WebGPU and CPU, integrated gradients max |diff| ${result.maxAbsDiff.toExponential(2)} (map max ${result.maxAbsMap.toExponential(2)}), logits max |diff| ${result.logitsMaxAbsDiff.toExponential(2)}, ${result.adapter}`,
);

// Builds the explorer (`salient app`) into a folder: esbuild bundles web/app/main.ts (the page)
// and web/app/worker.ts (the worker that computes) against the library's sources, and the page,
// its style sheet, the bundled photos and Fashion-MNIST images are copied next to them, with a
// catalogue.json naming the photos. UpscalerJS models are not copied here: `salient app` serves
// them from node_modules and `salient app --build` copies the ones asked for.
//   node scripts/build-app.mjs [OUT]   (default dist/app)
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export async function buildApp(out = join(root, "dist", "app")) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: {
      main: join(root, "web/app/main.ts"),
      worker: join(root, "web/app/worker.ts"),
    },
    outdir: out,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: false,
    logLevel: "warning",
  });
  for (const f of ["index.html", "style.css"]) copyFileSync(join(root, "web/app", f), join(out, f));
  const photos = [];
  mkdirSync(join(out, "photos"));
  for (const f of readdirSync(join(root, "assets/photos"))) {
    if (!f.endsWith(".png")) continue;
    copyFileSync(join(root, "assets/photos", f), join(out, "photos", f));
    photos.push(f.slice(0, -4));
  }
  mkdirSync(join(out, "fashion-mnist"));
  for (const f of readdirSync(join(root, "assets/fashion-mnist")))
    if (/^test-\d+\.png$/.test(f))
      copyFileSync(join(root, "assets/fashion-mnist", f), join(out, "fashion-mnist", f));
  writeFileSync(join(out, "catalogue.json"), JSON.stringify({ photos, upscaler: [] }));
  return out;
}

// Run as a script (not when imported, nor when bundled into another program such as a bench).
const self = fileURLToPath(import.meta.url);
if (self.endsWith("build-app.mjs") && process.argv[1] && resolve(process.argv[1]) === self) {
  const out = await buildApp(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`build-app: wrote ${out}`);
}

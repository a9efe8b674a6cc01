// Builds the package into dist/:
// - the library, one ES module per source file with its .d.ts (tsc, tsconfig.build.json), for the
//   entries "salient" (index), "salient/node" and "salient/webgpu". Per-file modules let bundlers
//   drop what an app does not import ("sideEffects": false in package.json);
// - the CLI, dist/cli.js (esbuild), which imports the library modules above rather than bundling
//   second copies of them (and of the weights they inline).
// It builds into a fresh folder and swaps it in at the end, so dist/ is never half written.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const out = join(root, `dist.build-${process.pid}`);
rmSync(out, { recursive: true, force: true });

// tsc exits 1 on a type error anywhere in the program but still writes every file; `npm run
// typecheck` is the check of record, so the build reports the errors and goes on, unless
// SALIENT_BUILD_STRICT=1 (scripts/test-package.sh packs that way: a release must type-check).
const strict = process.env.SALIENT_BUILD_STRICT === "1";
try {
  execFileSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", out],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
  );
} catch (e) {
  if (strict || !existsSync(join(out, "index.js"))) {
    console.error(`build: tsc failed:\n${e.stdout}`);
    rmSync(out, { recursive: true, force: true });
    throw e;
  }
  console.warn(`build: tsc reported errors (files written anyway):\n${e.stdout}`);
}

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

for (const path of files(out)) {
  if (!path.endsWith(".d.ts")) continue;
  let text = readFileSync(path, "utf8");
  // tsc keeps ".ts" in declaration files' relative imports; consumers resolve the .js names.
  text = text.replace(/((?:from |import\()\s*["']\.{1,2}\/[^"']*?)\.ts(["'])/g, "$1.js$2");
  // A const initialised with a string literal is declared with that literal as its type: the
  // bundled weights would land in the .d.ts a second time.
  text = text.replace(/(declare const \w+)\s*=\s*"[^"]{200,}";/g, "$1: string;");
  // The public types name WebGPU's GPU* interfaces (Backend, the WebGPU backend).
  if (relative(out, path) === "kernels/backend.d.ts")
    text = `/// <reference types="@webgpu/types" />\n${text}`;
  writeFileSync(path, text);
}

/** Imports of modules the library build emitted stay imports of those modules. */
const useLibrary = {
  name: "use-library",
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!args.importer.startsWith(src)) return undefined;
      const target = resolve(dirname(args.importer), args.path);
      if (!target.endsWith(".ts")) return undefined;
      const emitted = relative(src, target).replace(/\.ts$/, ".js");
      if (!existsSync(join(out, emitted))) return undefined;
      return { path: `./${emitted}`, external: true };
    });
  },
};

// Split at the CLI's lazy command imports: a command loads only its own modules (and the library
// modules they import). The chunks sit next to cli.js so that the library imports the plugin
// keeps as "./..." resolve from them as well.
await build({
  entryPoints: { cli: join(src, "cli/main.ts") },
  outdir: out,
  splitting: true,
  chunkNames: "cli-[name]-[hash]",
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "node",
  packages: "external",
  plugins: [useLibrary],
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
});

// The explorer page `salient app` serves (dist/app).
await (await import("./build-app.mjs")).buildApp(join(out, "app"));

rmSync(join(root, "dist"), { recursive: true, force: true });
renameSync(out, join(root, "dist"));

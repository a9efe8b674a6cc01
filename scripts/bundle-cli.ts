/**
 * Bundles the `salient` executable (src/cli/main.ts) into `outdir` as main.mjs, split at its
 * dynamic imports as dist/cli.js is (a command loads only its own modules), its packages left
 * external: `outdir` must lie where Node finds the project's packages (under node_modules). For
 * the bench's CLI row and the tests that run the executable without a full build.
 */
import { join } from "node:path";
import { build } from "esbuild";

export async function bundleCli(outdir: string): Promise<string> {
  await build({
    entryPoints: { main: join(process.cwd(), "src/cli/main.ts") },
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "es2022",
    packages: "external",
    logLevel: "warning",
  });
  return join(outdir, "main.mjs");
}

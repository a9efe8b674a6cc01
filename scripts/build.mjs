// Bundles the library (ESM, platform-neutral: Node, Deno, browsers) and the CLI (Node).
import { build } from "esbuild";

const common = {
  bundle: true,
  format: "esm",
  target: "es2022",
  sourcemap: true,
  logLevel: "warning",
};
await Promise.all([
  build({
    ...common,
    entryPoints: ["src/index.ts"],
    outfile: "dist/salient.js",
    platform: "neutral",
  }),
  build({
    ...common,
    entryPoints: ["src/cli/main.ts"],
    outfile: "dist/cli.js",
    platform: "node",
    packages: "external",
    banner: { js: "#!/usr/bin/env node" },
  }),
]);

/**
 * The package entries: "salient" must stay platform neutral (it bundles for a browser, so no
 * module it reaches imports node:* or a Node-only package), and "salient/node" helpers refuse bad
 * input with errors that say what was expected. scripts/test-package.sh checks the packed tarball.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { assetPath, loadOnnxFile } from "../../src/node.ts";

const root = join(import.meta.dirname, "..", "..");

/** The bare imports (packages and node: builtins) reachable from an entry. */
async function bareImports(entry: string): Promise<string[]> {
  const found = new Set<string>();
  await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    write: false,
    platform: "neutral",
    logLevel: "silent",
    plugins: [
      {
        name: "collect-bare-imports",
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            found.add(args.path);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return [...found].sort();
}

describe("package entries", () => {
  it("the root entry reaches no node: module and no Node-only package", async () => {
    const bare = await bareImports("src/index.ts");
    expect(bare.filter((p) => p.startsWith("node:"))).toEqual([]);
    for (const nodeOnly of ["pngjs", "jpeg-js", "cli-progress", "wgsl_reflect"]) {
      expect(bare.some((p) => p === nodeOnly || p.startsWith(`${nodeOnly}/`))).toBe(false);
    }
  });

  it("salient/node is where the file system and the image codecs come in", async () => {
    const bare = await bareImports("src/node.ts");
    for (const p of ["node:fs", "pngjs", "jpeg-js"]) expect(bare).toContain(p);
  });

  it("salient/webgpu needs wgsl_reflect (a runtime dependency) and nothing from Node", async () => {
    const bare = await bareImports("src/webgpu.ts");
    expect(bare).toContain("wgsl_reflect/wgsl_reflect.module.js");
    expect(bare.filter((p) => p.startsWith("node:"))).toEqual([]);
  });

  it("assetPath points into the package's assets/ folder", () => {
    const photo = assetPath("photos", "astronaut.png");
    expect(photo).toBe(join(root, "assets", "photos", "astronaut.png"));
    expect(existsSync(photo)).toBe(true);
  });

  it("assetPath refuses paths that leave assets/, and an empty path", () => {
    expect(() => assetPath("..", "package.json")).toThrow(/inside assets\//);
    expect(() => assetPath()).toThrow(/inside assets\//);
  });

  it("loadOnnxFile names the file it cannot read", () => {
    expect(() => loadOnnxFile("/nonexistent/model.onnx")).toThrow(
      /loadOnnxFile: cannot read "\/nonexistent\/model\.onnx"/,
    );
  });
});

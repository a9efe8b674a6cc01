/**
 * Files shipped in the package (assets/, package.json), found from this module's own location:
 * dist/cli.js when installed or built (one level below the package root), src/cli/*.ts when run
 * from source (two levels below), so they resolve whatever the working directory is.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

function fromPackageRoot(parts: readonly string[]): string[] {
  return [join("..", ...parts), join("..", "..", ...parts)].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
}

/** The path of a bundled asset (assets/...), or an error naming where it was looked for. */
export function assetPath(...parts: string[]): string {
  const candidates = fromPackageRoot(["assets", ...parts]);
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      `bundled asset assets/${parts.join("/")} not found (looked in ${candidates.join(", ")}); the installed package is incomplete`,
    );
  return found;
}

/** The version in the package's package.json. */
export function packageVersion(): string {
  for (const p of fromPackageRoot(["package.json"])) {
    if (!existsSync(p)) continue;
    const pkg = JSON.parse(readFileSync(p, "utf8")) as { name?: string; version?: string };
    if (pkg.name === "salient" && pkg.version) return pkg.version;
  }
  return "unknown";
}

/** The bundled photographs, assets/photos/NAME.png (HR images for LAM and upscaling). */
export const BUNDLED_PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "brick"];

/** An --image value: an existing file as it is, else a bundled photo's name (e.g. "astronaut"). */
export function imageArg(v: string): string {
  if (existsSync(v) || !BUNDLED_PHOTOS.includes(v)) return v;
  return assetPath("photos", `${v}.png`);
}

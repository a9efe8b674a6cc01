/**
 * Builds dist/ once before any test file runs: the CLI tests start the built `salient` (as a user
 * runs it), and one build up front avoids several files rebuilding dist/ at the same time.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

export default function setup(): void {
  const root = join(import.meta.dirname, "..");
  execFileSync(process.execPath, [join(root, "scripts", "build.mjs")], {
    cwd: root,
    stdio: "inherit",
  });
}

/**
 * The CLI as users run it, for the batch tests: bundled from src/cli/main.ts into a temporary
 * folder and spawned as separate processes there.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const ROOT = join(import.meta.dirname, "..", "..");

/** Bundles the CLI to DIR/cli.mjs; returns its path. */
export async function buildCli(dir: string): Promise<string> {
  const cli = join(dir, "cli.mjs");
  await build({
    entryPoints: [join(ROOT, "src", "cli", "main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: cli,
    logLevel: "silent",
    banner: {
      js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);',
    },
  });
  return cli;
}

/** Runs the CLI in `cwd`; `done` resolves with the exit status and output. */
export function spawnCli(cli: string, cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...process.env, ...env } });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, out, err })),
  );
  return { child, done, output: () => out };
}

/** The JSON summary line a command prints last. */
export const lastJson = (out: string) => JSON.parse(out.trim().split("\n").at(-1)!);

/**
 * Every record of a run folder by "item/key", without the given timing fields, plus its map
 * bytes (base64).
 */
export function recordsOf(
  dir: string,
  untimed: (record: Record<string, unknown>) => Record<string, unknown>,
): Map<string, { record: Record<string, unknown>; npy?: string }> {
  const out = new Map();
  for (const id of readdirSync(join(dir, "items")).sort())
    for (const f of readdirSync(join(dir, "items", id)).sort()) {
      if (!f.endsWith(".json")) continue;
      const key = f.slice(0, -5);
      const record = untimed(JSON.parse(readFileSync(join(dir, "items", id, f), "utf8")));
      const npyFile = join(dir, "items", id, `${key}.npy`);
      const npy = record.status === "ok" ? readFileSync(npyFile).toString("base64") : undefined;
      out.set(`${id}/${key}`, { record, npy });
    }
  return out;
}

/** A merged CSV without its timing column (timings differ between any two runs). */
export function tableWithoutTiming(dir: string): string {
  const rows = readFileSync(join(dir, "table.csv"), "utf8").trim().split("\n");
  const col = rows[0].split(",").indexOf("s/image");
  return rows
    .map((r) =>
      r
        .split(",")
        .filter((_, i) => i !== col)
        .join(","),
    )
    .join("\n");
}

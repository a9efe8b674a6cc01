/**
 * The `salient` executable (bundled as dist/cli.js): runs the command line, sets the exit status.
 * On Linux with glibc it first runs itself again with huge pages for large allocations
 * (huge-pages.ts), forwarding signals and passing the child's exit status on.
 */
import { spawn } from "node:child_process";
import { glibcHasHugePages, hugePagesEnv } from "./huge-pages.ts";

const args = process.argv.slice(2);

async function runHere(): Promise<void> {
  const { runCli } = await import("./cli.ts");
  process.exitCode = await runCli(args, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
}

/** The child's exit status (its signal re-raised here), or false when it could not start. */
function runAgain(env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...args], {
      stdio: "inherit",
      env,
    });
    const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const s of signals) process.on(s, forward);
    child.on("error", () => {
      for (const s of signals) process.off(s, forward);
      done(false);
    });
    child.on("exit", (code, signal) => {
      for (const s of signals) process.off(s, forward);
      if (signal !== null) process.kill(process.pid, signal);
      else process.exitCode = code ?? 1;
      done(true);
    });
  });
}

const env = hugePagesEnv(process.env, process.platform, args);
const glibc = env !== null && glibcHasHugePages(glibcVersion());
if (!glibc || !(await runAgain(env as NodeJS.ProcessEnv))) await runHere();

function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } };
  return report?.header?.glibcVersionRuntime;
}

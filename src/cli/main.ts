/**
 * The `salient` executable (bundled as dist/cli.js): runs the command line, sets the exit status.
 * On Linux with glibc it first runs itself again with huge pages for large allocations
 * (huge-pages.ts), forwarding signals and passing the child's exit status on; the child ends
 * when the first process does, even by SIGKILL.
 */
import { spawn } from "node:child_process";
import { Socket } from "node:net";
import { glibcHasHugePages, hugePagesEnv, PARENT_FD_ENV } from "./huge-pages.ts";

const args = process.argv.slice(2);

/**
 * In the second process: ends it (as SIGKILL would) when the first one is gone, however it went
 * (SIGKILL cannot be forwarded): the pipe on fd PARENT_FD_ENV closes with it.
 */
function exitWithParent(): void {
  const fd = Number(process.env[PARENT_FD_ENV]);
  delete process.env[PARENT_FD_ENV];
  if (!Number.isInteger(fd)) return;
  const pipe = new Socket({ fd, readable: true, writable: false });
  pipe.on("close", () => process.kill(process.pid, "SIGKILL"));
  pipe.on("error", () => {});
  pipe.resume();
  pipe.unref();
}

async function runHere(): Promise<void> {
  const { runCli } = await import("./cli.ts");
  process.exitCode = await runCli(args, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
}

/**
 * Runs the command line again in a second process with `env`: true once that has ended (its exit
 * status set here, or its signal re-raised), false when it could not start.
 */
function runAgain(env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((done) => {
    // fd 3: a pipe the child watches, so that it ends with this process (exitWithParent).
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...args], {
      stdio: ["inherit", "inherit", "inherit", "pipe"],
      env: { ...env, [PARENT_FD_ENV]: "3" },
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

if (process.env[PARENT_FD_ENV] !== undefined) exitWithParent();
const env = hugePagesEnv(process.env, process.platform, args);
const glibc = env !== null && glibcHasHugePages(glibcVersion());
if (!glibc || !(await runAgain(env as NodeJS.ProcessEnv))) await runHere();

function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } };
  return report?.header?.glibcVersionRuntime;
}

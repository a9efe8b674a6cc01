/**
 * The CLI runs itself again with glibc's huge-page tunable on Linux (src/cli/huge-pages.ts,
 * src/cli/main.ts): the decision as a function, and the executable end to end, bundled as
 * dist/cli.js is, with a --require probe (passed on through NODE_OPTIONS) recording each
 * process's GLIBC_TUNABLES.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleCli } from "../../scripts/bundle-cli.ts";
import { glibcHasHugePages, HUGE_PAGES_TUNABLE, hugePagesEnv } from "../../src/cli/huge-pages.ts";

describe("hugePagesEnv", () => {
  it("adds the tunable on Linux for commands that compute, keeping other tunables", () => {
    expect(hugePagesEnv({ PATH: "/bin" }, "linux", ["lam", "--fold", "5"])).toEqual({
      PATH: "/bin",
      GLIBC_TUNABLES: HUGE_PAGES_TUNABLE,
    });
    const kept = hugePagesEnv({ GLIBC_TUNABLES: "glibc.malloc.arena_max=2" }, "linux", ["demo"]);
    expect(kept?.GLIBC_TUNABLES).toBe("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
  });

  it("runs here elsewhere, when asked not to, once set, and for help and version", () => {
    for (const platform of ["darwin", "win32", "freebsd"])
      expect(hugePagesEnv({}, platform, ["lam"])).toBeNull();
    expect(hugePagesEnv({ SALIENT_HUGE_PAGES: "0" }, "linux", ["lam"])).toBeNull();
    // The second run (or a user's own choice, even hugetlb=0) is left as it is.
    for (const t of [HUGE_PAGES_TUNABLE, "glibc.malloc.hugetlb=0", "a=1:glibc.malloc.hugetlb=2"])
      expect(hugePagesEnv({ GLIBC_TUNABLES: t }, "linux", ["lam"])).toBeNull();
    for (const args of [[], ["--help"], ["lam", "-h"], ["--version"], ["help", "lam"]])
      expect(hugePagesEnv({}, "linux", args), args.join(" ")).toBeNull();
  });

  it("needs glibc 2.35 or later", () => {
    expect(glibcHasHugePages("2.36")).toBe(true);
    expect(glibcHasHugePages("2.35")).toBe(true);
    expect(glibcHasHugePages("3.0")).toBe(true);
    expect(glibcHasHugePages("2.34")).toBe(false);
    expect(glibcHasHugePages("2.9")).toBe(false);
    expect(glibcHasHugePages(undefined)).toBe(false);
    expect(glibcHasHugePages("")).toBe(false);
  });
});

const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })?.header
  ?.glibcVersionRuntime;

describe.runIf(process.platform === "linux" && glibcHasHugePages(glibc))(
  "the salient executable on Linux with glibc",
  () => {
    let dir = "";
    let main = "";
    let probe = "";
    beforeAll(async () => {
      // Under node_modules, so that the bundle's package imports resolve (as the bench's does).
      const cache = join(process.cwd(), "node_modules", ".cache");
      mkdirSync(cache, { recursive: true });
      dir = mkdtempSync(join(cache, "salient-huge-pages-"));
      main = await bundleCli(dir);
      probe = join(dir, "probe.cjs");
      writeFileSync(
        probe,
        [
          `require("node:fs").appendFileSync(process.env.PROBE_LOG, (process.env.GLIBC_TUNABLES ?? "-") + " " + process.pid + "\\n");`,
          `if (process.env.PROBE_HOLD && process.env.GLIBC_TUNABLES) setInterval(() => {}, 1000);`,
        ].join("\n"),
      );
    }, 60_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** The probe's lines in `log`: each process's GLIBC_TUNABLES ("-": unset) and pid. */
    const lines = (log: string) =>
      readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split(" "));
    const tunables = (log: string) => lines(log).map(([t]) => t);

    /** This process's environment without GLIBC_TUNABLES, with the probe. */
    function probeEnv(log: string, extra: Record<string, string> = {}) {
      const { GLIBC_TUNABLES: _, ...env } = process.env;
      return { ...env, ...extra, PROBE_LOG: log, NODE_OPTIONS: `--require ${probe}` };
    }

    /** Runs main.mjs with `args`; its processes' GLIBC_TUNABLES ("-": unset), in start order. */
    function run(args: string[], env: Record<string, string> = {}) {
      const log = join(dir, `log-${Math.random().toString(36).slice(2)}`);
      writeFileSync(log, "");
      const res = spawnSync(process.execPath, [main, ...args], {
        encoding: "utf8",
        cwd: process.cwd(),
        env: probeEnv(log, env),
      });
      return { ...res, seen: tunables(log) };
    }

    it("runs a command once more with the tunable, passing its output and exit status on", () => {
      const ok = run(["methods"]);
      expect(ok.status).toBe(0);
      expect(ok.stdout).toContain("integrated-gradients");
      expect(ok.seen).toEqual(["-", HUGE_PAGES_TUNABLE]);
      // A usage error's status 2 comes through the second process.
      const bad = run(["lam", "--fold", "many"]);
      expect(bad.status).toBe(2);
      expect(bad.seen).toEqual(["-", HUGE_PAGES_TUNABLE]);
    });

    it("runs in one process for --help and with SALIENT_HUGE_PAGES=0", () => {
      const help = run(["lam", "--help"]);
      expect(help.status).toBe(0);
      expect(help.stdout).toContain("usage: salient lam");
      expect(help.seen).toEqual(["-"]);
      const off = run(["methods"], { SALIENT_HUGE_PAGES: "0" });
      expect(off.status).toBe(0);
      expect(off.seen).toEqual(["-"]);
    });

    /** Starts main.mjs with the second process held alive; resolves once both have started. */
    async function startHeld(log: string) {
      writeFileSync(log, "");
      // PROBE_HOLD keeps the second process alive after its command (a timer in the probe).
      const parent = spawn(process.execPath, [main, "methods"], {
        env: probeEnv(log, { PROBE_HOLD: "1" }),
        stdio: "ignore",
      });
      const ended = new Promise<NodeJS.Signals | null>((done) =>
        parent.on("exit", (_code, signal) => done(signal)),
      );
      // Both processes have started once the probe has written two lines.
      for (let i = 0; lines(log).length < 2; i++) {
        if (i > 300) throw new Error("the second process did not start");
        await new Promise((r) => setTimeout(r, 50));
      }
      return { parent, ended, child: Number(lines(log)[1][1]) };
    }

    /** Whether process `pid` has ended within `ms`. */
    async function gone(pid: number, ms: number): Promise<boolean> {
      for (const t0 = Date.now(); Date.now() - t0 < ms; ) {
        try {
          process.kill(pid, 0);
        } catch {
          return true;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    }

    it("ends the second process when the first is killed with SIGKILL (not forwardable)", async () => {
      const { parent, ended, child } = await startHeld(join(dir, "log-kill"));
      parent.kill("SIGKILL");
      expect(await ended).toBe("SIGKILL");
      expect(await gone(child, 5000)).toBe(true);
    }, 30_000);

    it("passes SIGTERM on to the second process and ends by it", async () => {
      const log = join(dir, "log-signal");
      const { parent, ended, child } = await startHeld(log);
      parent.kill("SIGTERM");
      expect(await ended).toBe("SIGTERM");
      expect(tunables(log)).toEqual(["-", HUGE_PAGES_TUNABLE]);
      // The parent waited for the second process, which the signal ended too.
      expect(() => process.kill(child, 0)).toThrow(/ESRCH/);
    }, 30_000);
  },
);

/**
 * The command-line conventions, run in-process through runCli: help for the program and every
 * command, the version from package.json, did-you-mean suggestions with exit status 2, and
 * settings refused before any model loads (the model named in those calls does not even exist,
 * so an error about the setting proves it was checked first).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { flag } from "../../src/cli/args.ts";
import { COMMANDS, loadCommands, runCli } from "../../src/cli/cli.ts";

async function cli(...argv: string[]) {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const NO_MODEL = "/nonexistent/model.onnx";

describe("help and version", () => {
  test("--help and -h print the usage with every command on stdout, exit 0", async () => {
    for (const h of ["--help", "-h"]) {
      const r = await cli(h);
      expect(r.code).toBe(0);
      expect(r.err).toBe("");
      for (const name of Object.keys(COMMANDS))
        expect(r.out).toMatch(new RegExp(`^  ${name} `, "m"));
    }
  });

  test("no arguments: the usage on stderr, exit 1", async () => {
    const r = await cli();
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^usage: salient <command>/);
  });

  test("--version prints package.json's version", async () => {
    const pkg = JSON.parse(
      readFileSync(join(import.meta.dirname, "..", "..", "package.json"), "utf8"),
    );
    const r = await cli("--version");
    expect(r).toEqual({ code: 0, out: `${pkg.version}\n`, err: "" });
  });

  test("every command has --help: exit 0, its usage, each flag with its default", async () => {
    for (const [name, { spec }] of Object.entries(await loadCommands())) {
      const r = await cli(name, "--help");
      expect(r.code, name).toBe(0);
      expect(r.out.startsWith(`usage: salient ${name}`), name).toBe(true);
      for (const [f, s] of Object.entries(spec.flags)) {
        const row = r.out
          .split("\n")
          .find((l) => l.startsWith(`  ${flag(f)} `) || l === `  ${flag(f)}`);
        expect(row, `${name} ${flag(f)}`).toBeDefined();
        if (s.default !== undefined) expect(row).toContain(`(default ${s.default})`);
      }
      // -h anywhere among the flags works too, even next to bad ones.
      expect((await cli(name, "--nonsense", "-h")).code).toBe(0);
    }
  });

  test("help shows the defaults the commands use", async () => {
    const lam = (await cli("lam", "--help")).out;
    expect(lam).toMatch(/--sigma S\s+.*\(default 1\.2\)/);
    expect(lam).toMatch(/--fold N\s+.*\(default 50\)/);
    expect((await cli("upscale", "--help")).out).toMatch(/--tile N\s+.*\(default 64\)/);
  });
});

describe("usage errors suggest the nearest name and exit 2", () => {
  test("unknown command", async () => {
    const r = await cli("lma");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^salient: unknown command "lma"; did you mean "lam"\?/);
    expect((await cli("galery")).err).toContain('did you mean "gallery"?');
    expect((await cli("zzzzzz")).err).not.toContain("did you mean");
  });

  test("unknown option, per command", async () => {
    const r = await cli("lam", "--widnow", "1,2");
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option --widnow for lam; did you mean --window?");
    expect((await cli("upscale", "--tiel", "8")).err).toContain(
      "unknown option --tiel for upscale; did you mean --tile?",
    );
    expect((await cli("attribute", "--methd", "gradient")).err).toContain("did you mean --method?");
  });

  test("missing required flags, stray arguments, unknown method names", async () => {
    const r = await cli("lam", "--model", "bicubic");
    expect(r.code).toBe(2);
    expect(r.err).toContain("lam needs --window, --out; see salient lam --help");
    expect((await cli("upscale", "in.png")).err).toContain('unexpected argument "in.png"');
    const m = await cli("attribute", "--model", NO_MODEL, "--method", "gradiant", "--out", "x");
    expect(m.code).toBe(2);
    expect(m.err).toContain('unknown method "gradiant"; did you mean "gradient"?');
  });
});

describe("settings are refused before any model loads", () => {
  const attribute = (...extra: string[]) =>
    cli(
      "attribute",
      "--model",
      NO_MODEL,
      "--image",
      "x.png",
      "--method",
      "gradient",
      "--out",
      "o",
      ...extra,
    );

  test("attribute: zoom, clip percentile, alpha, resize, method options", async () => {
    const cases: [string[], string][] = [
      [["--zoom", "100000"], '--zoom must be an integer from 1 to 64, got "100000"'],
      [["--clip-percentile", "150"], '--clip-percentile must be a number in (0, 100], got "150"'],
      [["--clip-percentile", "0"], "--clip-percentile must be a number in (0, 100]"],
      [["--alpha", "2"], '--alpha must be a number from 0 to 1, got "2"'],
      [["--resize", "0x28"], '--resize must be an integer from 1 to 16384, got "0"'],
      [["--resize", "big"], '--resize must be HxW (e.g. 28x28), got "big"'],
      [["--samples", "0"], "--samples must be an integer from 1 to 100000"],
      [
        ["--variant", "meen"],
        '--variant must be one of mean, squared, vargrad, got "meen"; did you mean "mean"?',
      ],
      [["--segments", "grid"], '--segments must be grid:N or slic:N, got "grid"'],
      [["--colormap", "nope"], "--colormap must be one of"],
    ];
    for (const [extra, message] of cases) {
      const r = await attribute(...extra);
      expect(r.code, extra.join(" ")).toBe(2);
      expect(r.err).toContain(message);
      expect(r.err).not.toContain("----");
    }
  });

  test("lam: sigma, fold, window, path", async () => {
    const lam = (...extra: string[]) =>
      cli("lam", "--model", NO_MODEL, "--lr", "x.png", "--window", "0,0", "--out", "o", ...extra);
    expect((await lam("--sigma", "0")).err).toContain(
      '--sigma must be a number in (0, 100], got "0"',
    );
    expect((await lam("--sigma", "-1")).code).toBe(2);
    expect((await lam("--fold", "0")).err).toContain(
      '--fold must be an integer from 1 to 100000, got "0"',
    );
    expect((await lam("--path", "blurr")).err).toContain('did you mean "blur"?');
    const w = await cli(
      "lam",
      "--model",
      NO_MODEL,
      "--lr",
      "x.png",
      "--window",
      "1,2,0",
      "--out",
      "o",
    );
    expect(w.err).toContain(
      '--window must be x,y or x,y,size (integers, x and y >= 0, size >= 1), got "1,2,0"',
    );
  });

  test("upscale and run: tile, margin, scale", async () => {
    const up = await cli(
      "upscale",
      "--model",
      NO_MODEL,
      "--image",
      "x.png",
      "--out",
      "y",
      "--tile",
      "0",
    );
    expect(up.code).toBe(2);
    expect(up.err).toContain('--tile must be an integer from 1 to 4096, got "0"');
    const run = await cli(
      "run",
      "--model",
      NO_MODEL,
      "--input",
      "x.npy",
      "--out",
      "y",
      "--scale",
      "2.5",
    );
    expect(run.err).toContain('--scale must be an integer from 1 to 16, got "2.5"');
  });

  test("compare-models and demo: unknown models and photos before any LAM run", async () => {
    const c = await cli("compare-models", "--models", "bicubic,esrgan-slm", "--out", "x");
    expect(c.code).toBe(2);
    expect(c.err).toContain('"esrgan-slm" is neither an SR model');
    expect(c.err).toContain('did you mean "esrgan-slim"?');
    const d = await cli("demo", "--models", "bicubik", "--out", "x");
    expect(d.err).toContain('did you mean "bicubic"?');
    expect((await cli("demo", "--photo", "astronot")).err).toContain('did you mean "astronaut"?');
    expect((await cli("demo", "--fold", "0")).code).toBe(2);
  });
});

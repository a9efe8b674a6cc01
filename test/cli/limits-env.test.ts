/**
 * Import limits from the command line: environment variables set them for one run, messages name
 * the variable instead of the library call, and the limits are restored afterwards.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { runCli } from "../../src/cli/cli.ts";
import { cliLimitHint } from "../../src/cli/limits-env.ts";
import { DEFAULT_IMPORT_LIMITS, importLimits } from "../../src/models/io/limits.ts";
import { writePng } from "../../src/viz/image-io-node.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-limits-"));
const image = join(dir, "40x40.png");
writePng(image, { width: 40, height: 40, data: new Uint8Array(40 * 40 * 3).fill(90) });

async function cli(...argv: string[]) {
  let err = "";
  const code = await runCli(argv, { out: () => {}, err: (t) => (err += t) });
  return { code, err };
}

const attribute = ["attribute", "--model", "fashion-cnn", "--image", image, "--method", "gradient"];

afterEach(() => {
  delete process.env.SALIENT_MAX_IMAGE_PIXELS;
});

describe("SALIENT_MAX_* environment variables", () => {
  test("a lowered pixel limit refuses a 40x40 image (1600 pixels), naming the variable", async () => {
    process.env.SALIENT_MAX_IMAGE_PIXELS = "1000";
    const r = await cli(...attribute, "--out", join(dir, "a"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/40x40 is 1600, over the limit of 1000/);
    expect(r.err).toMatch(/raise it with SALIENT_MAX_IMAGE_PIXELS=N in the environment/);
    expect(r.err).not.toMatch(/setImportLimits/);
    expect(importLimits()).toEqual(DEFAULT_IMPORT_LIMITS);
  });

  test("without it the same image gets past the limit (to the size check of the classifier)", async () => {
    const r = await cli(...attribute, "--out", join(dir, "b"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is 40x40 \(HxW\) but fashion-cnn expects 28x28/);
  });

  test("a value that is not a positive number is a usage error (exit 2)", async () => {
    process.env.SALIENT_MAX_IMAGE_PIXELS = "lots";
    const r = await cli(...attribute, "--out", join(dir, "c"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/SALIENT_MAX_IMAGE_PIXELS="lots": expected a positive number/);
  });

  test("only the known limits' hints are rewritten", () => {
    expect(
      cliLimitHint("x (maxNestingDepth; raise it with setImportLimits({ maxNestingDepth: ... }))"),
    ).toBe("x (maxNestingDepth; raise it with SALIENT_MAX_NESTING_DEPTH=N in the environment)");
    const other = "raise it with setImportLimits({ somethingElse: ... })";
    expect(cliLimitHint(other)).toBe(other);
  });
});

/** `salient layers` and the CAM layer choices of `salient attribute` on ONNX graphs. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { runCli } from "../../src/cli/cli.ts";

async function cli(argv: string[]) {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const CNN = "test/fixtures/layers/cnn.onnx";
const VIT = "test/fixtures/layers/vit.onnx";
const IMAGE = "test/fixtures/attribution/tiny-input.png";

test("salient layers lists tensor and node names with shapes and the default CAM layer", async () => {
  const r = await cli(["layers", "--model", CNN]);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(
    /\/relu3\/Relu_output_0\s+\[1, 8, 8, 8\]\s+Relu\s+node \/relu3\/Relu\s+<- default CAM layer/,
  );
  expect(r.out).toMatch(/\/conv1\/Conv_output_0\s+\[1, 4, 16, 16\]/);
  expect(r.out).toMatch(/default CAM layer: \/relu3\/Relu_output_0/);
});

test("attribute picks the ONNX classifier's CAM layer and says which; --grid reaches token layers", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "salient-layers-")), "cam");
  const base = ["attribute", "--image", IMAGE, "--resize", "16x16", "--out", out];
  const r = await cli([...base, "--model", CNN, "--method", "gradcam"]);
  expect(r.err).toBe("");
  expect(r.out).toMatch(
    /--layer not given: using "\/relu3\/Relu_output_0" \(node \/relu3\/Relu\) \[1,8,8,8\]/,
  );
  const layer = "/blocks/blocks.0/norm1/LayerNormalization";
  const ok = await cli([
    ...base,
    "--model",
    VIT,
    "--method",
    "layercam",
    "--layer",
    layer,
    "--grid",
    "4x4",
  ]);
  expect(ok.err).toBe("");
  expect(ok.code).toBe(0);
  const bad = await cli([
    ...base,
    "--model",
    VIT,
    "--method",
    "gradcam",
    "--layer",
    layer,
    "--grid",
    "3x3",
  ]);
  expect(bad.code).not.toBe(0);
  expect(bad.err).toMatch(/17 tokens; a 3x3 grid needs 9 \(or 10 with a class token\)/);
});

/** `salient cem` end to end with bicubic interpolation, whose reach is a few LR pixels. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCem } from "../../src/cli/cem.ts";
import { Random } from "../../src/random.ts";
import { writePng } from "../../src/viz/image-io-node.ts";
import { decodeNpy } from "../../src/viz/npy.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-cem-"));
function noisePng(name: string, side: number, seed: number): string {
  const rng = new Random(seed);
  const path = join(dir, name);
  writePng(path, {
    width: side,
    height: side,
    data: Uint8Array.from({ length: side * side * 3 }, () => Math.floor(rng.uniform() * 256)),
  });
  return path;
}

describe("salient cem", () => {
  test("bicubic x2: only the block under the window (inside it, away from block edges) matters", async () => {
    const image = noisePng("hr.png", 64, 1);
    const donors = [noisePng("d1.png", 64, 2), noisePng("d2.png", 64, 3)].join(",");
    const out = join(dir, "cem");
    const lines: string[] = [];
    // window SR 36..43 x 20..27 = LR 18..21 x 10..13: bicubic reads LR pixels 16..23 x 8..15,
    // all inside LR block (row 1, col 2) of 8x8
    await runCem(
      ["--model", "bicubic", "--image", image, "--scale", "2", "--window", "36,20,8"].concat([
        "--donors",
        donors,
        "--coarse",
        "2",
        "--out",
        out,
      ]),
      (l) => lines.push(l),
    );
    const s = JSON.parse(lines[lines.length - 1]);
    expect(s.grid).toEqual([4, 4]);
    expect(s.positive.map((b: { row: number; col: number }) => [b.row, b.col])).toEqual([[1, 2]]);
    expect(s.negative).toEqual([]);
    const npy = decodeNpy(readFileSync(`${out}.npy`));
    expect(npy.shape).toEqual([4, 4]);
    expect(npy.values[1 * 4 + 2]).toBeCloseTo(s.positive[0].effect, 5);
    expect(Math.abs(npy.values[1 * 4 + 2])).toBeGreaterThan(0);
    // Bicubic never reads the other 15 blocks for this window: their effects are exactly 0.
    npy.values.forEach((v, i) => {
      if (i !== 1 * 4 + 2) expect(v, `block ${i}`).toBe(0);
    });
    expect(readFileSync(`${out}.png`).subarray(1, 4).toString()).toBe("PNG");
  });

  test("a window outside the SR image is a usage error", async () => {
    const image = noisePng("small.png", 32, 4);
    await expect(
      runCem(
        [
          "--model",
          "bicubic",
          "--image",
          image,
          "--scale",
          "2",
          "--window",
          "30,0,8",
          "--out",
          "x",
        ],
        () => {},
      ),
    ).rejects.toThrow(/does not fit/);
  });
});

/** The rule sets on zoo models with PReLU / LeakyReLU: no layer is silently skipped. */
import { afterEach, describe, expect, test, vi } from "vitest";
import { deconvnet, gradient, guidedBackprop } from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { Fsrcnn } from "../../src/models/zoo/fsrcnn.ts";

describe("FSRCNN (PReLU after every conv)", () => {
  afterEach(() => vi.restoreAllMocks());

  test("guided backprop and deconvnet change the PReLUs' signals without warnings", async () => {
    const warn = vi.spyOn(console, "warn");
    const net = new Fsrcnn(2, { d: 6, s: 3, m: 1, seed: 3 });
    const model = (v: s.Tensor) => net.call(v);
    const x = s.tensor(
      Float32Array.from({ length: 36 }, (_, i) => ((i * 7) % 11) / 11),
      [1, 1, 6, 6],
    );
    // The score: the sum of one output pixel's neighbourhood.
    const target = (out: s.Tensor) => s.sum(s.slice(out, [0, 0, 4, 4], [1, 1, 3, 3]), [1, 2, 3]);
    const g = await (await gradient(model, x, target)).map.data();
    const gb = await (await guidedBackprop(model, x, target)).map.data();
    const dc = await (await deconvnet(model, x, target)).map.data();
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
    expect(maxDiff(gb, g)).toBeGreaterThan(1e-4);
    expect(maxDiff(dc, g)).toBeGreaterThan(1e-4);
    expect(warn).not.toHaveBeenCalled();
  });
});

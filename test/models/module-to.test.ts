/**
 * Module.to(backend): every parameter and buffer of a module tree moves to another backend, the
 * forward pass there gives the same output as before the move, the old storage is freed, and a
 * failed move leaves the module where it was.
 */
import { describe, expect, it } from "vitest";
import { getBackend, withBackend } from "../../src/autodiff/backends.ts";
import type { DType, TypedArray } from "../../src/kernels/backend.ts";
import { CpuBackend } from "../../src/kernels/cpu/cpu-backend.ts";
import {
  BatchNorm2d,
  Conv2d,
  Flatten,
  Linear,
  ReLU,
  Sequential,
} from "../../src/models/nn/index.ts";
import { tensor } from "../../src/ops/creation.ts";

function net() {
  return new Sequential(
    new Conv2d(2, 3, 3, { padding: 1, seed: 3 }),
    new BatchNorm2d(3),
    new ReLU(),
    new Flatten(),
    new Linear(3 * 4 * 4, 2, { seed: 4 }),
  );
}

const input = Float32Array.from({ length: 2 * 2 * 4 * 4 }, (_, i) => Math.sin(i));

describe("Module.to", () => {
  it("moves parameters and buffers to another backend instance; the forward output is unchanged", async () => {
    const m = net();
    const before = Array.from(await m.call(tensor(input, [2, 2, 4, 4])).data());
    const home = getBackend();
    const homeBytes = home.liveBytes();
    // conv 3*2*3*3 + 3, batch norm 4 * 3 (weight, bias, running mean and variance), linear
    // 3*4*4*2 + 2: 167 float32 values.
    const stateBytes = (3 * 2 * 3 * 3 + 3 + 4 * 3 + 3 * 4 * 4 * 2 + 2) * 4;
    expect([...m.stateDict().values()].reduce((n, v) => n + v.size * 4, 0)).toBe(stateBytes);
    const other = new CpuBackend();

    expect(await m.to(other)).toBe(m);
    for (const [name, v] of m.stateDict()) expect(v.backend, name).toBe(other);
    // Buffers (batch-norm running statistics) move too.
    expect(m.namedBuffers().map(([name, v]) => [name, v.backend === other])).toEqual([
      ["1.running_mean", true],
      ["1.running_var", true],
    ]);
    expect(other.liveBytes()).toBe(stateBytes);
    expect(homeBytes - home.liveBytes()).toBe(stateBytes);

    const after = await withBackend(other, async () => {
      const out = m.call(tensor(input, [2, 2, 4, 4]));
      expect(out.backend).toBe(other);
      return Array.from(await out.data());
    });
    expect(after).toEqual(before);
  });

  it("leaves the module where it was when an upload fails", async () => {
    const m = net();
    class Failing extends CpuBackend {
      uploads = 0;
      override upload(values: TypedArray, shape: readonly number[], dtype: DType) {
        if (++this.uploads === 3) throw new Error("out of memory (test)");
        return super.upload(values, shape, dtype);
      }
    }
    const failing = new Failing();
    const home = getBackend();
    await expect(m.to(failing)).rejects.toThrow("out of memory (test)");
    for (const [name, v] of m.stateDict()) expect(v.backend, name).toBe(home);
    expect(failing.liveBytes()).toBe(0);
  });

  it("names an unknown backend", async () => {
    await expect(net().to("tpu")).rejects.toThrow('Module.to: no backend named "tpu"');
  });
});

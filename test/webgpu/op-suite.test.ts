/** The backend-agnostic op suite (test/suites, forward + backward of every op) on WebGPU. */
import { opCases } from "../suites/ops.ts";
import { gpuBackend } from "./gpu.ts";

for (const c of opCases) {
  Deno.test(`ops on webgpu: ${c.name}`, async () => {
    await c.run({ backend: await gpuBackend() });
  });
}

/** 3-D conv / transposed conv and N-D pooling (test/suites/nd-ops.ts) on WebGPU. */
import { ndOpCases } from "../suites/nd-ops.ts";
import { gpuBackend } from "./gpu.ts";

for (const c of ndOpCases) {
  Deno.test(`N-D conv and pooling on webgpu: ${c.name}`, async () => {
    await c.run({ backend: await gpuBackend() });
  });
}

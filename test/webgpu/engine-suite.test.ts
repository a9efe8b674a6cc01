/** The backend-agnostic engine suite (rule-set oracles, IG completeness, memory, bad input) on WebGPU. */
import { engineCases } from "../suites/engine.ts";
import { gpuBackend } from "./gpu.ts";

for (const c of engineCases) {
  Deno.test(`engine on webgpu: ${c.name}`, async () => {
    await c.run({ backend: await gpuBackend() });
  });
}

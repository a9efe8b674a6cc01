/** Fused paths equal their composed form (test/suites/fusions.ts) on WebGPU. */
import { fusionCases, reluNanCase } from "../suites/fusions.ts";
import { gpuBackend, gpuBackendSharedTiles } from "./gpu.ts";

for (const [tiles, backend] of [
  ["register tiles", gpuBackend],
  ["workgroup tiles", gpuBackendSharedTiles],
] as const) {
  for (const c of [reluNanCase, ...fusionCases]) {
    Deno.test(`fusions on webgpu (${tiles}): ${c.name}`, async () => {
      await c.run({ backend: await backend() });
    });
  }
}

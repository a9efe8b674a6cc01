/** Exits 1 unless navigator.gpu yields an adapter: the WebGPU suite must fail, never skip, without one. */
export {};

const adapter = await navigator.gpu?.requestAdapter();
if (adapter === null || adapter === undefined) {
  console.error(
    "No WebGPU adapter: navigator.gpu.requestAdapter() returned null. Install Mesa's Vulkan drivers " +
      "(apt-get install -y mesa-vulkan-drivers) for the lavapipe software adapter.",
  );
  Deno.exit(1);
} else {
  console.log(`WebGPU adapter: ${adapter.info.description || adapter.info.vendor || "unnamed"}`);
}

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/webgpu/**", "test/deno/**", "test/browser/**"],
    testTimeout: 60_000,
  },
});

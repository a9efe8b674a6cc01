import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/webgpu/**", "test/deno/**", "test/browser/**"],
    testTimeout: 60_000,
    // dist/ (the CLI and the package) is built once here, not by each test file.
    globalSetup: ["test/global-setup.ts"],
  },
});

import { afterEach, describe, expect, it, vi } from "vitest";
import { progressBar } from "../../src/cli/progress.ts";

describe("progressBar with SALIENT_PROGRESS=lines", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it("writes one 'label done/total' line per update, following a new total and label", () => {
    vi.stubEnv("SALIENT_PROGRESS", "lines");
    const written: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const bar = progressBar("LAM path steps", 50);
    bar.update(8);
    bar.update(16, 60, "steps");
    bar.stop();
    expect(written).toEqual(["LAM path steps 8/50\n", "steps 16/60\n"]);
  });
});

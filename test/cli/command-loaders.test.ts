import { describe, expect, it } from "vitest";
import { COMMANDS, loadCommands } from "../../src/cli/cli.ts";

describe("command loaders", () => {
  it("each loads the command it is listed under", async () => {
    const loaded = await loadCommands();
    expect(Object.keys(loaded)).toEqual(Object.keys(COMMANDS));
    for (const [name, cmd] of Object.entries(loaded)) expect(cmd.spec.name, name).toBe(name);
  });
});

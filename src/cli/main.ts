/** The `salient` command. */
import { parseArgs } from "node:util";
import { runDemo } from "./demo.ts";

const USAGE = `usage: salient <command> [options]

commands:
  demo [--steps 300] [--batch 32] [--seed 0]   train a small CNN on Fashion-MNIST (engine demo)
`;

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return command ? 0 : 1;
  }
  if (command === "demo") {
    const { values } = parseArgs({
      args: rest,
      options: {
        steps: { type: "string", default: "300" },
        batch: { type: "string", default: "32" },
        seed: { type: "string", default: "0" },
      },
    });
    const num = (name: string, v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`--${name} must be a positive integer, got "${v}"`);
      return n;
    };
    runDemo({
      steps: num("steps", values.steps),
      batch: num("batch", values.batch),
      seed: Number(values.seed),
      log: (s) => console.log(s),
    });
    return 0;
  }
  process.stderr.write(`salient: unknown command "${command}"\n${USAGE}`);
  return 2;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`salient: ${(e as Error).message}\n`);
  process.exitCode = 1;
}

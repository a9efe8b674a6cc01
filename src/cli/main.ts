/** The `salient` command. */
import { parseArgs } from "node:util";
import { methodsText, runAttribute, runGallery } from "./attribute.ts";
import { runDemo } from "./demo.ts";
import { runLam } from "./lam.ts";

const USAGE = `usage: salient <command> [options]

commands:
  demo [--steps 300] [--batch 32] [--seed 0]   train a small CNN on Fashion-MNIST (engine demo)
  attribute --model M --image F --method NAME --out PREFIX   an attribution map (.npy + .png)
  gallery --model M --image F --methods a,b,c --out PREFIX   several methods side by side
  methods                                      list the attribution methods and their options
  lam --model M (--image HR | --lr LR) --window x,y[,size] --out PREFIX   LAM of an SR model
`;

function main(argv: string[]): number | Promise<number> {
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
  if (command === "attribute") {
    return runAttribute(rest, (line) => console.log(line)).then(() => 0);
  }
  if (command === "gallery") return runGallery(rest, (line) => console.log(line)).then(() => 0);
  if (command === "lam") return runLam(rest, (line) => console.log(line)).then(() => 0);
  if (command === "methods") {
    process.stdout.write(methodsText());
    return 0;
  }
  process.stderr.write(`salient: unknown command "${command}"\n${USAGE}`);
  return 2;
}

const fail = (e: unknown) => {
  process.stderr.write(`salient: ${(e as Error).message}\n`);
  process.exitCode = 1;
};
try {
  const code = main(process.argv.slice(2));
  if (typeof code === "number") process.exitCode = code;
  else code.then((c) => (process.exitCode = c), fail);
} catch (e) {
  fail(e);
}

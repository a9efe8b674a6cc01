/** The `salient` command. */
import { parseArgs } from "node:util";
import { methodsText, runAttribute, runGallery } from "./attribute.ts";
import { runCompareModels } from "./compare-models.ts";
import { runDemo } from "./demo.ts";
import { runExplain } from "./explain.ts";
import { parseWindow, runLam } from "./lam.ts";
import { runModels } from "./models-list.ts";
import { DEMO_DEFAULTS, runReport } from "./report.ts";
import { runModel } from "./run-model.ts";
import { runUpscale } from "./upscale.ts";

const USAGE = `usage: salient <command> [options]

commands:
  demo [--out salient-report] [--models a,b] [--fold 50]   the main job: LAM of the bundled SR models
                                               and the classifier gallery, as an HTML report
  train-cnn [--steps 300] [--batch 32]         train a small CNN on Fashion-MNIST (engine demo)
  attribute --model M --image F --method NAME --out PREFIX   an attribution map (.npy + .png)
  gallery --model M --image F --methods a,b,c --out PREFIX   several methods side by side
  methods                                      list the attribution methods and their options
  lam --model M (--image HR | --lr LR) --window x,y[,size] --out PREFIX   LAM of an SR model
  compare-models [--models a,b] [--images a,b] --out PREFIX   LAM diffusion index vs PSNR, per model
  explain [--model multi-fashion] --image F --out PREFIX   per-class masks from a trained explainer
  run --model M --input x.npy|img.png [--input ...] --out PREFIX   one forward pass, outputs as .npy
  upscale --model M --image in.png --out out.png [--scale N] [--tile 64]   tiled super-resolution
  models [--json]                              the bundled and zoo models, sizes and licences
`;

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

function main(argv: string[]): number | Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return command ? 0 : 1;
  }
  if (command === "train-cnn") {
    const { values } = parseArgs({
      args: rest,
      options: {
        steps: { type: "string", default: "300" },
        batch: { type: "string", default: "32" },
        seed: { type: "string", default: "0" },
      },
    });
    runDemo({
      steps: positive("steps", values.steps),
      batch: positive("batch", values.batch),
      seed: Number(values.seed),
      log: (s) => console.log(s),
    });
    return 0;
  }
  if (command === "demo") {
    const { values } = parseArgs({
      args: rest,
      options: {
        out: { type: "string", default: "salient-report" },
        models: { type: "string" },
        photo: { type: "string" },
        window: { type: "string" },
        fold: { type: "string" },
      },
    });
    return runReport({
      ...DEMO_DEFAULTS,
      out: values.out,
      ...(values.models ? { models: values.models.split(",") } : {}),
      ...(values.photo ? { photo: values.photo } : {}),
      ...(values.window ? { window: parseWindow(values.window) } : {}),
      ...(values.fold ? { fold: positive("fold", values.fold) } : {}),
      log: (s) => console.log(s),
    }).then((index) => {
      console.log(`report: ${index}`);
      return 0;
    });
  }
  if (command === "attribute") {
    return runAttribute(rest, (line) => console.log(line)).then(() => 0);
  }
  if (command === "explain") return runExplain(rest, (line) => console.log(line)).then(() => 0);
  if (command === "gallery") return runGallery(rest, (line) => console.log(line)).then(() => 0);
  if (command === "lam") return runLam(rest, (line) => console.log(line)).then(() => 0);
  if (command === "compare-models") {
    return runCompareModels(rest, (line) => console.log(line)).then(() => 0);
  }
  if (command === "run") return runModel(rest, (line) => console.log(line)).then(() => 0);
  if (command === "upscale") return runUpscale(rest, (line) => console.log(line)).then(() => 0);
  if (command === "models") {
    runModels(rest, (text) => process.stdout.write(text));
    return 0;
  }
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

/**
 * The `salient` command line: dispatch, `--help` for the program and for every command,
 * `--version`, and exit statuses (0 done, 1 failed, 2 usage error; usage errors suggest the
 * nearest command or flag). `salient` alone prints the usage on stderr and exits 1, as git does.
 */

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { setImportLimits } from "../models/io/limits.ts";
import {
  UPSCALER_PACKAGES,
  type UpscalerPackage,
  upscalerInstalled,
} from "../models/io/tfjs/node.ts";
import { APP_SPEC, runApp } from "./app.ts";
import {
  type CommandSpec,
  didYouMean,
  helpText,
  numberFlag,
  parseFlags,
  UsageError,
} from "./args.ts";
import { ATTRIBUTE_SPEC, methodsText, runAttribute } from "./attribute.ts";
import { BATCH_SPEC, runBatch } from "./batch.ts";
import { CEM_SPEC, runCem } from "./cem.ts";
import { COMPARE_SPEC, runCompareModels } from "./compare-models.ts";
import { DDR_SPEC, runDdr } from "./ddr.ts";
import { runDemo } from "./demo.ts";
import { EVALUATE_SPEC, runEvaluate } from "./evaluate.ts";
import { EXPLAIN_SPEC, runExplain } from "./explain.ts";
import { FAIG_SPEC, runFaig } from "./faig.ts";
import { GALLERY_SPEC, runGallery } from "./gallery.ts";
import { LAM_SPEC, parseWindow, runLam } from "./lam.ts";
import { LAYERS_SPEC, runLayers } from "./layers.ts";
import { applyLimitEnv, cliLimitHint, LIMIT_ENV } from "./limits-env.ts";
import { LOCALIZE_SPEC, runLocalize } from "./localize.ts";
import { MERGE_SPEC, runMerge } from "./merge.ts";
import { MODELS_SPEC, runModels } from "./models-list.ts";
import { packageVersion } from "./package-files.ts";
import { DEMO_DEFAULTS, runReport } from "./report.ts";
import { RUN_SPEC, runModel } from "./run-model.ts";
import { runSrga, SRGA_SPEC } from "./srga.ts";
import { runUpscale, UPSCALE_SPEC } from "./upscale.ts";

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const DEMO_SPEC: CommandSpec = {
  name: "demo",
  summary:
    "the main job on bundled defaults: LAM of the bundled SR models and the classifier gallery, as an HTML report",
  synopsis: "[--out salient-report] [--models a,b] [--fold 50] [--photo NAME] [--window x,y,size]",
  flags: {
    out: {
      value: "DIR",
      default: "salient-report",
      help: "the report folder (DIR/index.html and its pictures), replaced as a whole when done",
    },
    models: { value: "a,b", default: DEMO_DEFAULTS.models.join(","), help: "SR models for LAM" },
    photo: {
      value: "NAME|FILE",
      default: DEMO_DEFAULTS.photo,
      help: "bundled photo (astronaut, chelsea, coffee, rocket, brick) or an HR image",
    },
    window: {
      value: "x,y,size",
      default: `${DEMO_DEFAULTS.window.x},${DEMO_DEFAULTS.window.y},${DEMO_DEFAULTS.window.size}`,
      help: "LAM window in HR pixels (x column, y row)",
    },
    fold: { value: "N", default: String(DEMO_DEFAULTS.fold), help: "LAM path steps" },
    methods: {
      value: "a,b",
      default: DEMO_DEFAULTS.methods.join(","),
      help: "attribution methods of the classifier gallery",
    },
  },
  notes: "prints progress lines, then a JSON line with the report's index.html.",
};

const TRAIN_SPEC: CommandSpec = {
  name: "train-cnn",
  summary: "train a small CNN on Fashion-MNIST and print the loss falling (an engine demo)",
  synopsis: "[--steps 300] [--batch 32] [--seed 0]",
  flags: {
    steps: { value: "N", default: "300", help: "Adam steps" },
    batch: { value: "N", default: "32", help: "batch size" },
    seed: { value: "N", default: "0", help: "seed of the initialisation and batches" },
  },
  notes: "needs Debian's Fashion-MNIST (apt-get install dataset-fashion-mnist); writes no files.",
};

const METHODS_SPEC: CommandSpec = {
  name: "methods",
  summary: "list the attribution methods and their options",
  synopsis: "",
  flags: {},
};

interface Command {
  spec: CommandSpec;
  run(args: string[], io: CliIo): Promise<void> | void;
}

/**
 * The demo's default SR models that can run here: the UpscalerJS packages are optional peer
 * dependencies, so a fresh install has only bicubic; say what to install for the rest.
 */
function installedDemoModels(log: (s: string) => void): string[] {
  const missing = DEMO_DEFAULTS.models.filter(
    (m) =>
      (UPSCALER_PACKAGES as readonly string[]).includes(m) &&
      !upscalerInstalled(m as UpscalerPackage),
  );
  if (missing.length > 0) {
    log(
      `note: ${missing.join(", ")} not installed, so the demo leaves them out (npm install ${missing.map((m) => `@upscalerjs/${m}`).join(" ")})`,
    );
  }
  return DEMO_DEFAULTS.models.filter((m) => !missing.includes(m));
}

const line = (io: CliIo) => (s: string) => io.out(`${s}\n`);

export const COMMANDS: Readonly<Record<string, Command>> = {
  demo: {
    spec: DEMO_SPEC,
    async run(args, io) {
      const v = parseFlags(DEMO_SPEC, args);
      const list = (s: string) => s.split(",").map((x) => x.trim());
      const given = args.some((a) => a === "--models" || a.startsWith("--models="));
      const index = await runReport({
        out: v.out!,
        photo: v.photo!,
        window: parseWindow(v.window!),
        models: given ? list(v.models!) : installedDemoModels(line(io)),
        fold: numberFlag("fold", v.fold, { integer: true, min: 1, max: 100000 }, 50),
        methods: list(v.methods!),
        log: line(io),
      });
      const files = readdirSync(v.out!)
        .sort()
        .map((f) => join(v.out!, f));
      io.out(`report: ${index}\n${JSON.stringify({ report: index, files })}\n`);
    },
  },
  "train-cnn": {
    spec: TRAIN_SPEC,
    run(args, io) {
      const v = parseFlags(TRAIN_SPEC, args);
      const positive = { integer: true, min: 1, max: 1000000 };
      runDemo({
        steps: numberFlag("steps", v.steps, positive, 300),
        batch: numberFlag("batch", v.batch, positive, 32),
        seed: numberFlag("seed", v.seed, { integer: true, min: 0 }, 0),
        log: line(io),
      });
    },
  },
  attribute: { spec: ATTRIBUTE_SPEC, run: (a, io) => runAttribute(a, line(io)).then(() => {}) },
  gallery: { spec: GALLERY_SPEC, run: (a, io) => runGallery(a, line(io)).then(() => {}) },
  methods: {
    spec: METHODS_SPEC,
    run(args, io) {
      parseFlags(METHODS_SPEC, args);
      io.out(methodsText());
    },
  },
  lam: { spec: LAM_SPEC, run: (a, io) => runLam(a, line(io)) },
  faig: { spec: FAIG_SPEC, run: (a, io) => runFaig(a, line(io)) },
  srga: { spec: SRGA_SPEC, run: (a, io) => runSrga(a, line(io)) },
  ddr: { spec: DDR_SPEC, run: (a, io) => runDdr(a, line(io)) },
  cem: { spec: CEM_SPEC, run: (a, io) => runCem(a, line(io)) },
  app: { spec: APP_SPEC, run: (a, io) => runApp(a, line(io)) },
  layers: { spec: LAYERS_SPEC, run: (a, io) => runLayers(a, line(io)) },
  "compare-models": {
    spec: COMPARE_SPEC,
    run: (a, io) => runCompareModels(a, line(io)).then(() => {}),
  },
  explain: { spec: EXPLAIN_SPEC, run: (a, io) => runExplain(a, line(io)).then(() => {}) },
  localize: { spec: LOCALIZE_SPEC, run: (a, io) => runLocalize(a, line(io)).then(() => {}) },
  evaluate: { spec: EVALUATE_SPEC, run: (a, io) => runEvaluate(a, line(io)).then(() => {}) },
  run: { spec: RUN_SPEC, run: (a, io) => runModel(a, line(io)).then(() => {}) },
  upscale: { spec: UPSCALE_SPEC, run: (a, io) => runUpscale(a, line(io)).then(() => {}) },
  models: {
    spec: MODELS_SPEC,
    run(args, io) {
      runModels(args, io.out);
    },
  },
  batch: { spec: BATCH_SPEC, run: (a, io) => runBatch(a, line(io)).then(() => {}) },
  merge: { spec: MERGE_SPEC, run: (a, io) => runMerge(a, line(io)).then(() => {}) },
};

export function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return `usage: salient <command> [options]

commands:
${names.map((n) => `  ${n.padEnd(width)}${COMMANDS[n].spec.summary}`).join("\n")}

salient <command> --help   that command's options and defaults
salient --version          the version
--out PREFIX means a path prefix everywhere (PREFIX.npy, PREFIX.png, ...); demo's --out is a folder.

environment: limits on what an input file may declare, raised for trusted files:
${Object.values(LIMIT_ENV).join(", ")}
`;
}

const isHelp = (a: string) => a === "--help" || a === "-h";

/** Runs the command line `argv` (without node and the script); resolves to the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.err(usage());
    return 1;
  }
  if (isHelp(command)) {
    io.out(usage());
    return 0;
  }
  if (command === "--version" || command === "-v") {
    io.out(`${packageVersion()}\n`);
    return 0;
  }
  try {
    const cmd = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!cmd) {
      const names = Object.keys(COMMANDS);
      const what = command.startsWith("-") ? "option" : "command";
      throw new UsageError(
        `unknown ${what} "${command}"${didYouMean(command, names, (s) => `"${s}"`)} (commands: ${names.join(", ")}; see salient --help)`,
      );
    }
    if (rest.some(isHelp)) {
      io.out(helpText(cmd.spec));
      return 0;
    }
    const previous = applyLimitEnv(process.env);
    try {
      await cmd.run(rest, io);
    } finally {
      setImportLimits(previous);
    }
    return 0;
  } catch (e) {
    io.err(`salient: ${cliLimitHint((e as Error).message)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

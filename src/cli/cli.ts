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
import {
  type CommandSpec,
  didYouMean,
  helpText,
  numberFlag,
  parseFlags,
  UsageError,
} from "./args.ts";
import { applyLimitEnv, cliLimitHint, LIMIT_ENV } from "./limits-env.ts";
import { packageVersion } from "./package-files.ts";

type DemoDefaults = typeof import("./report.ts").DEMO_DEFAULTS;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

function demoSpec(d: DemoDefaults): CommandSpec {
  return {
    name: "demo",
    summary:
      "the main job on bundled defaults: LAM of the bundled SR models and the classifier gallery, as an HTML report",
    synopsis:
      "[--out salient-report] [--models a,b] [--fold 50] [--photo NAME] [--window x,y,size]",
    flags: {
      out: {
        value: "DIR",
        default: "salient-report",
        help: "the report folder (DIR/index.html and its pictures), replaced as a whole when done",
      },
      models: { value: "a,b", default: d.models.join(","), help: "SR models for LAM" },
      photo: {
        value: "NAME|FILE",
        default: d.photo,
        help: "bundled photo (astronaut, chelsea, coffee, rocket, brick) or an HR image",
      },
      window: {
        value: "x,y,size",
        default: `${d.window.x},${d.window.y},${d.window.size}`,
        help: "LAM window in HR pixels (x column, y row)",
      },
      fold: { value: "N", default: String(d.fold), help: "LAM path steps" },
      methods: {
        value: "a,b",
        default: d.methods.join(","),
        help: "attribution methods of the classifier gallery",
      },
    },
    notes: "prints progress lines, then a JSON line with the report's index.html.",
  };
}

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

export interface Command {
  spec: CommandSpec;
  run(args: string[], io: CliIo): Promise<void> | void;
}

/**
 * The demo's default SR models that can run here: the UpscalerJS packages are optional peer
 * dependencies, so a fresh install has only bicubic; say what to install for the rest.
 */
function installedDemoModels(d: DemoDefaults, log: (s: string) => void): string[] {
  const missing = d.models.filter(
    (m) =>
      (UPSCALER_PACKAGES as readonly string[]).includes(m) &&
      !upscalerInstalled(m as UpscalerPackage),
  );
  if (missing.length > 0) {
    log(
      `note: ${missing.join(", ")} not installed, so the demo leaves them out (npm install ${missing.map((m) => `@upscalerjs/${m}`).join(" ")})`,
    );
  }
  return d.models.filter((m) => !missing.includes(m));
}

const line = (io: CliIo) => (s: string) => io.out(`${s}\n`);
const done = () => {};

/**
 * Every command, loaded on demand: a run imports only its own command's modules (start-up of
 * `salient lam` does not pay for the classifiers, the app or the report), `--help` of a command
 * only that command's, and the program's usage all of them.
 */
export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  demo: async () => {
    const { DEMO_DEFAULTS, runReport } = await import("./report.ts");
    const { parseWindow } = await import("./lam.ts");
    const spec = demoSpec(DEMO_DEFAULTS);
    return {
      spec,
      async run(args, io) {
        const v = parseFlags(spec, args);
        const list = (s: string) => s.split(",").map((x) => x.trim());
        const given = args.some((a) => a === "--models" || a.startsWith("--models="));
        const index = await runReport({
          out: v.out!,
          photo: v.photo!,
          window: parseWindow(v.window!),
          models: given ? list(v.models!) : installedDemoModels(DEMO_DEFAULTS, line(io)),
          fold: numberFlag("fold", v.fold, { integer: true, min: 1, max: 100000 }, 50),
          methods: list(v.methods!),
          log: line(io),
        });
        const files = readdirSync(v.out!)
          .sort()
          .map((f) => join(v.out!, f));
        io.out(`report: ${index}\n${JSON.stringify({ report: index, files })}\n`);
      },
    };
  },
  "train-cnn": async () => ({
    spec: TRAIN_SPEC,
    async run(args, io) {
      const v = parseFlags(TRAIN_SPEC, args);
      const positive = { integer: true, min: 1, max: 1000000 };
      const { runDemo } = await import("./demo.ts");
      runDemo({
        steps: numberFlag("steps", v.steps, positive, 300),
        batch: numberFlag("batch", v.batch, positive, 32),
        seed: numberFlag("seed", v.seed, { integer: true, min: 0 }, 0),
        log: line(io),
      });
    },
  }),
  attribute: async () => {
    const m = await import("./attribute.ts");
    return { spec: m.ATTRIBUTE_SPEC, run: (a, io) => m.runAttribute(a, line(io)).then(done) };
  },
  gallery: async () => {
    const m = await import("./gallery.ts");
    return { spec: m.GALLERY_SPEC, run: (a, io) => m.runGallery(a, line(io)).then(done) };
  },
  methods: async () => ({
    spec: METHODS_SPEC,
    async run(args, io) {
      parseFlags(METHODS_SPEC, args);
      io.out((await import("./attribute.ts")).methodsText());
    },
  }),
  lam: async () => {
    const m = await import("./lam.ts");
    return { spec: m.LAM_SPEC, run: (a, io) => m.runLam(a, line(io)) };
  },
  faig: async () => {
    const m = await import("./faig.ts");
    return { spec: m.FAIG_SPEC, run: (a, io) => m.runFaig(a, line(io)) };
  },
  srga: async () => {
    const m = await import("./srga.ts");
    return { spec: m.SRGA_SPEC, run: (a, io) => m.runSrga(a, line(io)) };
  },
  ddr: async () => {
    const m = await import("./ddr.ts");
    return { spec: m.DDR_SPEC, run: (a, io) => m.runDdr(a, line(io)) };
  },
  cem: async () => {
    const m = await import("./cem.ts");
    return { spec: m.CEM_SPEC, run: (a, io) => m.runCem(a, line(io)) };
  },
  app: async () => {
    const m = await import("./app.ts");
    return { spec: m.APP_SPEC, run: (a, io) => m.runApp(a, line(io)) };
  },
  layers: async () => {
    const m = await import("./layers.ts");
    return { spec: m.LAYERS_SPEC, run: (a, io) => m.runLayers(a, line(io)) };
  },
  "compare-models": async () => {
    const m = await import("./compare-models.ts");
    return { spec: m.COMPARE_SPEC, run: (a, io) => m.runCompareModels(a, line(io)).then(done) };
  },
  explain: async () => {
    const m = await import("./explain.ts");
    return { spec: m.EXPLAIN_SPEC, run: (a, io) => m.runExplain(a, line(io)).then(done) };
  },
  localize: async () => {
    const m = await import("./localize.ts");
    return { spec: m.LOCALIZE_SPEC, run: (a, io) => m.runLocalize(a, line(io)).then(done) };
  },
  evaluate: async () => {
    const m = await import("./evaluate.ts");
    return { spec: m.EVALUATE_SPEC, run: (a, io) => m.runEvaluate(a, line(io)).then(done) };
  },
  run: async () => {
    const m = await import("./run-model.ts");
    return { spec: m.RUN_SPEC, run: (a, io) => m.runModel(a, line(io)).then(done) };
  },
  upscale: async () => {
    const m = await import("./upscale.ts");
    return { spec: m.UPSCALE_SPEC, run: (a, io) => m.runUpscale(a, line(io)).then(done) };
  },
  models: async () => {
    const m = await import("./models-list.ts");
    return {
      spec: m.MODELS_SPEC,
      run(a, io) {
        m.runModels(a, io.out);
      },
    };
  },
  batch: async () => {
    const m = await import("./batch.ts");
    return { spec: m.BATCH_SPEC, run: (a, io) => m.runBatch(a, line(io)).then(done) };
  },
  merge: async () => {
    const m = await import("./merge.ts");
    return { spec: m.MERGE_SPEC, run: (a, io) => m.runMerge(a, line(io)).then(done) };
  },
};

/** Every command, loaded (the program's usage lists their summaries; tests walk their specs). */
export async function loadCommands(): Promise<Record<string, Command>> {
  const names = Object.keys(COMMANDS);
  const loaded = await Promise.all(names.map((n) => COMMANDS[n]()));
  return Object.fromEntries(names.map((n, i) => [n, loaded[i]]));
}

export async function usage(): Promise<string> {
  const commands = await loadCommands();
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return `usage: salient <command> [options]

commands:
${names.map((n) => `  ${n.padEnd(width)}${commands[n].spec.summary}`).join("\n")}

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
    io.err(await usage());
    return 1;
  }
  if (isHelp(command)) {
    io.out(await usage());
    return 0;
  }
  if (command === "--version" || command === "-v") {
    io.out(`${packageVersion()}\n`);
    return 0;
  }
  try {
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!load) {
      const names = Object.keys(COMMANDS);
      const what = command.startsWith("-") ? "option" : "command";
      throw new UsageError(
        `unknown ${what} "${command}"${didYouMean(command, names, (s) => `"${s}"`)} (commands: ${names.join(", ")}; see salient --help)`,
      );
    }
    const cmd = await load();
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

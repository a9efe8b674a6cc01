/**
 * `salient faig`: filter attribution by integrated gradients between a baseline SR network and a
 * target one of the same architecture. Writes PREFIX.json (every conv filter's score) and prints
 * a JSON line whose `top` lists {layer, filter, score} in descending score, with the output change
 * when the top 1/5/10% of filters take the baseline's values (against as many random filters).
 */
import {
  contrastScores,
  type FaigResult,
  type FaigSample,
  faig,
  type LayerFilterScores,
  maskEffects,
  rankFilters,
} from "../attribution/sr/faig.ts";
import { type CommandSpec, numberFlag, parseFlags } from "./args.ts";
import { outPrefix, writeOutputs } from "./output-set.ts";
import { progressBar } from "./progress.ts";
import {
  type Degradation,
  describeDegradation,
  imageFiles,
  parseDegradation,
  type SrPair,
  srPair,
} from "./sr-image-sets.ts";
import { resolveSrModule, SR_MODULE_FLAGS, SR_SET_FLAGS, type SrModule } from "./sr-modules.ts";

export const FAIG_SPEC: CommandSpec = {
  name: "faig",
  summary:
    "FAIG: which conv filters of an SR network matter for a degradation (integrated gradients in parameter space from a baseline network)",
  synopsis:
    "--baseline-model A --model B (--image I | --images DIR) [--arch NAME] [--steps 100] --out PREFIX",
  flags: {
    "baseline-model": {
      value: "A",
      required: true,
      help: "the network the path starts from (e.g. trained without the degradation): fsrcnn-x2 | file.onnx | weights with --arch",
    },
    model: {
      value: "B",
      required: true,
      help: "the target network, same architecture (e.g. fine-tuned for the degradation)",
    },
    ...SR_MODULE_FLAGS,
    image: { value: "HR.png", help: "one HR image (downscaled, then degraded)" },
    images: { value: "DIR", help: "a folder of HR images (.png/.jpg)" },
    ...SR_SET_FLAGS,
    degradation: {
      value: "KIND",
      default: "none",
      help: "degradation of the LR images: none | blur:S | noise:S",
    },
    contrast: {
      value: "KIND",
      help: "a second degradation; scores become FAIG(--degradation) - FAIG(--contrast)",
    },
    steps: { value: "N", default: "100", help: "steps along the parameter path" },
    top: { value: "N", default: "20", help: "filters listed in the printed JSON" },
    seed: { value: "N", default: "0", help: "seed of the noise and of the random-mask comparison" },
    out: {
      value: "PREFIX",
      required: true,
      help: "writes PREFIX.json (every filter's score per layer); a trailing .json is dropped",
    },
  },
  notes:
    "The loss is the MSE between the SR output and the HR image. Prints a JSON line last: top, mask effects, losses, completeness delta.",
};

async function faigOn(
  target: SrModule,
  baseline: SrModule,
  pairs: readonly SrPair[],
  steps: number,
  label: string,
): Promise<FaigResult> {
  const samples: FaigSample[] = pairs.map((p) => ({ input: p.lr, target: p.hr }));
  const bar = progressBar(`FAIG ${label}`, steps * samples.length);
  try {
    return await faig(target.module, baseline.module, target.run, samples, {
      steps,
      onProgress: (d) => bar.update(d),
    });
  } finally {
    bar.stop();
  }
}

export async function runFaig(args: string[], log: (line: string) => void): Promise<void> {
  const v = parseFlags(FAIG_SPEC, args);
  const scale = numberFlag("scale", v.scale, { integer: true, min: 2, max: 16 }, 2);
  const range = numberFlag("range", v.range, { min: 0, minExclusive: true }, 1);
  const steps = numberFlag("steps", v.steps, { integer: true, min: 1, max: 100000 }, 100);
  const crop = numberFlag("crop", v.crop, { integer: true, min: 0 }, 96);
  const topN = numberFlag("top", v.top, { integer: true, min: 1 }, 20);
  const seed = numberFlag("seed", v.seed, { integer: true, min: 0 }, 0);
  const degradation = parseDegradation(v.degradation!, "degradation");
  const contrast: Degradation | null = v.contrast ? parseDegradation(v.contrast, "contrast") : null;
  const files = imageFiles(v.image, v.images);
  const prefix = outPrefix(v.out!, [".json"]);
  const target = resolveSrModule({ model: v.model!, scale, arch: v.arch, range });
  const baseline = resolveSrModule(
    { model: v["baseline-model"]!, scale, arch: v.arch, range },
    "baseline-model",
  );
  const sets = [degradation, ...(contrast ? [contrast] : [])].map((d) =>
    files.map((f, i) => srPair(f, scale, crop, d, seed + i)),
  );
  try {
    const results: FaigResult[] = [];
    for (const [i, pairs] of sets.entries())
      results.push(
        await faigOn(
          target,
          baseline,
          pairs,
          steps,
          describeDegradation(i ? contrast! : degradation),
        ),
      );
    const layers: LayerFilterScores[] = contrast
      ? contrastScores(results[0], results[1])
      : results[0].layers;
    const ranking = rankFilters(layers);
    const effects = await maskEffects(
      target.module,
      baseline.module,
      target.run,
      sets[0].map((p) => p.lr),
      ranking,
      [0.01, 0.05, 0.1],
      seed,
    );
    const json = {
      baseline: baseline.name,
      model: target.name,
      degradation: describeDegradation(degradation),
      contrast: contrast ? describeDegradation(contrast) : null,
      steps,
      images: files,
      layers: layers.map((l) => ({
        layer: l.layer,
        weight_shape: l.weightShape,
        scores: [...l.scores],
      })),
    };
    const written = writeOutputs([[`${prefix}.json`, `${JSON.stringify(json)}\n`]]);
    log(
      JSON.stringify({
        baseline: baseline.name,
        model: target.name,
        degradation: json.degradation,
        contrast: json.contrast,
        images: files.length,
        steps,
        filters: ranking.length,
        top: ranking.slice(0, topN),
        mask: effects.map((e) => ({
          fraction: e.fraction,
          filters: e.filters,
          mse_top: e.topMse,
          mse_random: e.randomMse,
        })),
        loss_baseline: results[0].lossBaseline,
        loss_target: results[0].lossTarget,
        delta: results[0].delta,
        files: written,
      }),
    );
  } finally {
    for (const set of sets)
      for (const p of set) {
        p.lr.dispose();
        p.hr.dispose();
      }
  }
}

/**
 * What the explainer training scripts (explainer.ts, explainer-finetune.ts) share: the progress
 * log of the training loop and writing the trained weights with their training summary.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import type { TermValues, TrainExplainerResult } from "../../src/models/train/train-explainer.ts";
import type { ExplainerNet } from "../../src/models/unet/explainer-net.ts";

/** Where the bundled explainer's weights live, relative to the repository root. */
export const WEIGHTS_DIR = join(process.cwd(), "src/attribution/explainer/weights");

/** trainExplainer's onStep/onCheck that print the mean of `keys` every `every` steps and each check. */
export function progressLog(keys: readonly (keyof TermValues)[], every = 10) {
  let window: TermValues[] = [];
  const mean = (k: keyof TermValues) => window.reduce((a, t) => a + t[k], 0) / window.length;
  return {
    onStep(step: number, terms: TermValues) {
      window.push(terms);
      if (step % every === 0) {
        const parts = keys.map((k) => `${k} ${mean(k).toFixed(4)}`).join(", ");
        console.log(`step ${step} loss ${mean("total").toFixed(4)} (${parts})`);
        window = [];
      }
    },
    onCheck(step: number, v: number, improved: boolean) {
      console.log(
        `  check at step ${step}: validation loss ${v.toFixed(4)}${improved ? " (best)" : ""}`,
      );
    },
  };
}

/**
 * Writes the explainer as src/attribution/explainer/weights/explainer{tag}.safetensors (the bundled
 * file's format, with `summary` as its training metadata) and the summary as
 * docs/explainer-training{tag}.json; returns the weights file's size in bytes.
 */
export function writeExplainerRun(explainer: ExplainerNet, summary: object, tag: string): number {
  const tensors = new Map(
    [...explainer.stateDict()].map(([k, v]) => [
      k,
      { shape: [...v.shape], values: v.dataSync() as Float32Array },
    ]),
  );
  const bytes = writeSafetensors(tensors, {
    arch: "ExplainerNet",
    channels: explainer.channels.join(","),
    classes: String(explainer.classes),
    training: JSON.stringify(summary),
  });
  writeFileSync(join(WEIGHTS_DIR, `explainer${tag}.safetensors`), bytes);
  writeFileSync(
    join(process.cwd(), `docs/explainer-training${tag}.json`),
    `${JSON.stringify(summary, null, 2)}\n`,
  );
  return bytes.length;
}

/** Prints how the run ended and returns its summary (written beside the weights) with `recipe`. */
export function runSummary(
  result: TrainExplainerResult,
  initialValidationLoss: number,
  recipe: object,
) {
  console.log(
    `${result.steps} steps in ${result.minutes.toFixed(1)} min; best check at step ${result.bestStep}; ${result.stoppedEarly ? "stopped early" : "stopped by the step or time budget"}`,
  );
  return {
    steps: result.steps,
    minutes: Number(result.minutes.toFixed(2)),
    bestStep: result.bestStep,
    stoppedEarly: result.stoppedEarly,
    initialValidationLoss,
    checks: result.checks,
    recipe,
  };
}

/** Deep features of an image set for the feature-space commands (srga, ddr). */
import { deepFeatures } from "../attribution/sr/deep-features.ts";
import { type Degradation, srPair } from "./sr-image-sets.ts";
import type { SrModule } from "./sr-modules.ts";

export interface FeatureSetOptions {
  scale: number;
  crop: number;
  layer: string;
  cell: number;
  seed: number;
}

/** Cell-pooled deep features of every image of `files` under `degradation`, in file order. */
export function featureSet(
  sr: SrModule,
  files: readonly string[],
  degradation: Degradation,
  o: FeatureSetOptions,
): Float64Array[] {
  const out: Float64Array[] = [];
  files.forEach((f, i) => {
    const p = srPair(f, o.scale, o.crop, degradation, o.seed + i);
    try {
      out.push(...deepFeatures(sr.run, p.lr, o.layer, o.cell));
    } finally {
      p.lr.dispose();
      p.hr.dispose();
    }
  });
  return out;
}

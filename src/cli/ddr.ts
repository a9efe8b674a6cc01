/**
 * `salient ddr`: deep degradation representations. An SR network's deep features of one image
 * set under several degradations, reduced by PCA and embedded in 2-D by exact t-SNE, coloured by
 * degradation: do the degradations form clusters in the network's feature space? Writes
 * PREFIX.json, PREFIX.svg (t-SNE) and PREFIX-pca.svg, and prints a JSON line with the fraction of
 * points whose nearest neighbour has the same degradation (1: clean clusters; 1 / K: mixed).
 */
import { pca, projectRows } from "../attribution/sr/srga.ts";
import { nearestNeighbourAgreement, trustworthiness, tsne } from "../attribution/sr/tsne.ts";
import { groupedScatterSvg } from "../viz/grouped-scatter-svg.ts";
import { type CommandSpec, numberFlag, parseFlags, UsageError } from "./args.ts";
import { outPrefix, writeOutputs } from "./output-set.ts";
import { featureSet } from "./sr-features.ts";
import { describeDegradation, imageFiles, parseDegradation } from "./sr-image-sets.ts";
import { FEATURE_FLAGS, featureOptions } from "./srga.ts";

export const DDR_SPEC: CommandSpec = {
  name: "ddr",
  summary:
    "DDR: an SR network's deep features under several degradations, PCA + t-SNE, coloured by degradation",
  synopsis:
    "--model M [--arch NAME] (--image I | --images DIR) [--degradations none,blur:1.5,noise:0.05] --out PREFIX",
  flags: {
    ...FEATURE_FLAGS,
    image: { value: "HR.png", help: "one HR image" },
    images: { value: "DIR", help: "a folder of HR images (.png/.jpg)" },
    degradations: {
      value: "LIST",
      default: "none,blur:1.5,noise:0.05",
      help: "comma-separated degradations (none | blur:S | noise:S), one colour each",
    },
    pca: { value: "N", default: "10", help: "principal components kept before t-SNE" },
    perplexity: {
      value: "P",
      default: "20",
      help: "t-SNE perplexity (clipped below the point count)",
    },
    iterations: { value: "N", default: "1000", help: "t-SNE iterations" },
    "max-points": {
      value: "N",
      default: "400",
      help: "at most N feature vectors (evenly subsampled per degradation); exact t-SNE is O(N^2)",
    },
    out: {
      value: "PREFIX",
      required: true,
      help: "writes PREFIX.json, PREFIX.svg, PREFIX-pca.svg",
    },
  },
};

/** Every k-th element so that at most `max` remain (deterministic). */
const thin = <T>(xs: readonly T[], max: number): T[] =>
  xs.length <= max
    ? xs.slice()
    : Array.from({ length: max }, (_, i) => xs[Math.floor((i * xs.length) / max)]);

export async function runDdr(args: string[], log: (line: string) => void): Promise<void> {
  const v = parseFlags(DDR_SPEC, args);
  const degradations = v
    .degradations!.split(",")
    .map((d) => parseDegradation(d.trim(), "degradations"));
  if (degradations.length < 2)
    throw new UsageError(
      `--degradations needs at least two entries to compare, got "${v.degradations}"`,
    );
  const k = numberFlag("pca", v.pca, { integer: true, min: 2 }, 10);
  const iterations = numberFlag("iterations", v.iterations, { integer: true, min: 1 }, 1000);
  const maxPoints = numberFlag("max-points", v["max-points"], { integer: true, min: 6 }, 400);
  const files = imageFiles(v.image, v.images);
  const prefix = outPrefix(v.out!, [".json", ".svg"]);
  const { sr, options } = featureOptions(v);
  const per = Math.max(2, Math.floor(maxPoints / degradations.length));
  const rows: Float64Array[] = [];
  const labels: string[] = [];
  for (const d of degradations) {
    const set = thin(featureSet(sr, files, d, options), per);
    rows.push(...set);
    labels.push(...set.map(() => describeDegradation(d)));
  }
  const n = rows.length;
  if (n < 6)
    throw new UsageError(
      `ddr: only ${n} feature vectors; use more images, a larger --crop or a smaller --cell`,
    );
  const perplexity = Math.min(
    numberFlag("perplexity", v.perplexity, { min: 1, minExclusive: true }, 20),
    (n - 1) / 3,
  );
  const { mean, axes } = pca(rows, k);
  const reduced = projectRows(rows, mean, axes);
  const embedded = tsne(reduced, { perplexity, iterations, seed: options.seed });
  const points = (xy: ArrayLike<number>[]) =>
    xy.map((p, i) => ({ x: p[0], y: p[1] ?? 0, group: labels[i] }));
  const agreement = nearestNeighbourAgreement(embedded, labels);
  const agreementPca = nearestNeighbourAgreement(reduced, labels);
  const trust = trustworthiness(reduced, embedded, Math.max(1, Math.min(5, Math.floor(n / 4))));
  const json = {
    model: sr.name,
    layer: options.layer,
    degradations: degradations.map(describeDegradation),
    images: files,
    perplexity,
    pca_components: axes.length,
    points: embedded.map((p, i) => ({
      degradation: labels[i],
      tsne: p,
      pca: [reduced[i][0], reduced[i][1]],
    })),
  };
  const written = writeOutputs([
    [`${prefix}.json`, `${JSON.stringify(json)}\n`],
    [
      `${prefix}.svg`,
      groupedScatterSvg(points(embedded), {
        title: `DDR t-SNE (${options.layer}, perplexity ${perplexity.toFixed(1)})`,
        xLabel: "t-SNE 1",
        yLabel: "t-SNE 2",
      }),
    ],
    [
      `${prefix}-pca.svg`,
      groupedScatterSvg(points(reduced), {
        title: `DDR PCA (${options.layer})`,
        xLabel: "PC 1",
        yLabel: "PC 2",
      }),
    ],
  ]);
  log(
    JSON.stringify({
      model: sr.name,
      layer: options.layer,
      points: n,
      degradations: json.degradations,
      nn_agreement_tsne: agreement,
      nn_agreement_pca: agreementPca,
      chance: 1 / degradations.length,
      trustworthiness: trust,
      files: written,
    }),
  );
}

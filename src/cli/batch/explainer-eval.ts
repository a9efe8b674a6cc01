/**
 * `salient batch --explainer-eval`: NN-Explainer's comparison table (attribution/explainer/
 * evaluate.ts) as batch items. An item is one held-out multi-object canvas (drawn from its index
 * and seed, with its true labels and masks), a key one method of the table; the record holds the
 * canvas's `ImageEvaluation`, which `salient merge` pools exactly as `evaluateMethod` does.
 */
import {
  BUNDLED_EXPLAINERS,
  loadExplainerPair,
  multiFashionClassifierWeights,
  multiFashionExplainerWeights,
} from "../../attribution/explainer/bundled.ts";
import { SEEDS } from "../../attribution/explainer/data.ts";
import {
  type ClassMapMethod,
  constantMethod,
  evaluateImage,
} from "../../attribution/explainer/evaluate.ts";
import {
  COMPARISON_DEFAULTS,
  comparisonMethods,
  explainerMethod,
} from "../../attribution/explainer/methods.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { loadFashionMnist } from "../../models/data/fashion-mnist-node.ts";
import {
  multiFashionSample,
  type SourcePool,
  sourcePool,
} from "../../models/data/multi-fashion.ts";
import { encodeNpy } from "../../viz/npy.ts";
import { didYouMean, numberFlag, UsageError } from "../args.ts";
import { letSignalsIn } from "../output-set.ts";
import type { BatchItem } from "./items.ts";
import type { BatchRecord, RunInfo } from "./records.ts";

const CONSTANT_ROWS = ["0", "0.5", "1", "perfect"] as const;

/** The table's rows in its order: the explainer, the library's methods, constants and oracle. */
export const EXPLAINER_EVAL_ROWS: readonly string[] = [
  "explainer",
  // Building the closures runs nothing, so any classifier serves to read the names.
  ...Object.keys(comparisonMethods((x) => x, "")),
  ...CONSTANT_ROWS,
];

/** A row's record key (a file name): "Grad-CAM" -> "grad-cam", "gradient saliency" -> "gradient-saliency". */
export const rowKey = (row: string) => row.toLowerCase().replace(/\s+/g, "-");

const ROW_OF_KEY = new Map(EXPLAINER_EVAL_ROWS.map((r) => [rowKey(r), r]));

/** The canvases' evaluation settings, fixed as the README's table was made. */
const SCORING = { tolerance: 4, threshold: 0, pixelsPerStep: 128 };

/** FNV-1a of the weights, so a resumed or parallel shard must use the same ones. */
function digest(...parts: Uint8Array[]): string {
  let h = 0x811c9dc5;
  for (const p of parts)
    for (const b of p) {
      h ^= b;
      h = Math.imul(h, 0x01000193);
    }
  return (h >>> 0).toString(16).padStart(8, "0");
}

export interface ExplainerEvalPlan {
  info: RunInfo;
  runItem(item: BatchItem, keys: string[], seed: number, log: (s: string) => void): Promise<void>;
}

/** Canvases 0..N-1 as items: id "canvas-000012", the canvas index in `canvas`. */
export function canvasItems(count: number, seed: number): BatchItem[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `canvas-${String(i).padStart(6, "0")}`,
    image: `multi-fashion canvas ${i} of seed ${seed}`,
    canvas: i,
  }));
}

/** The plan of an --explainer-eval run; `write` stores one record and its maps atomically. */
export function explainerEvalPlan(
  v: Record<string, string | undefined>,
  write: (rec: BatchRecord, npy?: Uint8Array) => void,
): ExplainerEvalPlan {
  if (v.images !== undefined || v.manifest !== undefined)
    throw new UsageError(
      "--explainer-eval draws its items as held-out canvases: give --canvases N, not --images or --manifest",
    );
  if (v.lam === "true") throw new UsageError("--explainer-eval and --lam are separate runs");
  if (!(BUNDLED_EXPLAINERS as readonly string[]).includes(v.model ?? ""))
    throw new UsageError(
      `--explainer-eval needs a bundled classifier + explainer pair as --model (${BUNDLED_EXPLAINERS.join(", ")}), got "${v.model}"`,
    );
  if (v.canvases === undefined) throw new UsageError("--explainer-eval needs --canvases N");
  const canvases = numberFlag("canvases", v.canvases, { integer: true, min: 1 });
  const canvasSeed = numberFlag(
    "canvas-seed",
    v["canvas-seed"],
    { integer: true, min: 0 },
    SEEDS.test,
  );
  const curveCanvases = Math.min(
    numberFlag("curve-canvases", v["curve-canvases"], { integer: true, min: 0 }, canvases),
    canvases,
  );
  const batchSize = numberFlag("batch-size", v["batch-size"], { integer: true, min: 1 }, 64);
  const given = (v.methods ?? EXPLAINER_EVAL_ROWS.map(rowKey).join(","))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const keys = given.map((m) => {
    const k = rowKey(m);
    if (!ROW_OF_KEY.has(k))
      throw new UsageError(
        `--methods: "${m}" is not a row of the explainer table${didYouMean(k, [...ROW_OF_KEY.keys()], (s) => `"${s}"`)} (rows: ${[...ROW_OF_KEY.keys()].join(", ")})`,
      );
    return k;
  });
  if (new Set(keys).size !== keys.length)
    throw new UsageError(`--methods names a row twice: ${v.methods}`);
  const info: RunInfo = {
    kind: "explainer-eval",
    settings: {
      model: v.model,
      weights: digest(multiFashionClassifierWeights(), multiFashionExplainerWeights()),
      canvas_seed: canvasSeed,
      curve_canvases: curveCanvases,
      ...SCORING,
      comparison: COMPARISON_DEFAULTS,
    },
    items: canvasItems(canvases, canvasSeed),
    keys,
  };

  let setup: {
    pool: SourcePool;
    classifier: (x: Tensor) => Tensor;
    methods: Map<string, ClassMapMethod>;
  } | null = null;
  const load = () => {
    if (setup) return setup;
    const pair = loadExplainerPair(v.model);
    const classifier = (x: Tensor) => pair.classifier.call(x);
    const library = comparisonMethods(classifier, pair.classifier.gradCamLayer);
    const methods = new Map<string, ClassMapMethod>();
    for (const k of keys) {
      const row = ROW_OF_KEY.get(k)!;
      methods.set(
        k,
        row === "explainer"
          ? explainerMethod((x) => pair.explainer.call(x))
          : (CONSTANT_ROWS as readonly string[]).includes(row)
            ? constantMethod(row as (typeof CONSTANT_ROWS)[number])
            : library[row],
      );
    }
    // The held-out pool: canvases of the Fashion-MNIST test split (explainer/data.ts).
    setup = { pool: sourcePool(loadFashionMnist("test")), classifier, methods };
    return setup;
  };

  return {
    info,
    async runItem(item, itemKeys) {
      const s = load();
      const index = item.canvas!;
      for (const key of itemKeys) {
        await letSignalsIn();
        const row = ROW_OF_KEY.get(key)!;
        try {
          const sample = multiFashionSample(s.pool, canvasSeed, index);
          const { evaluation, maps } = await evaluateImage(
            row,
            s.methods.get(key)!,
            s.classifier,
            sample,
            index,
            {
              ...SCORING,
              batchSize,
              curves: index < curveCanvases,
            },
          );
          const all = new Float32Array(maps.length * sample.size * sample.size);
          maps.forEach((m, k) => all.set(m, k * m.length));
          write(
            {
              id: item.id,
              image: item.image,
              key,
              status: "ok",
              method: row,
              canvas: index,
              evaluation,
              seconds: evaluation.seconds,
            },
            encodeNpy(all, [maps.length, sample.size, sample.size]),
          );
        } catch (e) {
          write({
            id: item.id,
            image: item.image,
            key,
            status: "failed",
            error: (e as Error).message,
          });
        }
      }
    },
  };
}

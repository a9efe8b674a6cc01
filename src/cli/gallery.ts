/**
 * `salient gallery`: several attribution methods on the same input and target, written side by
 * side as PREFIX.png and PREFIX.html (each panel captioned with its time and completeness delta).
 */

import { METHODS } from "../attribution/registry.ts";
import { FASHION_CLASSES } from "../models/data/classes.ts";
import { galleryHtml, galleryStrip } from "../viz/gallery.ts";
import { encodePng } from "../viz/image-io-node.ts";
import { enlarge, toRgb } from "../viz/overlay.ts";
import { formatSeconds } from "../viz/report-figures.ts";
import { type CommandSpec, didYouMean, numberFlag, parseFlags, UsageError } from "./args.ts";
import {
  attributeWith,
  COMMON_FLAGS,
  checkFlags,
  MAX_ZOOM,
  METHOD_FLAGS,
  NUMBER_RULES,
  prepare,
  render,
} from "./attribute.ts";
import { letSignalsIn, outPrefix, writeOutputs } from "./output-set.ts";
import { progressBar } from "./progress.ts";

const GALLERY_DEFAULT = "gradient,integrated-gradients,smoothgrad,gradcam,occlusion";

export const GALLERY_SPEC: CommandSpec = {
  name: "gallery",
  summary: "several attribution methods side by side: PREFIX.png and PREFIX.html",
  synopsis: "--model M --image FILE [--methods a,b,c] [options] --out PREFIX",
  flags: {
    ...COMMON_FLAGS,
    image: { ...COMMON_FLAGS.image, required: true },
    methods: { value: "a,b,c", default: GALLERY_DEFAULT, help: "the methods (salient methods)" },
    out: {
      value: "PREFIX",
      required: true,
      help: "writes PREFIX.png and PREFIX.html; a trailing .png/.html is dropped",
    },
    zoom: {
      value: "N",
      defaultText: "about 160 pixels per panel",
      help: `enlarge each panel N times (1 to ${MAX_ZOOM})`,
    },
    ...METHOD_FLAGS,
  },
  notes: "prints a JSON summary line last, with the files written.",
};

/** The target as "9: Ankle boot" where the bundled model's class names are known. */
function targetName(model: string, target: number): string {
  const name = model === "fashion-cnn" ? FASHION_CLASSES[target] : undefined;
  return name ? `${target}: ${name}` : String(target);
}

const GALLERY_METHODS = () => Object.keys(METHODS).filter((k) => !METHODS[k].noImage);

export async function runGallery(args: string[], log: (line: string) => void): Promise<string[]> {
  const values = parseFlags(GALLERY_SPEC, args);
  const names = values.methods!.split(",").map((s) => s.trim());
  for (const n of names) {
    if (!METHODS[n] || METHODS[n].noImage)
      throw new UsageError(
        `--methods: "${n}" is not an image method${didYouMean(n, GALLERY_METHODS(), (s) => `"${s}"`)} (known: ${GALLERY_METHODS().join(", ")})`,
      );
  }
  checkFlags(values);
  const prefix = outPrefix(values.out!, [".png", ".html"]);
  const p = await prepare(values, null);
  const bar = progressBar("gallery methods", names.length);
  try {
    const [, c, h, w] = p.x.shape;
    const zoom = numberFlag(
      "zoom",
      values.zoom,
      NUMBER_RULES.zoom,
      Math.max(1, Math.floor(160 / Math.max(h, w))),
    );
    const panels = [
      {
        title: `input (target ${targetName(p.resolved.name, p.target)}, logit ${p.score.toFixed(3)})`,
        image: enlarge(toRgb(p.image!, c, h, w), zoom),
        note: "",
      },
    ];
    for (const [i, n] of names.entries()) {
      bar.update(i, undefined, `gallery: ${n}`);
      await letSignalsIn();
      const { result, seconds } = await attributeWith(p, n, log);
      const map = Float32Array.from(await result.map.data());
      const img = render(
        { ...p, values: { ...values, zoom: String(zoom) } },
        METHODS[n],
        map,
        result.map.shape,
      );
      result.map.dispose();
      const delta = result.delta ? `, delta ${result.delta[0].toExponential(2)}` : "";
      panels.push({ title: n, image: img, note: `${formatSeconds(seconds)}${delta}` });
    }
    bar.stop();
    const html = galleryHtml(
      `salient: ${p.resolved.name}, target ${targetName(p.resolved.name, p.target)}`,
      panels.map((q) => ({ title: q.title, png: encodePng(q.image), note: q.note })),
      1,
    );
    const files = writeOutputs([
      [`${prefix}.png`, encodePng(galleryStrip(panels))],
      [`${prefix}.html`, html],
    ]);
    log(
      JSON.stringify({
        methods: names,
        target: p.target,
        score: p.score,
        png: files[0],
        html: files[1],
        files,
      }),
    );
    return files;
  } finally {
    bar.stop();
    p.x.dispose();
  }
}

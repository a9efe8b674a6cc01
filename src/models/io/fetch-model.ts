/**
 * Models from URLs (browsers, Deno, Node 18+): an ONNX file, a TensorFlow.js layers-model
 * (model.json, its shards fetched relative to it), or a weight file (safetensors, PyTorch, ONNX
 * initializers) loaded into a named architecture. The bytes go to the same loaders as files do;
 * `fetch` is injectable (tests, auth headers, caches). Errors name the URL and the HTTP status.
 */
import type { Module } from "../nn/module.ts";
import { createArchitecture } from "../registry.ts";
import { parseJsonBounded } from "./limits.ts";
import { loadWeightsIntoModule, sniffWeightFormat } from "./load-weights.ts";
import { loadOnnx, type OnnxModel } from "./onnx/model.ts";
import { loadTfjsLayersModel, type TfjsLayersModel } from "./tfjs-layers.ts";

/** The part of a fetch Response used here. */
export interface FetchResponseLike {
  ok: boolean;
  status: number;
  statusText: string;
  /** The response body. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A fetch function: the global `fetch` fits, and so does any function of this shape. */
export type FetchLike = (url: string) => Promise<FetchResponseLike>;

/** How the bytes behind a URL are read. */
export type UrlModelFormat = "onnx" | "tfjs" | "weights";

/**
 * Options of loadModelFromUrl: fetch, format, and for weight files the architecture, scale and
 * config.
 */
export interface FetchModelOptions {
  /** Used instead of the global fetch. */
  fetch?: FetchLike;
  /**
   * "onnx", "tfjs" (model.json) or "weights" (needs `arch`). By default: from the URL's ending
   * (.json = tfjs, .onnx = onnx), "weights" whenever `arch` is given, else sniffed from the bytes.
   */
  format?: UrlModelFormat;
  /**
   * For weight files: an architecture name from ARCHITECTURES (e.g. "fsrcnn", "edsr-baseline",
   * "small-cnn") or a module to load the weights into.
   */
  arch?: string | Module;
  /** Upscaling factor of a super-resolution architecture named by `arch` (classifiers ignore it). */
  scale?: number;
  /** Architecture options passed to its constructor (e.g. { channels: 1 } for FSRCNN). */
  config?: object;
  /** Every key in the weight file must match the architecture and none may be missing (default true). */
  strict?: boolean;
}

/** Architectures without an upscaling factor. */
const CLASSIFIERS = new Set(["small-cnn", "vgg", "resnet"]);

/** An absolute URL: relative ones are resolved against the page (browsers) or refused. */
function absoluteUrl(url: string | URL): URL {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(url, base);
  } catch {
    throw new Error(
      `"${url}" is not an absolute URL${base ? "" : " and there is no page location to resolve it against"}; give a full URL such as https://host/path/model.onnx`,
    );
  }
}

function defaultFetch(): FetchLike {
  const f = (globalThis as { fetch?: FetchLike }).fetch;
  if (!f)
    throw new Error("there is no global fetch here (Node 18+ has one); pass options.fetch instead");
  return f;
}

/** The bytes at a URL; errors name the URL and the HTTP status or the network error. */
export async function fetchBytes(url: string | URL, fetchFn?: FetchLike): Promise<Uint8Array> {
  const href = absoluteUrl(url).href;
  const f = fetchFn ?? defaultFetch();
  let res: FetchResponseLike;
  try {
    res = await f(href);
  } catch (e) {
    throw new Error(`cannot fetch ${href}: ${(e as Error).message}`);
  }
  if (!res.ok) {
    throw new Error(
      `fetching ${href} failed: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`,
    );
  }
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new Error(`reading the body of ${href} failed: ${(e as Error).message}`);
  }
}

/** An ONNX model from a URL (see loadOnnx). */
export async function loadOnnxFromUrl(
  url: string | URL,
  o: Pick<FetchModelOptions, "fetch"> = {},
): Promise<OnnxModel> {
  const href = absoluteUrl(url).href;
  return loadOnnx(await fetchBytes(href, o.fetch), { name: href });
}

/**
 * A TensorFlow.js layers-model from the URL of its model.json; the weight shards named in its
 * manifest are fetched relative to that URL (in parallel).
 */
export async function loadTfjsLayersModelFromUrl(
  url: string | URL,
  o: Pick<FetchModelOptions, "fetch"> = {},
): Promise<TfjsLayersModel> {
  const jsonUrl = absoluteUrl(url);
  const where = `tfjs model ${jsonUrl.href}`;
  const text = new TextDecoder().decode(await fetchBytes(jsonUrl, o.fetch));
  const json = parseJsonBounded(text, where) as { weightsManifest?: { paths?: unknown }[] } | null;
  const manifest = Array.isArray(json?.weightsManifest) ? json.weightsManifest : [];
  const paths = [
    ...new Set(
      manifest.flatMap((g) =>
        Array.isArray(g?.paths) ? g.paths.filter((p): p is string => typeof p === "string") : [],
      ),
    ),
  ];
  const shards = new Map(
    await Promise.all(
      paths.map(
        async (p) => [p, await fetchBytes(new URL(p, jsonUrl), o.fetch)] as [string, Uint8Array],
      ),
    ),
  );
  return loadTfjsLayersModel(
    json as object,
    (p) => {
      const bytes = shards.get(p);
      if (!bytes) throw new Error(`${where}: shard "${p}" was not fetched`);
      return bytes;
    },
    where,
  );
}

/** Which loader a URL goes to when no format is given. */
function formatOf(url: URL, o: FetchModelOptions): UrlModelFormat | undefined {
  if (o.format) return o.format;
  const path = url.pathname.toLowerCase();
  if (path.endsWith(".json")) return "tfjs";
  if (o.arch !== undefined) return "weights";
  if (path.endsWith(".onnx")) return "onnx";
  return undefined;
}

function architectureFor(o: FetchModelOptions, href: string): Module {
  const arch = o.arch;
  if (arch === undefined) {
    throw new Error(
      `${href} is a weight file: give options.arch (an architecture name such as "fsrcnn" or a module) to load it into`,
    );
  }
  if (typeof arch !== "string") return arch;
  if (o.scale === undefined && !CLASSIFIERS.has(arch)) {
    throw new Error(
      `loading ${href} into "${arch}": give options.scale (the upscaling factor the weights were trained for)`,
    );
  }
  return createArchitecture(arch, o.scale ?? 1, o.config);
}

/**
 * A model from a URL: ONNX (.onnx), a TensorFlow.js layers-model (model.json), or a weight file
 * (safetensors, PyTorch .pth, ONNX initializers) loaded into `arch`. See FetchModelOptions.
 * Relative URLs resolve against the page in a browser.
 */
export async function loadModelFromUrl(
  url: string | URL,
  o: FetchModelOptions = {},
): Promise<Module> {
  const abs = absoluteUrl(url);
  const format = formatOf(abs, o);
  if (format === "tfjs") {
    if (o.arch !== undefined) {
      throw new Error(
        `${abs.href}: a tfjs layers-model carries its own architecture; drop options.arch (or set format)`,
      );
    }
    return loadTfjsLayersModelFromUrl(abs, o);
  }
  if (format !== undefined && !["onnx", "weights"].includes(format)) {
    throw new Error(
      `loadModelFromUrl: format must be "onnx", "tfjs" or "weights", got "${format}"`,
    );
  }
  // Build the architecture before fetching, so a bad name or a missing scale fails fast.
  const target = format === "weights" ? architectureFor(o, abs.href) : undefined;
  const bytes = await fetchBytes(abs, o.fetch);
  if (target) {
    loadWeightsIntoModule(target, bytes, abs.href, { strict: o.strict });
    return target;
  }
  if (format === "onnx") return loadOnnx(bytes, { name: abs.href });
  // No telling ending and no arch: recognise the file by its first bytes.
  const sniffed = sniffWeightFormat(bytes, abs.href);
  if (sniffed === "onnx") return loadOnnx(bytes, { name: abs.href });
  throw new Error(
    `${abs.href} holds ${sniffed} weights without an architecture: give options.arch (an architecture name such as "fsrcnn", or a module) to load them into`,
  );
}

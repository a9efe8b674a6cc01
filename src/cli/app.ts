/**
 * `salient app`: the interactive explorer. Serves the built page (dist/app, next to this CLI) on
 * localhost with node:http: static files only, every computation runs in the browser. The
 * installed UpscalerJS packages are published under upscaler/ with a catalogue.json naming them.
 * `--build DIR` writes the same site as a folder that works from any static file server.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import {
  UPSCALER_PACKAGES,
  type UpscalerPackage,
  upscalerPackageDir,
} from "../models/io/tfjs/node.ts";
import { type CommandSpec, numberFlag, parseFlags, UsageError } from "./args.ts";
import { PACKAGE_RANGE, upscalerScales } from "./sr-models.ts";

export const APP_SPEC: CommandSpec = {
  name: "app",
  summary: "the interactive explorer in the browser: LAM of SR models and classifier maps",
  synopsis: "[--port 8321] [--host 127.0.0.1] [--open] | --build DIR",
  flags: {
    port: { value: "N", default: "8321", help: "port to listen on (0: any free port)" },
    host: { value: "HOST", default: "127.0.0.1", help: "address to listen on" },
    open: { type: "boolean", help: "open the page in the default browser" },
    build: {
      value: "DIR",
      help: "write the explorer as a static site into DIR (its files are overwritten) instead of serving it",
    },
    upscaler: {
      value: "a,b",
      default: "esrgan-slim,esrgan-medium,default-model",
      help: `UpscalerJS packages --build copies when installed (${UPSCALER_PACKAGES.join(", ")}, or none); the server publishes every installed one`,
    },
  },
  notes:
    "the page computes in a Web Worker, on WebGPU when the browser has an adapter, else on the CPU.",
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".png": "image/png",
  ".bin": "application/octet-stream",
};

/** The built page: dist/app next to dist/cli.js (or SALIENT_APP_DIR). */
function appDir(): string {
  const dir = process.env.SALIENT_APP_DIR ?? join(dirname(fileURLToPath(import.meta.url)), "app");
  if (!existsSync(join(dir, "index.html")))
    throw new Error(
      `the explorer is not built: ${dir}/index.html is missing (run npm run build, which runs scripts/build-app.mjs)`,
    );
  return dir;
}

export interface UpscalerListing {
  name: UpscalerPackage;
  range: number;
  /** model.json URL (relative to the page) by scale. */
  urls: Record<string, string>;
  /** The folder holding each scale's model.json and shards. */
  dirs: Record<string, string>;
}

/** The installed UpscalerJS packages among `wanted`, with their scales. */
export function installedUpscalers(
  wanted: readonly string[] = UPSCALER_PACKAGES,
): UpscalerListing[] {
  const out: UpscalerListing[] = [];
  for (const name of UPSCALER_PACKAGES) {
    if (!wanted.includes(name)) continue;
    let root: string;
    try {
      root = upscalerPackageDir(name);
    } catch {
      continue;
    }
    const urls: Record<string, string> = {};
    const dirs: Record<string, string> = {};
    for (const s of upscalerScales(name)) {
      const dir = name === "default-model" ? join(root, "models") : join(root, "models", `x${s}`);
      if (!existsSync(join(dir, "model.json"))) continue;
      urls[s] = `upscaler/${name}/x${s}/model.json`;
      dirs[s] = dir;
    }
    if (Object.keys(urls).length) out.push({ name, range: PACKAGE_RANGE[name], urls, dirs });
  }
  return out;
}

function catalogue(dir: string, upscalers: UpscalerListing[]): string {
  const base = JSON.parse(readFileSync(join(dir, "catalogue.json"), "utf8"));
  return JSON.stringify({
    ...base,
    upscaler: upscalers.map(({ name, range, urls }) => ({ name, range, urls })),
  });
}

/** Resolves a URL path inside `root`; null when it would leave it. */
function inside(root: string, urlPath: string): string | null {
  const path = normalize(join(root, decodeURIComponent(urlPath)));
  return path === root || path.startsWith(root + sep) ? path : null;
}

/** The explorer's HTTP server (not yet listening). */
export function appServer(dir: string, upscalers: UpscalerListing[]): Server {
  const cat = catalogue(dir, upscalers);
  return createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (code: number, body: string | Buffer, type = "text/plain; charset=utf-8") => {
      res.writeHead(code, { "content-type": type, "cache-control": "no-cache" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "GET only");
    let path: string | null;
    const up = /^\/upscaler\/([\w-]+)\/x(\d+)\/([\w.-]+)$/.exec(url.pathname);
    if (url.pathname === "/catalogue.json") return send(200, cat, TYPES[".json"]);
    if (up) {
      const dirOf = upscalers.find((u) => u.name === up[1])?.dirs[up[2]];
      path = dirOf ? inside(dirOf, up[3]) : null;
    } else {
      path = inside(dir, url.pathname === "/" ? "index.html" : url.pathname);
    }
    try {
      if (!path || !(await stat(path)).isFile()) return send(404, `not found: ${url.pathname}`);
      send(200, await readFile(path), TYPES[extname(path)] ?? "application/octet-stream");
    } catch {
      send(404, `not found: ${url.pathname}`);
    }
  });
}

/** Writes the site into `out`: the page, and the UpscalerJS models asked for when installed. */
export function buildSite(out: string, packages: readonly string[]): string[] {
  const dir = appDir();
  const upscalers = installedUpscalers(packages);
  const target = resolve(out);
  cpSync(dir, target, { recursive: true, force: true });
  for (const u of upscalers)
    for (const [s, from] of Object.entries(u.dirs))
      cpSync(from, join(target, "upscaler", u.name, `x${s}`), { recursive: true });
  writeFileSync(join(target, "catalogue.json"), catalogue(dir, upscalers));
  return upscalers.map((u) => u.name);
}

function openInBrowser(url: string): void {
  const cmd =
    process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  execFile(cmd, [url], () => {});
}

export async function runApp(args: string[], log: (line: string) => void): Promise<void> {
  const v = parseFlags(APP_SPEC, args);
  const packages = v.upscaler === "none" ? [] : (v.upscaler ?? "").split(",").filter(Boolean);
  const unknown = packages.filter((p) => !(UPSCALER_PACKAGES as readonly string[]).includes(p));
  if (unknown.length)
    throw new UsageError(
      `--upscaler: unknown package ${unknown.join(", ")} (known: ${UPSCALER_PACKAGES.join(", ")}, or none)`,
    );
  if (v.build) {
    const copied = buildSite(v.build, packages);
    log(
      `salient app: wrote the explorer to ${resolve(v.build)}${copied.length ? ` with ${copied.join(", ")}` : ""}; serve it with any static file server`,
    );
    return;
  }
  const port = numberFlag("port", v.port, { integer: true, min: 0, max: 65535 }, 8321);
  const server = appServer(appDir(), installedUpscalers());
  await new Promise<void>((ok, fail) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      fail(
        new Error(
          e.code === "EADDRINUSE"
            ? `port ${port} on ${v.host} is in use; pick another with --port N (0: any free port)`
            : `cannot listen on ${v.host}:${port}: ${e.message}`,
        ),
      ),
    );
    server.listen(port, v.host, ok);
  });
  const addr = server.address();
  const actual = typeof addr === "object" && addr ? addr.port : port;
  const url = `http://${v.host?.includes(":") ? `[${v.host}]` : v.host}:${actual}/`;
  log(`salient app: serving the explorer on ${url} (Ctrl-C stops it)`);
  if (v.open !== undefined) openInBrowser(url);
  await new Promise<void>((done) => {
    server.on("close", done);
    const stop = () => server.close();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

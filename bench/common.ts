/** Timing and comparison helpers shared by the model-level bench rows. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Timing {
  /** Median wall-clock ms. */
  ms: number;
  /** Median process CPU ms (user + system; all threads of the process). */
  cpuMs: number;
  samples: number;
}

/** Wall and process CPU time of one call, in ms. */
export function clock<T>(fn: () => T): { wall: number; cpu: number; value: T } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e3, value };
}

export async function clockAsync<T>(
  fn: () => Promise<T>,
): Promise<{ wall: number; cpu: number; value: T }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e3, value };
}

export const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/**
 * Median of `runs` timed calls after `warmup` untimed ones. A first call slower than `slowMs`
 * counts as the only sample (tfjs-cpu takes minutes on some rows).
 */
export async function timeIt(
  fn: () => unknown,
  o: { runs: number; warmup: number; slowMs?: number },
): Promise<Timing> {
  const first = await clockAsync(async () => fn());
  if (first.wall > (o.slowMs ?? 5000)) return { ms: first.wall, cpuMs: first.cpu, samples: 1 };
  for (let i = 1; i < o.warmup; i++) await fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    const t = await clockAsync(async () => fn());
    wall.push(t.wall);
    cpu.push(t.cpu);
  }
  return { ms: median(wall), cpuMs: median(cpu), samples: o.runs };
}

export function maxRelDiff(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  let diff = 0;
  let mag = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return diff / mag;
}

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** [N, C, H, W] -> [N, H, W, C]. */
export function nchwToNhwc(a: Float32Array, shape: readonly number[]): Float32Array {
  const [n, c, h, w] = shape;
  const out = new Float32Array(a.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h * w; i++) out[(b * h * w + i) * c + ch] = a[(b * c + ch) * h * w + i];
  return out;
}

/** [N, H, W, C] -> [N, C, H, W] (shape given as NCHW). */
export function nhwcToNchw(a: ArrayLike<number>, shape: readonly number[]): Float32Array {
  const [n, c, h, w] = shape;
  const out = new Float32Array(a.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h * w; i++) out[(b * c + ch) * h * w + i] = a[(b * h * w + i) * c + ch];
  return out;
}

let tmp: string | undefined;
export function benchTmp(): string {
  tmp ??= mkdtempSync(join(tmpdir(), "salient-bench-"));
  return tmp;
}

export function writeF32(name: string, a: Float32Array): string {
  const p = join(benchTmp(), name);
  writeFileSync(p, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return p;
}

export function readF32(p: string): Float32Array {
  const b = readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Runs bench/torch_bench.py on a job; null (with the reason on stderr) when PyTorch is missing. */
export function runTorch(job: object, script: string): Record<string, unknown> | null {
  const jobPath = join(benchTmp(), `job-${Date.now()}.json`);
  const outPath = `${jobPath}.out.json`;
  writeFileSync(jobPath, JSON.stringify(job));
  try {
    execFileSync("/usr/bin/python3", [script, jobPath, outPath], {
      stdio: ["ignore", "ignore", "inherit"],
      timeout: 600_000,
    });
  } catch (e) {
    console.error(`PyTorch side failed: ${(e as Error).message}`);
    return null;
  }
  return JSON.parse(readFileSync(outPath, "utf8"));
}

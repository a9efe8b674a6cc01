/** Node's `process`, reached without importing node: modules, so the kernels still bundle for browsers. */

export type NodeProcess = {
  versions?: { node?: string; bun?: string };
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
};

/**
 * Node's `process` where `process.getBuiltinModule` (Node >= 20.16) lets the kernels reach
 * node:os, node:v8 and node:worker_threads synchronously; null in browsers, Deno and Bun.
 */
export function nodeProcess(): NodeProcess | null {
  const g = globalThis as { process?: NodeProcess; Deno?: unknown };
  const p = g.process;
  if (g.Deno !== undefined || p === undefined || !p.versions?.node || p.versions.bun) return null;
  return typeof p.getBuiltinModule === "function" ? p : null;
}

/**
 * An environment variable the CPU kernels read at start-up (SALIENT_CPU_THREADS, _GEMM, _FMA,
 * _WINOGRAD_4X4); undefined where there is no `process` (browsers) or reading it throws (Deno
 * without --allow-env).
 */
export function envSetting(name: string): string | undefined {
  try {
    const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
    return g.process?.env?.[name];
  } catch {
    return undefined;
  }
}

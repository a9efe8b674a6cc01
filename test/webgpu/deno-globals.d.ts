// The slice of Deno's runtime API the WebGPU tests use, so `tsc -p .` (DOM + Node types) can check
// them; Deno itself runs these files with its own complete types.
declare namespace Deno {
  function test(name: string, fn: () => void | Promise<void>): void;
  function exit(code?: number): never;
  const args: string[];
  function readFile(path: string | URL): Promise<Uint8Array>;
  const env: { get(key: string): string | undefined };
}

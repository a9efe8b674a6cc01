/** Builds the explorer page and worker into `out` (default dist/app); resolves to that folder. */
export function buildApp(out?: string): Promise<string>;

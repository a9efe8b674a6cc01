/**
 * Benchmark entry point. Node 20 cannot run TypeScript directly, so bundle first:
 *   npx esbuild bench/run.ts --bundle --platform=node --format=esm --outfile=dist/bench.mjs \
 *     --packages=external && node dist/bench.mjs [--json] [--runs N]
 */
import { loadavg } from "node:os";
import { formatConvTable, runConvBench, tfjsCpuVersion } from "./conv.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const runsAt = args.indexOf("--runs");
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : undefined;
if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) {
  throw new Error(`--runs expects a positive integer, got ${args[runsAt + 1]}`);
}

// Timings are wall-clock medians: other processes on this 2-core machine skew them, so the
// load average is reported next to them.
const loadBefore = loadavg()[0];
const rows = await runConvBench({ runs });
const load = { before: loadBefore, after: loadavg()[0] };
if (json) {
  console.log(
    JSON.stringify({ conv3x3_c64_64x64: rows, tfjsCpuVersion, loadavg1m: load }, null, 2),
  );
} else {
  console.log(
    `conv 3x3, 64 -> 64 channels, 64x64 image, batch 1, pad 1 (single thread, median; tfjs-backend-cpu ${tfjsCpuVersion})`,
  );
  console.log(formatConvTable(rows));
  console.log(
    `1-min load average: ${load.before.toFixed(2)} before, ${load.after.toFixed(2)} after`,
  );
}

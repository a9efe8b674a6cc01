/**
 * Benchmark entry point. Node 20 cannot run TypeScript directly, so bundle first:
 *   npx esbuild bench/run.ts --bundle --platform=node --format=esm --outfile=dist/bench.mjs \
 *     --packages=external && node dist/bench.mjs [--json] [--runs N]
 */
import { formatConvTable, runConvBench } from "./conv.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const runsAt = args.indexOf("--runs");
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : undefined;
if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) {
  throw new Error(`--runs expects a positive integer, got ${args[runsAt + 1]}`);
}

const rows = await runConvBench({ runs });
if (json) {
  console.log(JSON.stringify({ conv3x3_64x64_c64: rows }, null, 2));
} else {
  console.log("conv 3x3, 64 -> 64 channels, 64x64 image, batch 1, pad 1 (single thread, median)");
  console.log(formatConvTable(rows));
}

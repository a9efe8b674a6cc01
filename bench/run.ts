/**
 * Benchmark entry point. Node 20 cannot run TypeScript directly, so bundle first:
 *   npx esbuild bench/run.ts --bundle --platform=node --format=esm --outfile=dist/bench.mjs \
 *     --packages=external && node dist/bench.mjs [--json] [--runs N] [--quick] [--lr N]
 * --quick: fewer runs, RDN and LAM on a 16x16 LR image, no tfjs-cpu RDN gradient, 2000
 * training images (~2 min). --lr N (RDN LR size, default 64), --lam-lr N (default 32),
 * --train-images N (default 10000; 60000 is a full Fashion-MNIST epoch).
 * --only conv,lam,cli,cls,rdn,peers runs only the named sections (cls = IG and the training row).
 * --profile prints (and writes to bench/profile-lam.json) a per-op profile of one LAM call;
 * --profile-shapes splits its rows by input shapes; --profile-onnx profiles the CLI row's RDN-like
 * ONNX network at 64x64 LR instead (bench/profile-lam-onnx.json). --profile-ort: that network's
 * forward per op, ours against onnxruntime-node's profiler (--threads 1 or 2, default 2; --lr,
 * default 64; bench/profile-ort.json).
 * --no-tfjs-lam skips the tfjs-cpu LAM row (one call of 2-3 minutes; also off under --quick).
 * SALIENT_CPU_GEMM=ts in the environment forces the pure-TypeScript GEMM kernel;
 * SALIENT_CPU_THREADS=1 keeps the wasm GEMM on one thread (default: a worker takes part of
 * each large block).
 */
import { loadavg } from "node:os";
import { activeGemmImpl, gemmThreadsActive } from "../src/kernels/cpu/gemm.ts";
import { helperReady } from "../src/kernels/cpu/wasm/gemm-threads.ts";
import { gemmSimd } from "../src/kernels/cpu/wasm/gemm-wasm.ts";
import { formatClassifierTable, runClassifierBench } from "./classifiers.ts";
import { formatCliLamTable, runCliLamBench } from "./cli-lam.ts";
import { runTorch, type Timing } from "./common.ts";
import { formatConvTable, runConvBench, tfjsCpuVersion } from "./conv.ts";
import { formatLamTable, runLamBench } from "./lam.ts";
import { formatPeersTable, runPeersBench } from "./peers.ts";
import { profileLam } from "./profile.ts";
import { profileAgainstOrt } from "./profile-ort.ts";
import { formatRdnTable, runRdnBench, TORCH_SCRIPT } from "./rdn.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
const num = (flag: string, fallback: number) => {
  const at = args.indexOf(flag);
  if (at < 0) return fallback;
  const v = Number(args[at + 1]);
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`${flag} expects a positive integer`);
  return v;
};
const runs = num("--runs", quick ? 3 : 7);
const lr = num("--lr", quick ? 16 : 64);
const lamLr = num("--lam-lr", quick ? 16 : 32);
// A full epoch (60000) takes minutes here under load; the default is a sixth of one.
const trainImages = num("--train-images", quick ? 2000 : 10000);
const SECTIONS = ["conv", "lam", "cli", "cls", "rdn", "peers"] as const;
const onlyAt = args.indexOf("--only");
const only = new Set(onlyAt < 0 ? SECTIONS : (args[onlyAt + 1] ?? "").split(","));
for (const name of only) {
  if (!(SECTIONS as readonly string[]).includes(name)) {
    throw new Error(`--only: unknown section "${name}" (sections: ${SECTIONS.join(", ")})`);
  }
}
const want = (name: (typeof SECTIONS)[number]) => only.has(name);
const log = (s: string) => {
  if (!json) console.log(s);
};

// Timings are medians of wall clock and of process CPU time: other processes on this 2-core
// machine time-slice both sides, so the load average is reported next to them.
const loadBefore = loadavg()[0];
// The GEMM's helper thread starts on the first GEMM; wait for it so every row sees the same setup.
if (activeGemmImpl() === "wasm") await helperReady(gemmSimd());
const gemmThreads = gemmThreadsActive() ? 2 : 1;
log(`GEMM micro-kernel: ${activeGemmImpl()}, ${gemmThreads} thread(s) for large GEMM blocks`);
// --profile: only the per-op profile of one LAM call (at --lam-lr), then exit.
if (args.includes("--profile-onnx")) {
  console.log((await profileLam(num("--lam-lr", 64), true, true)).text);
  process.exit(0);
}
if (args.includes("--profile-ort")) {
  const threads = num("--threads", 2) === 1 ? 1 : 2;
  console.log((await profileAgainstOrt(num("--lr", 64), num("--runs", 20), threads)).text);
  process.exit(0);
}
if (args.includes("--profile") || args.includes("--profile-shapes")) {
  console.log((await profileLam(lamLr, args.includes("--profile-shapes"))).text);
  process.exit(0);
}
// 10 warm-ups: with the wasm GEMM, the stride-2 row (phase split) is dominated by its JS loops
// until V8 has optimised them, which takes more calls than the GEMM itself.
const conv = want("conv") ? await runConvBench({ runs, warmup: quick ? 3 : 10 }) : [];
const torchConv = want("conv")
  ? runTorch({ tasks: ["conv"], threads: 1, runs, warmup: 3 }, TORCH_SCRIPT)
  : null;
const torchKeys = ["convForward", "convInputGrad", "convFilterGrad", "convInputGradStride2"];
const convRows = conv.map((r, i) => {
  const t = torchConv?.[torchKeys[i]] as Timing | undefined;
  return {
    ...r,
    torchMs: t?.ms,
    torchCpuGflops: t ? r.gflop / (t.cpuMs / 1e3) : undefined,
    /** PyTorch throughput / ours, CPU time. */
    torchOverOursCpu: t ? r.oursCpuGflops / (r.gflop / (t.cpuMs / 1e3)) : undefined,
  };
});
if (want("conv")) {
  log(
    `conv 3x3, 64 -> 64 channels, 64x64 image, batch 1, pad 1 (ours: ${gemmThreads} GEMM thread(s); median; tfjs-backend-cpu ${tfjsCpuVersion})`,
  );
  log(formatConvTable(conv));
  log("PyTorch 1 thread, same convs (CPU time): ours / PyTorch throughput");
  for (const r of convRows) {
    log(
      `  ${r.case.padEnd(22)} pytorch ${r.torchCpuGflops?.toFixed(2) ?? "-"} GFLOP/s, ours ${r.oursCpuGflops.toFixed(2)}: ours/pytorch ${r.torchOverOursCpu?.toFixed(2) ?? "-"}`,
    );
  }
}
// LAM and the classifier rows run before the RDN row: that one loads tfjs-wasm, and in one
// full run our LAM, timed after it, took 4.8x its CPU time in wall clock (1.5x run alone;
// cause not found).
// tfjs-cpu LAM: one call of minutes (50 x its RDN fwd+grad at --lam-lr); off under --quick.
const tfjsLam = !quick && !args.includes("--no-tfjs-lam");
// Ours and PyTorch: median of 3 calls after one warm-up (one call moved by 10-25% with the load).
const lamRes = want("lam")
  ? await runLamBench({ lr: lamLr, runs: quick ? 1 : 3, torchThreads: [1, 2], tfjs: tfjsLam })
  : null;
if (lamRes) {
  log("");
  log(formatLamTable(lamRes));
}
// The CLI row: whole `salient lam` processes (each spawns its own Node).
const cliLam = want("cli")
  ? await runCliLamBench({ lr: quick ? 16 : 64, runs: quick ? 1 : 3, torchThreads: [1, 2] })
  : null;
if (cliLam) {
  log("");
  log(formatCliLamTable(cliLam));
}
const cls = want("cls")
  ? await runClassifierBench({ runs: quick ? 1 : 3, trainCount: trainImages })
  : null;
if (cls) {
  log("");
  log(formatClassifierTable(cls));
}
const rdn = want("rdn")
  ? await runRdnBench({ lr, runs, warmup: 2, quick, torchThreads: [1, 2] })
  : null;
if (rdn) {
  log("");
  log(formatRdnTable(rdn));
}
// jax-js and onnxruntime-node, in this process (after the rest: they load their own Wasm/native code).
const peers = want("peers") ? await runPeersBench({ runs, lr }) : null;
if (peers) {
  log("");
  log(formatPeersTable(peers));
}
log("");
const load = { before: loadBefore, after: loadavg()[0] };
log(`1-min load average: ${load.before.toFixed(2)} before, ${load.after.toFixed(2)} after`);
if (json) {
  console.log(
    JSON.stringify(
      {
        gemm: activeGemmImpl(),
        gemmThreads,
        conv3x3_c64_64x64: convRows,
        rdnSlimX4: rdn,
        lam: lamRes,
        cliLam,
        peers,
        classifiers: cls,
        tfjsCpuVersion,
        loadavg1m: load,
      },
      null,
      2,
    ),
  );
}

/**
 * Packs the WebGPU benchmark for a GPU machine that has a driver and Python with PyTorch but no
 * npm, no apt and no network (the device tool's machines): `npm run bench:gpu-pack [DIR]`
 * (default .gpu/, which git ignores; `--quick`: tiny sizes, to try it here) writes, in under 64 MiB,
 *  - deno.xz: the Deno binary of node_modules (xz; run.sh unpacks it with Python's lzma),
 *  - webgpu-bench.mjs: bench/webgpu.ts with tfjs and salient bundled into one file,
 *  - node_modules/@upscalerjs/esrgan-slim: the RDN slim x4 weights that bundle loads,
 *  - debs/: the Vulkan loader (libvulkan1) from Debian's archive, unpacked there by run.sh,
 *  - torch/: bench/torch_bench.py and its jobs with "device": "cuda" on the rows' inputs:
 *    conv 3x3 64 -> 64 at 64x64, RDN slim x4 forward + input gradient at 64x64 LR, and the
 *    LAM-like fold-50 integral at 64x64 (batch 10) and 256x256 LR (batch 2),
 *  - run.sh: the whole check (nvidia-smi, PyTorch CUDA, then the WebGPU bench on the Vulkan
 *    driver at the same sizes), into $OUT (default DIR/out): nvidia-smi.txt, torch.log,
 *    torch.json and torch.md (every PyTorch row), webgpu.md and one webgpu-lamN.md per LAM size,
 *    7 files in all (the device tool brings back at most 8).
 * bench/WEBGPU.md says how to run it with the device tool. Here (no GPU) run.sh runs as well:
 * Deno finds lavapipe and PyTorch the CPU, which checks the pack end to end.
 */
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { rng } from "./common.ts";
import { torchModelJob } from "./rdn.ts";

const root = process.cwd();
const args = process.argv.slice(2);
/** --quick: tiny sizes, to try the pack end to end on a machine without a GPU. */
const quick = args.includes("--quick");
const dir = resolve(args.find((a) => !a.startsWith("--")) ?? join(root, ".gpu"));
/** The sizes of the check (the rows): RDN LR, LAM LRs and their batches. */
const RDN_LR = quick ? 16 : 64;
const LAMS = quick
  ? [{ lr: 8, batch: 10 }]
  : [
      { lr: 64, batch: 10 },
      { lr: 256, batch: 2 },
    ];
const FOLD = 50;
const WINDOW = 16;
/** The device tool carries at most 64 MiB. */
const LIMIT_BYTES = 64 * 1024 * 1024;

rmSync(dir, { recursive: true, force: true });
mkdirSync(join(dir, "torch"), { recursive: true });
mkdirSync(join(dir, "debs"), { recursive: true });

// The bench as one ES module Deno runs without node_modules; its `require` calls (tfjs's
// CommonJS parts) go through node:module.
await build({
  entryPoints: [join(root, "bench", "webgpu.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  outfile: join(dir, "webgpu-bench.mjs"),
  banner: {
    js: "import { createRequire as __salientRequire } from 'node:module'; const require = __salientRequire(import.meta.url);",
  },
  logLevel: "error",
});

// The weights, where the bundle's package lookup finds them (x4 only).
const pkg = join(root, "node_modules", "@upscalerjs", "esrgan-slim");
if (!existsSync(join(pkg, "models", "x4", "model.json"))) {
  throw new Error(`gpu-pack: ${pkg} has no models/x4 (run npm install first)`);
}
const pkgOut = join(dir, "node_modules", "@upscalerjs", "esrgan-slim");
mkdirSync(join(pkgOut, "models"), { recursive: true });
copyFileSync(join(pkg, "package.json"), join(pkgOut, "package.json"));
cpSync(join(pkg, "dist"), join(pkgOut, "dist"), { recursive: true });
cpSync(join(pkg, "models", "x4"), join(pkgOut, "models", "x4"), { recursive: true });

// Deno, compressed (95 MB -> ~31 MB).
/** Runs a packing step, or stops naming the step and what it needs. */
function step(what: string, run: () => void): void {
  try {
    run();
  } catch (e) {
    throw new Error(`gpu-pack: ${what} failed (${(e as Error).message.split("\n")[0]})`);
  }
}
const deno = join(root, "node_modules", "deno", "deno");
step("compressing node_modules/deno/deno with xz (npm install brings Deno; apt xz-utils)", () =>
  execFileSync("sh", ["-c", `xz -T0 -6 -c "${deno}" > "${join(dir, "deno.xz")}"`]),
);

// The Vulkan loader: the NVIDIA driver brings its ICD, not libvulkan.so.1.
step("downloading libvulkan1 from Debian's archive (apt-get download)", () =>
  execFileSync("apt-get", ["download", "libvulkan1"], { cwd: join(dir, "debs"), stdio: "ignore" }),
);

// PyTorch: the script and its jobs, inputs written here (paths relative to the pack).
copyFileSync(join(root, "bench", "torch_bench.py"), join(dir, "torch", "torch_bench.py"));
const r = rng(5);
const f32 = (name: string, n: number, scale: number) => {
  const v = Float32Array.from({ length: n }, () => scale * r());
  writeFileSync(join(dir, "torch", name), new Uint8Array(v.buffer));
  return `torch/${name}`;
};
// The model job's paths point into node_modules here: repoint them into the pack.
const model = torchModelJob() as { modelJson: string; weightsBin: string; weights: unknown };
const inPack = (p: string) =>
  `node_modules/@upscalerjs/esrgan-slim/models/x4/${p.split("/").pop()}`;
const modelJob = {
  ...model,
  modelJson: inPack(model.modelJson),
  weightsBin: inPack(model.weightsBin),
};
const jobs: Record<string, object> = {
  conv: { tasks: ["conv"], device: "cuda", runs: 20, warmup: 5, convSize: quick ? 16 : 64 },
  rdn: {
    ...modelJob,
    tasks: ["rdnFwdGrad"],
    device: "cuda",
    runs: 10,
    warmup: 3,
    input: f32("rdn-x.bin", 3 * RDN_LR * RDN_LR, 255),
    inputShape: [1, 3, RDN_LR, RDN_LR],
    cotangent: f32("rdn-dy.bin", 3 * 16 * RDN_LR * RDN_LR, 1),
    outputShape: [1, 3, 4 * RDN_LR, 4 * RDN_LR],
    outputFile: "torch/rdn-y.out.bin",
    gradFile: "torch/rdn-g.out.bin",
  },
};
for (const { lr, batch } of LAMS) {
  jobs[`lam${lr}`] = {
    ...modelJob,
    tasks: ["lam"],
    device: "cuda",
    runs: 5,
    warmup: 1,
    input: f32(`lam${lr}-x.bin`, 3 * lr * lr, 255),
    inputShape: [1, 3, lr, lr],
    fold: FOLD,
    batch,
    window: [2 * lr - WINDOW / 2, 2 * lr - WINDOW / 2, WINDOW],
  };
}
for (const [name, job] of Object.entries(jobs)) {
  writeFileSync(join(dir, "torch", `job-${name}.json`), JSON.stringify(job));
}

const lamRuns = LAMS.map(
  ({ lr, batch }) =>
    `bench webgpu-lam${lr}.md "$DENO" run -A webgpu-bench.mjs --no-rdn --no-sr --conv-size 16 --lam-lr ${lr} --lam-batch ${batch} --runs ${quick ? 1 : 3}`,
).join("\n");
const script = `#!/usr/bin/env bash
# The WebGPU check on a GPU machine (written by bench/gpu-pack.ts): PyTorch CUDA, then salient
# and tfjs-backend-webgpu on the Vulkan driver, every log and table into $OUT.
set -uo pipefail
cd "$(dirname "$0")"
OUT=\${OUT:-$(pwd)/out}
mkdir -p "$OUT"
# The Vulkan loader, unless the machine has one.
if ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
  for f in debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$icd" ] && { export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"; break; }
done
export XDG_RUNTIME_DIR=\${XDG_RUNTIME_DIR:-$(mktemp -d)} DENO_WEBGPU_BACKEND=vulkan DENO_NO_UPDATE_CHECK=1
DENO=/tmp/salient-deno
# The Python that holds PyTorch (on the device machines, the plain python3).
PYTHON=\${PYTHON:-python3}
"$PYTHON" -c "import lzma, shutil; shutil.copyfileobj(lzma.open('deno.xz'), open('$DENO', 'wb'))" && chmod +x "$DENO"
(nvidia-smi || echo "no nvidia-smi") > "$OUT/nvidia-smi.txt" 2>&1
status=0
bench() { local out=$1; shift; echo "== $*"; timeout 300 "$@" 2>&1 | tee "$OUT/$out"; [ "\${PIPESTATUS[0]}" -eq 0 ] || status=1; }
# PyTorch: one log and one merged result (the device tool brings back at most 8 files).
tmp=$(mktemp -d)
for job in ${Object.keys(jobs).join(" ")}; do
  echo "== torch $job" >> "$OUT/torch.log"
  timeout 300 "$PYTHON" torch/torch_bench.py "torch/job-$job.json" "$tmp/$job.json" >> "$OUT/torch.log" 2>&1 || status=1
done
"$PYTHON" - "$tmp" "$OUT" <<'PY'
import glob, json, os, sys
tmp, out = sys.argv[1], sys.argv[2]
res = {os.path.basename(f)[:-5]: json.load(open(f)) for f in sorted(glob.glob(os.path.join(tmp, "*.json")))}
json.dump(res, open(os.path.join(out, "torch.json"), "w"), indent=1)
lines = ["| job | row | ms (median) | device |", "| --- | --- | --- | --- |"]
for job, r in res.items():
    for key, v in r.items():
        if isinstance(v, dict) and "ms" in v:
            lines.append(f"| {job} | {key} | {v['ms']:.3f} | {r.get('device', 'cpu')} (torch {r['torch']}) |")
text = chr(10).join(lines) + chr(10)
open(os.path.join(out, "torch.md"), "w").write(text)
print(text)
PY
bench webgpu.md "$DENO" run -A webgpu-bench.mjs --lr ${RDN_LR} --conv-size ${quick ? 16 : 64} --no-lam --runs ${quick ? 2 : 10}
${lamRuns}
exit $status
`;
writeFileSync(join(dir, "run.sh"), script, { mode: 0o755 });

const size = (p: string): number =>
  statSync(p).isDirectory()
    ? readdirSync(p).reduce((a, f) => a + size(join(p, f)), 0)
    : statSync(p).size;
const total = size(dir);
console.log(`${dir}: ${(total / 2 ** 20).toFixed(1)} MiB (limit 64 MiB)`);
if (total > LIMIT_BYTES) throw new Error(`the GPU pack is ${total} bytes, over the 64 MiB limit`);

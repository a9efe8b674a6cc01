#!/usr/bin/env bash
# The package as users get it: builds and packs the tarball, lints it (publint, attw), installs it
# into a fresh project, checks the install's size and types (the exact `tsc --init` config and a
# bundler config), runs every example there and checks what each prints, and measures what an
# app that only uses integrated gradients bundles. Each check counts as one test.
# Ends with "package: N passed, N failed". Needs the npm registry (the install of the tarball's
# dependencies). Usage: bash scripts/test-package.sh
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bin="$repo/node_modules/.bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
app="$work/app"
passed=0
failed=0

# check NAME COMMAND...: runs the command (its output kept for a failure report).
check() {
  local name=$1
  shift
  if "$@" >"$work/log" 2>&1; then
    echo "ok   $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    tail -n 25 "$work/log" | sed 's/^/     /'
    failed=$((failed + 1))
  fi
}

# expect FILE JS: evaluates the JS boolean expressions (one per line, `r` = the last JSON line of
# FILE, `fs` = node:fs) and fails naming each that is false.
expect() {
  node --input-type=module -e '
    import fs from "node:fs";
    const [file, checks] = process.argv.slice(1);
    const lines = fs.readFileSync(file, "utf8").trim().split("\n");
    const r = JSON.parse(lines[lines.length - 1]);
    console.log(JSON.stringify(r));
    let bad = 0;
    for (const c of checks.split("\n").map((l) => l.trim()).filter(Boolean)) {
      if (!new Function("r", "fs", `return (${c});`)(r, fs)) { console.log(`false: ${c}`); bad++; }
    }
    process.exit(bad ? 1 : 0);' "$1" "$2"
}

pack() {
  mkdir -p "$work/pack"
  # npm pack runs the prepare script (the build) first.
  SALIENT_BUILD_STRICT=1 npm pack --pack-destination "$work/pack" --json >"$work/pack.json" || return 1
  tgz=$(ls "$work"/pack/*.tgz)
  node --input-type=module -e '
    import fs from "node:fs";
    const [info] = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const paths = info.files.map((f) => f.path);
    console.log(`tarball: ${(info.size / 1e6).toFixed(2)} MB packed, ${(info.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${paths.length} files`);
    const problems = [
      ...paths.filter((p) => /\.map$|\.safetensors$|^src\/|\.mjs$/.test(p)).map((p) => `should not ship ${p}`),
      ...["dist/index.js", "dist/index.d.ts", "dist/node.d.ts", "dist/webgpu.d.ts", "dist/cli.js", "assets/fashion-mnist/test-0.png", "assets/photos/astronaut.png"]
        .filter((p) => !paths.includes(p)).map((p) => `missing ${p}`),
    ];
    // The bundled weights are about 0.7 MB of base64 and the explorer worker bundle 0.84 MB
    // (minified, the engine inside); the rest about 2.5 MB. A budget, with room for growth.
    if (info.unpackedSize > 4.5e6) problems.push(`unpacked size ${info.unpackedSize} > 4.5 MB`);
    for (const p of problems) console.log(p);
    process.exit(problems.length ? 1 : 0);' "$work/pack.json"
}
check "build and npm pack (no maps, no src/, no safetensors copies; assets and types shipped)" pack
tgz=$(ls "$work"/pack/*.tgz 2>/dev/null | head -n 1)
if [ -z "$tgz" ]; then
  echo "package: $passed passed, $((failed + 1)) failed"
  exit 1
fi
cat "$work/log" | grep '^tarball:'

check "publint" "$bin/publint" run "$tgz" --strict
# ESM only: CommonJS `require("salient")` and node10 resolution are not supported, on purpose.
check "attw (esm-only profile)" "$bin/attw" "$tgz" --profile esm-only

install_app() {
  mkdir -p "$app" &&
    echo '{ "name": "app", "version": "1.0.0", "private": true, "type": "module" }' >"$app/package.json" &&
    (cd "$app" && npm install --no-audit --no-fund --loglevel=error "$tgz")
}
check "npm install of the tarball into a fresh project" install_app

install_size() {
  local mb
  mb=$(du -sm "$app/node_modules" | cut -f1)
  echo "node_modules: ${mb} MB"
  ls "$app/node_modules"
  [ "$mb" -lt 40 ] && [ ! -e "$app/node_modules/@tensorflow" ] && [ ! -e "$app/node_modules/@upscalerjs" ]
}
check "install is light (< 40 MB, no TensorFlow.js, no UpscalerJS)" install_size
grep '^node_modules:' "$work/log"

mkdir -p "$app/examples"
cp -r examples/node examples/onnx "$app/examples/"
cp -r examples/deno "$work/deno-example"

# The config `npx tsc --init` writes, untouched: nodenext, strict, exactOptionalPropertyTypes,
# noUncheckedIndexedAccess, verbatimModuleSyntax... It emits the examples' .js next to them.
tsc_init() { (cd "$app" && "$bin/tsc" --init >/dev/null && "$bin/tsc" -p .); }
check "examples type-check under the exact 'tsc --init' config (0 errors)" tsc_init

tsc_bundler() {
  cat >"$app/tsconfig.bundler.json" <<'EOF'
{
  "compilerOptions": {
    "target": "es2022",
    "module": "esnext",
    "moduleResolution": "bundler",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true
  },
  "include": ["examples/node"]
}
EOF
  (cd "$app" && "$bin/tsc" -p tsconfig.bundler.json)
}
check "examples type-check under a moduleResolution bundler config (0 errors)" tsc_bundler
# With skipLibCheck off, salient's .d.ts files (and the @webgpu/types they reference) are checked
# under the consumer's flags too: nothing refers to a devDependency or a missing module.
check "salient's .d.ts files check with skipLibCheck off" \
  bash -c "cd '$app' && '$bin/tsc' -p . --noEmit --skipLibCheck false"

# The label of the bundled image, from the metadata shipped next to it.
label=$(node -e 'const d=require(process.argv[1]);console.log(d.find((e)=>e.file==="test-0.png").name)' \
  "$app/node_modules/salient/assets/fashion-mnist/demo.json")

run_quick_start() {
  (cd "$app" && node examples/node/quick-start.js) >"$work/quick.out" || return 1
  # IG's completeness: sum(map) = f(x) - f(black) up to the 64-point Gauss-Legendre error, far
  # below 1% of the score difference for this ReLU net. Grad-CAM should favour the garment over
  # the background: a larger share of its mass than the garment's share of the pixels.
  expect "$work/quick.out" "
    r.topClass === '$label'
    r.probability > 0.5 && r.probability <= 1
    Math.abs(r.igRelativeDelta) < 0.01
    r.camOnObject > r.objectShare
    fs.readFileSync('$app/' + r.overlay).subarray(1, 4).toString() === 'PNG'"
}
check "example quick-start: top class is the image's label ($label), IG complete, PNG written" run_quick_start

run_lam() {
  (cd "$app" && node examples/node/lam-sr.js) >"$work/lam.out" || return 1
  # Bicubic x2 reads 4 LR pixels per axis around each output pixel: the 16-pixel SR window at
  # 24..39 covers LR centres 11.75..19.25, taps 10..21, so at most 12 x 12 = 144 LR pixels can be
  # attributed. FSRCNN's receptive field is wider, so its map reaches further and spreads more.
  expect "$work/lam.out" "
    r.results.length === 2
    r.results.every((m) => m.gini > 0 && m.gini < 1)
    r.results.every((m) => Math.abs(m.diffusionIndex - (1 - m.gini) * 100) < 1e-9)
    r.results[0].model === 'bicubic' && r.results[0].support > 0 && r.results[0].support <= 144
    r.results[1].model === 'fsrcnn-x2' && r.results[1].support > 144
    r.results[1].diffusionIndex > r.results[0].diffusionIndex
    fs.readFileSync('$app/' + r.panels).subarray(1, 4).toString() === 'PNG'"
}
check "example lam-sr: Gini/DI, bicubic map inside its 12 x 12 support, FSRCNN wider" run_lam

run_onnx() {
  (cd "$app" && node examples/node/onnx-classifier.js) >"$work/onnx.out" || return 1
  # The reference logits come from make-model.mjs's own plain-JavaScript forward pass.
  local e="JSON.parse(fs.readFileSync('$app/examples/onnx/tiny-cnn.expected.json', 'utf8')).logits"
  expect "$work/onnx.out" "
    $e.length === r.logits.length && $e.every((v, i) => Math.abs(v - r.logits[i]) < 1e-4)
    r.topClass === $e.indexOf(Math.max(...$e))
    Math.abs(r.igRelativeDelta) < 0.01
    JSON.stringify(r.smoothGradShape) === '[1,1,28,28]'"
}
check "example onnx-classifier: logits match an independent forward pass, IG complete" run_onnx

run_rules() {
  (cd "$app" && node examples/node/rule-equivalences.js) >"$work/rules.out" || return 1
  # Guided backprop written as one rule equals the built-in set and differs from the gradient;
  # LRP-0 equals gradient x input on a ReLU network (up to float32 rounding).
  expect "$work/rules.out" "
    r.guidedVsBuiltIn === 0
    r.guidedVsGradient > 0.1
    r.lrp0VsGradientXInput < 1e-5"
}
check "example rule-equivalences: one-entry guided backprop equals the built-in set, LRP-0 = gradient x input" run_rules

run_deno() {
  mkdir -p "$app/examples/deno" && cp "$work/deno-example/quick-start.ts" "$app/examples/deno/" &&
    (cd "$app" && "$bin/deno" run --allow-read --allow-env examples/deno/quick-start.ts) >"$work/deno.out" ||
    return 1
  expect "$work/deno.out" "
    r.runtime.startsWith('deno ')
    r.topClass === '$label'
    Math.abs(r.igRelativeDelta) < 0.01"
}
check "example deno quick-start against the installed package" run_deno

missing_upscaler() {
  (cd "$app" && node --input-type=module -e '
    import { loadUpscalerModel } from "salient/node";
    try { loadUpscalerModel("esrgan-slim"); process.exit(1); }
    catch (e) { console.log(e.message); process.exit(e.message.includes("npm install @upscalerjs/esrgan-slim") ? 0 : 1); }')
}
check "an UpscalerJS model that is not installed says what to install" missing_upscaler

check "the CLI runs from the installed package (npx salient methods)" \
  bash -c "cd '$app' && npx --no-install salient methods | grep -q integrated-gradients"

# The main job from a fresh project: no UpscalerJS installed, so the demo says what it leaves out
# and still writes the report from the shipped photos and Fashion-MNIST images.
demo_outside() {
  (cd "$app" && npx --no-install salient demo --fold 2 --methods gradient --out report) >"$work/demo.out" 2>&1 ||
    { cat "$work/demo.out"; return 1; }
  grep -q "not installed, so the demo leaves them out" "$work/demo.out" &&
    grep -q 'lam-bicubic-map.png' "$app/report/index.html" && [ -s "$app/report/lam-bicubic-map.png" ] ||
    { cat "$work/demo.out"; ls "$app/report"; return 1; }
}
check "npx salient demo works in a fresh project outside the repo" demo_outside

# The explorer ships with the package: its static build has the page, the worker and the catalogue.
app_build() {
  (cd "$app" && npx --no-install salient app --build site) &&
    for f in index.html main.js worker.js catalogue.json; do [ -s "$app/site/$f" ] || { echo "missing site/$f"; return 1; }; done
}
check "npx salient app --build writes the explorer from the installed package" app_build

# The root entry is platform neutral: it bundles for a browser without any node: module.
bundle() {
  echo "$2" >"$app/$1.js" &&
    "$bin/esbuild" "$app/$1.js" --bundle --minify --format=esm --platform=browser \
      --outfile="$app/$1.bundle.js" --log-level=warning
}
check "root entry bundles for the browser (no node: imports)" \
  bundle full 'import * as s from "salient"; console.log(s);'

ig_only() {
  bundle ig 'import { integratedGradients } from "salient"; console.log(integratedGradients);' || return 1
  local full ig
  full=$(wc -c <"$app/full.bundle.js")
  ig=$(wc -c <"$app/ig.bundle.js")
  echo "bundle size, minified: integratedGradients only ${ig} bytes, whole library ${full} bytes ($((100 * ig / full))%)"
  # Per-module files and "sideEffects": false let the bundler drop the rest (weights included).
  [ $((100 * ig)) -lt $((30 * full)) ]
}
check "an IG-only app bundle tree-shakes (< 30% of the whole library)" ig_only
grep '^bundle size' "$work/log"

if [ -f examples/browser/run-in-chromium.mjs ]; then
  check "browser example (examples/browser/run-in-chromium.mjs)" \
    node examples/browser/run-in-chromium.mjs "$app"
fi

echo "package: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]

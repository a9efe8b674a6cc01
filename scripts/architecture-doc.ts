/**
 * Writes docs/architecture.md: for every op of the registry (src/ops/registry.ts), where its
 * forward and gradient rule are defined, which backend method it calls, the CPU and WGSL kernel
 * modules behind that method, and the tests that exercise it.
 *
 * The op list is the registry itself (imported, so an op missing from it cannot be documented
 * here either); the rest is read from the sources: the module that defines each registry entry,
 * the `backend.<method>(` calls in its definition, the modules the two backends' methods call
 * into, and the test files that call the op's function or name it.
 *
 *   npx esbuild scripts/architecture-doc.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=dist/architecture-doc.mjs && node dist/architecture-doc.mjs
 *
 * With --check it writes nothing and exits 1 when docs/architecture.md is out of date.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { ops } from "../src/ops/registry.ts";

const root = process.cwd();
const read = (p: string) => readFileSync(join(root, p), "utf8");
const rel = (p: string) => relative(root, p).split("\\").join("/");

/** Import specifiers of a module: local name -> repo-relative file. */
function importsOf(file: string): Map<string, string> {
  const out = new Map<string, string>();
  const text = read(file);
  const re = /import\s+(type\s+)?(\{[^}]*\}|\*\s+as\s+\w+|\w+)\s+from\s+"(\.[^"]+)"/g;
  for (const m of text.matchAll(re)) {
    if (m[1]) continue;
    const target = rel(normalize(join(root, dirname(file), m[3])));
    const names = m[2].startsWith("{")
      ? m[2]
          .slice(1, -1)
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s && !s.startsWith("type "))
          .map((s) => s.split(/\s+as\s+/).pop()!)
      : [m[2].replace(/^\*\s+as\s+/, "")];
    for (const n of names) out.set(n, target);
  }
  return out;
}

/** The text of the top-level statement or class member starting at `start` (brace-matched). */
function block(text: string, start: number): string {
  const open = text.indexOf("{", start);
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(start, i + 1);
  }
  return text.slice(start);
}

/** Registry entry -> the module defining it, from the registry's own imports. */
function definingModules(): Map<string, string> {
  const file = "src/ops/registry.ts";
  const text = read(file);
  const imports = importsOf(file);
  const table = block(text, text.indexOf("= {", text.indexOf("export const ops")));
  const out = new Map<string, string>();
  for (const m of table.matchAll(/^\s+(\w+): ([\w.]+),$/gm)) {
    const ident = m[2].split(".")[0];
    out.set(m[1], imports.get(ident) ?? file);
  }
  for (const m of table.matchAll(/^\s+\.\.\.(\w+),$/gm)) {
    const source = imports.get(m[1]);
    if (!source) continue;
    // The spread table (the unary ops) supplies every name not listed explicitly.
    for (const name of Object.keys(ops)) if (!out.has(name)) out.set(name, source);
  }
  return out;
}

/** Backend methods an op's definition calls (the whole module's when it builds ops by factory). */
function backendMethods(op: string, file: string): string[] {
  const text = read(file);
  const calls = (s: string) => [...new Set([...s.matchAll(/backend\.(\w+)\(/g)].map((m) => m[1]))];
  const decls = [...text.matchAll(/OpDef<"(\w+)">\s*=\s*defineOp\(/g)];
  const decl = decls.find((d) => d[1] === op);
  if (decl) return calls(block(text, decl.index)).filter((m) => !HOUSEKEEPING.includes(m));
  // Built by a factory: the module's calls, less those of the ops it declares one by one.
  const others = new Set(decls.flatMap((d) => calls(block(text, d.index))));
  const methods = calls(text).filter((m) => !others.has(m));
  return methods.filter((m) => !HOUSEKEEPING.includes(m));
}

/** Backend calls that allocate or free rather than compute. */
const HOUSEKEEPING = ["fill", "free", "upload", "read"];

/** Method -> kernel modules it calls, for one backend class. */
function kernelModules(file: string): Map<string, string[]> {
  const text = read(file);
  const imports = importsOf(file);
  const out = new Map<string, string[]>();
  for (const m of text.matchAll(/^ {2}(?:async )?(\w+)\(/gm)) {
    // A member ends at the first line that closes at its indentation (return types may hold braces).
    const end = text.indexOf("\n  }\n", m.index);
    const body = text.slice(m.index, end < 0 ? undefined : end);
    const used = new Set<string>();
    for (const id of body.matchAll(/\b(\w+)(?:\.\w+)?\(/g)) {
      const target = imports.get(id[1]);
      if (target && !/(backend|buffers|gpu-data|cpu-data|shape|context|runtime)\.ts$/.test(target))
        used.add(target);
    }
    if (!out.has(m[1])) out.set(m[1], [...used]);
  }
  return out;
}

function testFiles(): string[] {
  const dirs = ["test", "test/suites", "test/kernels", "test/webgpu", "test/rules"];
  return dirs.flatMap((d) =>
    readdirSync(join(root, d))
      .filter((f) => /\.(test\.)?ts$/.test(f) && (d !== "test" || f.endsWith(".test.ts")))
      .map((f) => `${d}/${f}`),
  );
}

/** Test files that call the op (by its name as a function) or name it in a string. */
function testsOf(op: string, files: readonly string[], texts: Map<string, string>): string[] {
  const re = new RegExp(`((?<![.\\w])${op}\\(|"${op}")`);
  return files.filter((f) => re.test(texts.get(f)!));
}

const link = (f: string) => `[${f.replace(/^src\//, "")}](../${f})`;

function generate(): string {
  const defs = definingModules();
  const cpu = kernelModules("src/kernels/cpu/cpu-backend.ts");
  const gpu = kernelModules("src/kernels/webgpu/webgpu-backend.ts");
  const tests = testFiles();
  const texts = new Map(tests.map((f) => [f, read(f)]));
  const rows = Object.keys(ops).map((op) => {
    const def = defs.get(op) ?? "?";
    const methods = existsSync(join(root, def)) ? backendMethods(op, def) : [];
    const kernels = (table: Map<string, string[]>, backendFile: string) => {
      if (methods.length === 0) return "-";
      // An optional method the backend lacks: the op is never run there (see its definition).
      if (!methods.some((m) => table.has(m))) return "- (not implemented; not used there)";
      const files = [...new Set(methods.flatMap((m) => table.get(m) ?? []))];
      // A method with no kernel module of its own is written inline in the backend class.
      return (files.length > 0 ? files : [backendFile]).map(link).join("<br>");
    };
    const t =
      testsOf(op, tests, texts)
        .map((f) => f.replace(/^test\//, ""))
        .join(", ") || "-";
    const backend =
      methods.map((m) => `\`${m}\``).join(", ") ||
      "none (composed of other ops, a view, or user code)";
    const cpuKernel = kernels(cpu, "src/kernels/cpu/cpu-backend.ts");
    const gpuKernel = kernels(gpu, "src/kernels/webgpu/webgpu-backend.ts");
    return `| \`${op}\` | ${link(def)} | ${backend} | ${cpuKernel} | ${gpuKernel} | ${t} |`;
  });
  return `# Architecture: where each op lives

Generated by \`scripts/architecture-doc.ts\` from the op registry (\`src/ops/registry.ts\`); do
not edit by hand. Regenerate after adding an op or moving a kernel:

\`\`\`
npx esbuild scripts/architecture-doc.ts --bundle --platform=node --format=esm --packages=external --outfile=dist/architecture-doc.mjs && node dist/architecture-doc.mjs
\`\`\`

## Layers

- **Ops** (\`src/ops/\`): each primitive is one \`defineOp\` with its forward (a backend call) and
  its gradient rule (\`vjp\`, lazy per input) side by side. \`src/ops/registry.ts\` maps every op
  name to its definition; the mapped type makes an op without a rule a compile error, and the
  rule sets (\`src/rules/\`) fall back to these entries for the ops they do not replace.
  Composite ops (softmax, conv3d, blur, resize, ...) are built from these primitives and need no
  kernel or rule of their own.
- **Backends** (\`src/kernels/backend.ts\`): one interface, implemented by the CPU backend
  (\`src/kernels/cpu/\`, TypeScript with wasm SIMD for GEMM, direct conv, Winograd conv, 3x3 max pooling and elementwise) and the
  WebGPU backend (\`src/kernels/webgpu/\`, hand-written WGSL). Shape arithmetic both use is in
  \`src/kernels/shape.ts\`.
- **Rule sets** (\`src/rules/\`): tables of replacement VJPs by op name (guided backprop,
  deconvnet, LRP, DeepLIFT), active in a scope (\`withRules\`).
- **Tests**: \`test/suites/\` holds the op suites run on both backends (\`test/ops.test.ts\` on the
  CPU under vitest, \`test/webgpu/\` under Deno on lavapipe); \`test/kernels/\` tests CPU kernels
  directly.

## Ops

| op | forward and gradient rule | backend method | CPU kernel | WGSL kernel | tests |
| --- | --- | --- | --- | --- | --- |
${rows.join("\n")}
`;
}

const out = generate();
const target = join(root, "docs/architecture.md");
if (process.argv.includes("--check")) {
  const same = existsSync(target) && readFileSync(target, "utf8") === out;
  if (!same) {
    console.error("docs/architecture.md is out of date: run scripts/architecture-doc.ts");
    process.exit(1);
  }
} else {
  writeFileSync(target, out);
  console.log(`wrote ${rel(target)} (${Object.keys(ops).length} ops)`);
}

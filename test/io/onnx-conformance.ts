/**
 * Runs the ONNX backend conformance tests from Debian's libonnx-testdata against the importer:
 * every test whose ops are all supported and whose values are float32 or an integer type the
 * importer keeps on the host (uint8, int32, int64, bool) is run and its outputs compared with the
 * suite's reference outputs.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tidy } from "../../src/autodiff/tidy.ts";
import { OnnxUnsupportedError } from "../../src/models/io/onnx/errors.ts";
import type { HostArray } from "../../src/models/io/onnx/host.ts";
import { OnnxModel, unsupportedOps } from "../../src/models/io/onnx/model.ts";
import { parseModel, parseTensor } from "../../src/models/io/onnx/proto.ts";
import { tensor } from "../../src/ops/creation.ts";

export const ONNX_TESTDATA = "/usr/share/libonnx-testdata/data";
export const SUITES = ["node", "pytorch-converted", "pytorch-operator"];

export type Outcome =
  | { status: "passed" }
  | { status: "failed"; reason: string }
  | { status: "skipped"; reason: string }
  | { status: "not-candidate"; reason: string };

export interface CaseResult {
  name: string;
  outcome: Outcome;
}

/**
 * ONNX element types the importer runs: float32 as engine tensors; uint8, int32, int64 and bool as
 * host arrays (integer arithmetic wraps as in ONNX runtimes; uint8 pooling gathers exact values).
 */
const SUPPORTED_ELEM_TYPES = new Set([1, 2, 6, 7, 9]);
const ELEM_TYPE_NAMES: Record<number, string> = {
  0: "undefined",
  3: "int8",
  4: "uint16",
  5: "int16",
  8: "string",
  10: "float16",
  11: "double",
  12: "uint32",
  13: "uint64",
  14: "complex64",
  15: "complex128",
  16: "bfloat16",
};

const ATOL = 1e-4;
const RTOL = 1e-3;

function compare(
  name: string,
  got: ArrayLike<number>,
  shape: readonly number[],
  want: HostArray,
): string | null {
  if (shape.join() !== want.shape.join())
    return `${name}: shape [${shape}] vs expected [${want.shape}]`;
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.size; i++) {
    const a = got[i];
    const b = want.data[i];
    if (Number.isNaN(b) && Number.isNaN(a)) continue;
    if (b === a) continue;
    const excess = Math.abs(a - b) - (ATOL + RTOL * Math.abs(b));
    if (!(excess <= 0) && (at < 0 || excess > worst)) {
      worst = excess;
      at = i;
    }
  }
  return at < 0 ? null : `${name}: element ${at} is ${got[at]}, expected ${want.data[at]}`;
}

export function runCase(dir: string): Outcome {
  const model = parseModel(readFileSync(join(dir, "model.onnx")), dir);
  const missing = unsupportedOps(model);
  if (missing.length) return { status: "not-candidate", reason: `ops ${missing.join(", ")}` };
  const g = model.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const inputs = (g.input ?? []).filter((v) => !inits.has(v.name));
  for (const v of [...inputs, ...(g.output ?? [])]) {
    const t = v.type?.tensorType;
    if (!t) return { status: "skipped", reason: `value "${v.name}" is not a tensor` };
    if (!SUPPORTED_ELEM_TYPES.has(t.elemType ?? 0)) {
      return {
        status: "skipped",
        reason: `value "${v.name}" has element type ${t.elemType} (${ELEM_TYPE_NAMES[t.elemType ?? 0] ?? "unknown"}), which the importer does not run`,
      };
    }
  }
  let net: OnnxModel;
  try {
    net = new OnnxModel(model, { name: dir.split("/").pop() });
  } catch (e) {
    if (e instanceof OnnxUnsupportedError) return { status: "skipped", reason: e.message };
    return { status: "failed", reason: `load: ${(e as Error).message}` };
  }
  const sets = readdirSync(dir)
    .filter((d) => d.startsWith("test_data_set_"))
    .sort();
  for (const set of sets) {
    const read = (kind: string, i: number) =>
      parseTensor(readFileSync(join(dir, set, `${kind}_${i}.pb`)), `${set}/${kind}_${i}.pb`);
    const problem = tidy(() => {
      const feeds = inputs.map((v, i) => {
        const h = read("input", i);
        // Floats become engine tensors; uint8/int32/int64/bool stay on the host (exact integer semantics).
        return v.type!.tensorType!.elemType === 1
          ? tensor(Float32Array.from(h.data), [...h.shape])
          : h;
      });
      let outs: Record<string, import("../../src/autodiff/tensor.ts").Tensor>;
      try {
        outs = net.run(feeds);
      } catch (e) {
        if (e instanceof OnnxUnsupportedError)
          return { status: "skipped" as const, reason: e.message };
        return { status: "failed" as const, reason: `run: ${(e as Error).message}` };
      }
      for (let i = 0; i < net.outputNames.length; i++) {
        const name = net.outputNames[i];
        const y = outs[name];
        const bad = compare(name, y.dataSync(), y.shape, read("output", i));
        if (bad) return { status: "failed" as const, reason: `${set}: ${bad}` };
      }
      return null;
    });
    if (problem) return problem;
  }
  return { status: "passed" };
}

/** Every conformance case directory: `suite/name` and its path, sorted. */
export function listCases(filter?: (name: string) => boolean): { name: string; dir: string }[] {
  const out: { name: string; dir: string }[] = [];
  for (const suite of SUITES) {
    const root = join(ONNX_TESTDATA, suite);
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      if (filter && !filter(name)) continue;
      const dir = join(root, name);
      if (existsSync(join(dir, "model.onnx"))) out.push({ name: `${suite}/${name}`, dir });
    }
  }
  return out;
}

/** runCase, with a throw turned into a failed outcome. */
export function runCaseSafely(dir: string): Outcome {
  try {
    return runCase(dir);
  } catch (e) {
    return { status: "failed", reason: (e as Error).message };
  }
}

export function runConformance(filter?: (name: string) => boolean): CaseResult[] {
  return listCases(filter).map(({ name, dir }) => ({ name, outcome: runCaseSafely(dir) }));
}

export function summary(results: readonly CaseResult[]): string {
  const count = (s: Outcome["status"]) => results.filter((r) => r.outcome.status === s).length;
  const passed = count("passed");
  const tried = passed + count("failed");
  return `ONNX conformance: ${passed} passed of ${tried} tried (${count("skipped")} skipped: unsupported op/attribute; ${count("not-candidate")} use ops outside the supported set)`;
}

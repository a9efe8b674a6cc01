/**
 * Wasm relaxed SIMD, for its fused multiply-add (f32x4.relaxed_madd): one instruction and one
 * rounding per GEMM step instead of mul then add. Browsers since Chrome 114, Deno and Node >= 22
 * have it on; Node 20's V8 (11.3) has it behind --experimental-wasm-relaxed-simd, which this
 * turns on at run time (node:v8 setFlagsFromString) the first time it is asked, before any
 * module using it is compiled. SALIENT_CPU_FMA=0 in the environment keeps mul then add.
 */
import { envSetting } from "../env-setting.ts";
import { nodeProcess } from "./node-process.ts";
import { codeWriter, functionBody, section, uleb } from "./wasm-encode.ts";

/** The relaxed_madd opcode after the 0xfd prefix. */
export const RELAXED_MADD = 0x105;

let supported: boolean | undefined;

/** A module whose one function computes relaxed_madd on three constant vectors. */
function probeBytes(): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  section(1, [1, 0x60, 0, 1, 0x7b], out); // one type: () -> v128
  section(3, [1, 0], out);
  const { code, simd } = codeWriter();
  for (let v = 0; v < 3; v++) {
    simd(0x0c);
    for (let z = 0; z < 16; z++) code.push(0);
  }
  simd(RELAXED_MADD);
  const body = functionBody(0, code);
  const codeSec: number[] = [1];
  uleb(body.length, codeSec);
  section(10, [...codeSec, ...body], out);
  return new Uint8Array(out);
}

function fmaWanted(): boolean {
  return envSetting("SALIENT_CPU_FMA") !== "0";
}

/** Whether generated kernels may use relaxed_madd (validated once; may enable Node 20's flag). */
export function relaxedSimd(): boolean {
  supported ??= probe();
  return supported;
}

function probe(): boolean {
  if (typeof WebAssembly !== "object" || !fmaWanted()) return false;
  const bytes = probeBytes();
  try {
    if (WebAssembly.validate(bytes)) return true;
    const v8 = nodeProcess()?.getBuiltinModule?.("node:v8") as
      | { setFlagsFromString?: (flags: string) => void }
      | undefined;
    if (typeof v8?.setFlagsFromString !== "function") return false;
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/**
 * Writes acc + a * b (f32x4) onto the stack, each operand pushed by its callback: one
 * relaxed_madd with `fma`, else mul then add.
 */
export function emitMulAdd(
  simd: (op: number) => void,
  fma: boolean,
  acc: () => void,
  a: () => void,
  b: () => void,
): void {
  if (fma) {
    a();
    b();
    acc();
    simd(RELAXED_MADD);
  } else {
    acc();
    a();
    b();
    simd(0xe6); // f32x4.mul
    simd(0xe4); // f32x4.add
  }
}

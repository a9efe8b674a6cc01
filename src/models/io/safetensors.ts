/**
 * safetensors (Hugging Face): an 8-byte little-endian header length, a JSON header mapping names
 * to {dtype, shape, data_offsets}, then the raw little-endian data. Every offset is checked
 * against the file before anything is read; f16 and bf16 are widened to float32.
 */
import { DTYPE_BYTES, decodeFloat32, type StoredDType } from "./dtypes.ts";

export interface NamedArray {
  shape: number[];
  values: Float32Array;
}

const DTYPES: Record<string, StoredDType> = {
  F32: "float32",
  F16: "float16",
  BF16: "bfloat16",
  F64: "float64",
  I64: "int64",
  I32: "int32",
  I16: "int16",
  I8: "int8",
  U8: "uint8",
  BOOL: "bool",
};

export function readSafetensors(
  bytes: Uint8Array,
  name = "safetensors file",
): Map<string, NamedArray> {
  if (bytes.length < 8)
    throw new Error(`${name}: ${bytes.length} bytes is too short (needs an 8-byte header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.length - 8) {
    throw new Error(
      `${name}: header length ${headerLen} runs past the end of the ${bytes.length}-byte file (truncated?)`,
    );
  }
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new Error(`${name}: header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new Error(`${name}: header must be a JSON object mapping tensor names to their entries`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const out = new Map<string, NamedArray>();
  for (const [key, info] of Object.entries(header)) {
    if (key === "__metadata__") continue;
    const { dtype, shape, data_offsets: off } = info ?? {};
    if (!Object.hasOwn(DTYPES, dtype)) {
      throw new Error(
        `${name}: tensor "${key}" has unsupported dtype ${dtype} (expected one of ${Object.keys(DTYPES).join(", ")})`,
      );
    }
    const bytesPer = DTYPE_BYTES[DTYPES[dtype]];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`${name}: tensor "${key}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !(off[0] >= 0 && off[1] >= off[0] && off[1] <= dataLen)
    ) {
      throw new Error(
        `${name}: tensor "${key}" has offsets ${JSON.stringify(off)} outside the ${dataLen}-byte data section`,
      );
    }
    if (off[1] - off[0] !== n * bytesPer) {
      throw new Error(
        `${name}: tensor "${key}" [${shape}] ${dtype} needs ${n * bytesPer} bytes, offsets give ${off[1] - off[0]}`,
      );
    }
    const raw = bytes.subarray(dataStart + off[0], dataStart + off[1]);
    out.set(key, { shape, values: decodeFloat32(DTYPES[dtype], raw, n) });
  }
  return out;
}

/** Writes float32 tensors (names sorted, 8-byte aligned header as the reference writer does). */
export function writeSafetensors(
  tensors: ReadonlyMap<string, NamedArray>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const names = [...tensors.keys()].sort();
  for (const k of names) {
    const t = tensors.get(k)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.values.length)
      throw new Error(
        `writeSafetensors: "${k}" has ${t.values.length} values for shape [${t.shape}]`,
      );
    header[k] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  const raw = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(raw.length + ((8 - (raw.length % 8)) % 8)).fill(0x20);
  head.set(raw);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const k of names) {
    const v = tensors.get(k)!.values;
    for (let i = 0; i < v.length; i++, p += 4) view.setFloat32(p, v[i], true);
  }
  return out;
}

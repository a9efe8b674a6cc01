/**
 * safetensors (Hugging Face): an 8-byte little-endian header length, a JSON header mapping names
 * to {dtype, shape, data_offsets}, then the raw little-endian data. The header is validated as
 * the reference implementation does before anything is read: at most 100 MB, nested no deeper
 * than maxNestingDepth, each tensor's byte range the size its shape and dtype need, and the
 * ranges, sorted, tiling the data section exactly (no overlaps, gaps or trailing bytes). f16 and
 * bf16 are widened to float32.
 */
import { DTYPE_BYTES, decodeFloat32, type StoredDType } from "./dtypes.ts";
import { checkJsonDepth, checkLimit, ownLookup, quoteBounded, withSourceName } from "./limits.ts";

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

/** The reference implementation's cap on the header length. */
const MAX_HEADER_BYTES = 100_000_000;

interface Placed {
  key: string;
  dtype: StoredDType;
  shape: number[];
  count: number;
  begin: number;
  end: number;
}

/** A value from the header, as JSON cut short for a message. */
const shown = (v: unknown, max = 80): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} characters)`;
};

/** Reads a safetensors file into name -> {shape, values} (float32), checking every offset first. */
export function readSafetensors(
  bytes: Uint8Array,
  name = "safetensors file",
): Map<string, NamedArray> {
  return withSourceName(name, () => {
    const { header, dataStart } = readHeader(bytes, name);
    const dataLen = bytes.length - dataStart;
    const placed = placeTensors(header, dataLen, name);
    const out = new Map<string, NamedArray>();
    for (const t of placed) {
      const raw = bytes.subarray(dataStart + t.begin, dataStart + t.end);
      out.set(t.key, { shape: t.shape, values: decodeFloat32(t.dtype, raw, t.count) });
    }
    return out;
  });
}

function readHeader(bytes: Uint8Array, name: string) {
  if (bytes.length < 8)
    throw new Error(`${name}: ${bytes.length} bytes is too short (needs an 8-byte header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) {
    throw new Error(
      `${name}: header length ${declared} runs past the end of the ${bytes.length}-byte file (truncated?)`,
    );
  }
  const headerLen = Number(declared);
  if (headerLen > MAX_HEADER_BYTES) {
    throw new Error(
      `${name}: header length ${headerLen} is over the format's limit of ${MAX_HEADER_BYTES} bytes`,
    );
  }
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + headerLen));
  checkJsonDepth(text, `${name}: header`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name}: header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new Error(`${name}: header must be a JSON object mapping tensor names to their entries`);
  }
  return { header: header as Record<string, unknown>, dataStart: 8 + headerLen };
}

/** Validates every entry and that the byte ranges tile the data section. */
function placeTensors(header: Record<string, unknown>, dataLen: number, name: string): Placed[] {
  const placed: Placed[] = [];
  for (const [key, info] of Object.entries(header)) {
    if (key === "__metadata__") continue;
    const tensor = `${name}: tensor ${quoteBounded(key)}`;
    if (info === null || typeof info !== "object" || Array.isArray(info))
      throw new Error(
        `${tensor} must be an object {dtype, shape, data_offsets}, got ${shown(info)}`,
      );
    const { dtype, shape, data_offsets: off } = info as Record<string, unknown>;
    const stored = typeof dtype === "string" ? ownLookup(DTYPES, dtype) : undefined;
    if (!stored) {
      throw new Error(
        `${tensor} has unsupported dtype ${typeof dtype === "string" && dtype.length <= 40 ? dtype : shown(dtype)} (expected one of ${Object.keys(DTYPES).join(", ")})`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new Error(`${tensor} has an invalid shape ${shown(shape)}`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    checkLimit(tensor, `the element count of shape ${shown(shape)}`, count, "maxTensorElements");
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((o) => Number.isSafeInteger(o)) ||
      !(off[0] >= 0 && off[1] >= off[0] && off[1] <= dataLen)
    ) {
      throw new Error(
        `${tensor} has offsets ${shown(off)} outside the ${dataLen}-byte data section`,
      );
    }
    const need = count * DTYPE_BYTES[stored];
    if (off[1] - off[0] !== need) {
      throw new Error(
        `${tensor} ${shown(shape)} ${dtype} needs ${need} bytes, offsets give ${off[1] - off[0]}`,
      );
    }
    placed.push({
      key,
      dtype: stored,
      shape: shape as number[],
      count,
      begin: off[0],
      end: off[1],
    });
  }
  const sorted = [...placed].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: Placed | undefined;
  const label = (t: Placed) => `${quoteBounded(t.key)} (bytes ${t.begin} to ${t.end})`;
  for (const t of sorted) {
    if (t.begin < at) {
      throw new Error(
        `${name}: tensors ${label(previous!)} and ${label(t)} overlap; each byte of the data section must belong to one tensor`,
      );
    }
    if (t.begin > at) {
      throw new Error(
        `${name}: data bytes ${at} to ${t.begin} belong to no tensor (before ${label(t)}); the tensors must cover the data section without gaps`,
      );
    }
    at = t.end;
    if (t.end > t.begin) previous = t;
  }
  if (at !== dataLen) {
    throw new Error(
      `${name}: the tensors cover ${at} bytes of the ${dataLen}-byte data section; the remaining bytes belong to no tensor`,
    );
  }
  return placed;
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

/**
 * Decoding little-endian numeric buffers of the dtypes weight files use into float32 (or float64
 * for exact integers), shared by the safetensors, PyTorch and ONNX readers.
 */

export type StoredDType =
  | "float32"
  | "float16"
  | "bfloat16"
  | "float64"
  | "int64"
  | "int32"
  | "int16"
  | "int8"
  | "uint8"
  | "bool";

export const DTYPE_BYTES: Record<StoredDType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Counts come from files: anything but a non-negative integer of a known dtype is refused. */
function checkCount(dtype: StoredDType, count: number): void {
  if (!Object.hasOwn(DTYPE_BYTES, dtype))
    throw new Error(`decode: unknown dtype ${String(dtype).slice(0, 40)}`);
  if (!Number.isSafeInteger(count) || count < 0)
    throw new Error(`decode: element count ${count} is not a non-negative integer`);
}

/** IEEE half precision bits to a number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * Element i of `count` elements of `dtype` read from `bytes` as a number (int64 beyond 2^53
 * loses precision, as any float conversion must).
 */
export function decodeNumbers(dtype: StoredDType, bytes: Uint8Array, count: number): Float64Array {
  checkCount(dtype, count);
  const need = count * DTYPE_BYTES[dtype];
  if (bytes.length < need) {
    throw new Error(`decode: ${count} ${dtype} values need ${need} bytes, have ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(count);
  switch (dtype) {
    case "float32":
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case "float16":
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      break;
    case "bfloat16": {
      const word = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        word.setUint32(0, view.getUint16(2 * i, true) << 16);
        out[i] = word.getFloat32(0);
      }
      break;
    }
    case "float64":
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case "int64":
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(8 * i, true));
      break;
    case "int32":
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      break;
    case "int16":
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, true);
      break;
    case "int8":
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case "uint8":
    case "bool":
      for (let i = 0; i < count; i++) out[i] = bytes[i];
      break;
  }
  return out;
}

/** The same values as float32 (fast path for float32 input). */
export function decodeFloat32(dtype: StoredDType, bytes: Uint8Array, count: number): Float32Array {
  checkCount(dtype, count);
  if (dtype === "float32") {
    if (bytes.length < 4 * count) {
      throw new Error(
        `decode: ${count} float32 values need ${4 * count} bytes, have ${bytes.length}`,
      );
    }
    if (bytes.byteOffset % 4 === 0) {
      return new Float32Array(bytes.buffer, bytes.byteOffset, count).slice();
    }
    return new Float32Array(bytes.slice(0, 4 * count).buffer);
  }
  return Float32Array.from(decodeNumbers(dtype, bytes, count));
}

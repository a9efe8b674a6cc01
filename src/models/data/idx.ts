/** The IDX format of (Fashion-)MNIST: a big-endian header of dimensions, then uint8 data. */
import { sizeOf } from "../../kernels/shape.ts";
export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

export function parseIdx(bytes: Uint8Array, name = "IDX file"): IdxArray {
  if (bytes.length < 4)
    throw new Error(`${name}: ${bytes.length} bytes is too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0)
    throw new Error(`${name}: bad magic number (first two bytes must be 0)`);
  const type = bytes[2];
  if (type !== 0x08)
    throw new Error(`${name}: element type 0x${type.toString(16)} is not unsigned byte (0x08)`);
  const rank = bytes[3];
  const header = 4 + 4 * rank;
  if (bytes.length < header)
    throw new Error(`${name}: truncated header (${bytes.length} < ${header} bytes)`);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const n = sizeOf(shape);
  if (bytes.length !== header + n) {
    throw new Error(
      `${name}: expected ${header + n} bytes for shape [${shape}], got ${bytes.length} (truncated or corrupt)`,
    );
  }
  return { shape, data: bytes.subarray(header) };
}

/**
 * NumPy .npy files, format version 1.0: the magic "\x93NUMPY", version 1.0, a little-endian
 * uint16 header length, then a Python dict literal padded with spaces and a final newline so the
 * data starts at a multiple of 64 bytes, then the little-endian float32 data (C order).
 */
import { sizeOf } from "../kernels/shape.ts";

/**
 * A float32, C-order .npy file (format 1.0) of `values` with the given shape, readable by
 * numpy.load.
 */
export function encodeNpy(values: Float32Array, shape: readonly number[]): Uint8Array {
  const count = sizeOf(shape);
  if (count !== values.length)
    throw new Error(`encodeNpy: ${values.length} values do not fill shape [${shape}]`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + header.length + 1;
  header += `${" ".repeat((64 - (total % 64)) % 64)}\n`;
  if (header.length > 65535) throw new Error("encodeNpy: header too long for format 1.0");
  const out = new Uint8Array(10 + header.length + values.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const view = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

/** Reads a float32, C-order .npy (version 1.x or 2.x). */
export function decodeNpy(
  bytes: Uint8Array,
  name = ".npy file",
): { shape: number[]; values: Float32Array } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b))
    throw new Error(`${name}: not a .npy file (bad magic)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + hlen;
  const header = String.fromCharCode(...bytes.subarray(major === 1 ? 10 : 12, start));
  if (!/'descr':\s*'<f4'/.test(header))
    throw new Error(`${name}: only little-endian float32 is supported (header ${header.trim()})`);
  if (/'fortran_order':\s*True/.test(header))
    throw new Error(`${name}: Fortran-order arrays are not supported`);
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!m) throw new Error(`${name}: no shape in header ${header.trim()}`);
  const shape = m[1]
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = sizeOf(shape);
  if (bytes.length - start < count * 4)
    throw new Error(`${name}: ${bytes.length - start} data bytes for ${count} float32 values`);
  const values = new Float32Array(count);
  const data = new DataView(bytes.buffer, bytes.byteOffset + start);
  for (let i = 0; i < count; i++) values[i] = data.getFloat32(i * 4, true);
  return { shape, values };
}

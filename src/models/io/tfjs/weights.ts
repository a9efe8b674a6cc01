/**
 * tfjs weightsManifest reading: each group's shards are concatenated and its weights laid out one
 * after another (tfjs io/weights_loader). Every weight's byte range is checked against the bytes
 * the shards actually hold before anything is decoded; quantised weights (uint8/uint16 with
 * min + scale, or float16) are expanded to float32. Names and dtypes read from the manifest
 * index tables by own property only, and element counts are bounded before anything is decoded.
 */
import { sizeOf } from "../../../kernels/shape.ts";
import { halfToFloat } from "../dtypes.ts";
import { checkLimit, ownLookup, quoteBounded } from "../limits.ts";

export interface TfjsWeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

export interface TfjsWeightGroup {
  paths: string[];
  weights: TfjsWeightEntry[];
}

export interface NamedWeight {
  shape: number[];
  values: Float32Array;
}

const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

const label = (w: TfjsWeightEntry) => quoteBounded(String(w.name));

function bytesPer(w: TfjsWeightEntry, where: string): number {
  const q = w.quantization;
  if (q) {
    const b = ownLookup(QUANT_BYTES, String(q.dtype));
    if (!b) {
      throw new Error(
        `${where}: weight ${label(w)} uses quantization dtype ${quoteBounded(String(q.dtype))} (supported: uint8, uint16, float16)`,
      );
    }
    return b;
  }
  const b = ownLookup(STORED_BYTES, String(w.dtype));
  if (!b) {
    throw new Error(
      `${where}: weight ${label(w)} has dtype ${quoteBounded(String(w.dtype))} (supported: float32, int32, bool)`,
    );
  }
  return b;
}

function decode(w: TfjsWeightEntry, bytes: Uint8Array, n: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  const q = w.quantization;
  if (q?.dtype === "float16") {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  } else if (q) {
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    const u16 = q.dtype === "uint16";
    for (let i = 0; i < n; i++)
      out[i] = (u16 ? view.getUint16(2 * i, true) : bytes[i]) * scale + min;
  } else if (w.dtype === "float32") {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (w.dtype === "int32") {
    for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
  } else {
    for (let i = 0; i < n; i++) out[i] = bytes[i] ? 1 : 0;
  }
  return out;
}

function concatShards(paths: string[], readShard: (path: string) => Uint8Array): Uint8Array {
  const parts = paths.map((p) => readShard(p));
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Reads every weight of the manifest; throws (naming weight and bytes) on any size mismatch. */
export function readTfjsWeights(
  manifest: unknown,
  readShard: (path: string) => Uint8Array,
  where = "tfjs model",
): Map<string, NamedWeight> {
  if (!Array.isArray(manifest)) {
    throw new Error(`${where}: weightsManifest must be an array of {paths, weights} groups`);
  }
  const out = new Map<string, NamedWeight>();
  manifest.forEach((group: TfjsWeightGroup, gi) => {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) {
      throw new Error(`${where}: weightsManifest[${gi}] needs "paths" and "weights" arrays`);
    }
    const data = concatShards(group.paths, readShard);
    let offset = 0;
    for (const w of group.weights) {
      if (w === null || typeof w !== "object")
        throw new Error(`${where}: weightsManifest[${gi}] lists a weight that is not an object`);
      if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new Error(
          `${where}: weight ${label(w)} has an invalid shape (expected non-negative integers)`,
        );
      }
      const n = sizeOf(w.shape);
      checkLimit(`${where}: weight ${label(w)}`, "the element count", n, "maxTensorElements");
      const len = n * bytesPer(w, where);
      if (offset + len > data.length) {
        throw new Error(
          `${where}: weight ${label(w)} [${w.shape}] needs ${len} bytes at offset ${offset} of shards ${group.paths.join(", ")}, which hold only ${data.length} bytes (truncated shard?)`,
        );
      }
      if (out.has(w.name))
        throw new Error(`${where}: weight ${label(w)} appears twice in the manifest`);
      out.set(w.name, {
        shape: [...w.shape],
        values: decode(w, data.subarray(offset, offset + len), n),
      });
      offset += len;
    }
    if (offset !== data.length) {
      throw new Error(
        `${where}: shards ${group.paths.join(", ")} hold ${data.length} bytes but the manifest describes ${offset} (corrupt or mismatched shards)`,
      );
    }
  });
  return out;
}

/**
 * One entry point for weight files: the format is recognised from the bytes (safetensors,
 * PyTorch zip or legacy checkpoint, ONNX initializers), and the result is a name -> array map.
 * loadWeightsIntoModule checks the map against a module's architecture before assigning anything.
 */
import type { Module } from "../nn/module.ts";
import { withSourceName } from "./limits.ts";
import { readOnnxInitializers } from "./onnx/model.ts";
import { type PytorchOptions, readPytorchCheckpoint } from "./pytorch/checkpoint.ts";
import { readSafetensors } from "./safetensors.ts";
import type { WeightMap } from "./weights.ts";
import { ZipReader } from "./zip.ts";

/** The weight file formats loadWeights reads. */
export type WeightFormat = "safetensors" | "pytorch" | "onnx";

/** Recognises the format from the first bytes (the file name is only used in messages). */
export function sniffWeightFormat(bytes: Uint8Array, name = "weights file"): WeightFormat {
  if (ZipReader.sniff(bytes)) return "pytorch";
  if (bytes.length >= 9) {
    const len = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    // No check against the file length: a truncated file should reach the reader, which says so.
    // (Headers are capped at 100 MB by the format.)
    if (len >= 2n && len <= 100_000_000n && bytes[8] === 0x7b) return "safetensors";
  }
  // A legacy torch.save file starts with a protocol-2 pickle of its magic number.
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return "pytorch";
  // ONNX ModelProto: field 1 (ir_version, varint) or another low field tag first.
  if (bytes.length >= 2 && (bytes[0] === 0x08 || bytes[0] === 0x12 || bytes[0] === 0x3a))
    return "onnx";
  throw new Error(
    `${name}: unrecognised weight format (expected safetensors, a PyTorch .pth/.pt checkpoint or an ONNX model; first bytes ${[
      ...bytes.subarray(0, 8),
    ]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join(" ")})`,
  );
}

export interface LoadWeightsOptions extends Omit<PytorchOptions, "name"> {
  /** Force a format instead of sniffing it. */
  format?: WeightFormat;
}

/** Reads any supported weight file into a name -> {shape, values} map. */
export function loadWeights(
  bytes: Uint8Array,
  name = "weights file",
  o: LoadWeightsOptions = {},
): WeightMap {
  // Every reader names the file; withSourceName also covers anything they let through.
  return withSourceName(name, () => {
    const format = o.format ?? sniffWeightFormat(bytes, name);
    switch (format) {
      case "safetensors":
        return readSafetensors(bytes, name);
      case "pytorch":
        return readPytorchCheckpoint(bytes, { name, key: o.key, stripPrefix: o.stripPrefix });
      case "onnx":
        return readOnnxInitializers(bytes, name);
    }
  });
}

/** Options of loadWeightsIntoModule: format, strictness and keys to ignore. */
export interface LoadIntoOptions extends LoadWeightsOptions {
  /** Every key must match and none may be missing (default true). Shapes are always checked. */
  strict?: boolean;
  /**
   * Keys the file may hold that the module does not have, dropped silently (default: BatchNorm's
   * num_batches_tracked counters, which carry no weights).
   */
  ignore?: readonly RegExp[];
}

/**
 * What loadWeightsIntoModule did: the format, and the keys loaded, ignored, missing and unexpected.
 */
export interface LoadReport {
  format: WeightFormat;
  loaded: string[];
  ignored: string[];
  /** Only with strict: false. */
  missing: string[];
  unexpected: string[];
}

/**
 * Loads a weight file into a module. All keys and shapes are checked against the module first
 * (Module.loadStateDict); on any problem nothing is assigned and the error names the file.
 */
export function loadWeightsIntoModule(
  module: Module,
  bytes: Uint8Array,
  name = "weights file",
  o: LoadIntoOptions = {},
): LoadReport {
  const format = o.format ?? sniffWeightFormat(bytes, name);
  const all = loadWeights(bytes, name, { ...o, format });
  const own = module.stateDict();
  const ignore = o.ignore ?? [/(^|\.)num_batches_tracked$/];
  const dict: WeightMap = new Map();
  const ignored: string[] = [];
  for (const [k, v] of all) {
    if (!own.has(k) && ignore.some((r) => r.test(k))) ignored.push(k);
    else dict.set(k, v);
  }
  const strict = o.strict ?? true;
  try {
    module.loadStateDict(dict, { strict });
  } catch (e) {
    throw new Error(`${name}: ${(e as Error).message}`);
  }
  return {
    format,
    loaded: [...dict.keys()].filter((k) => own.has(k)),
    ignored,
    missing: [...own.keys()].filter((k) => !dict.has(k)),
    unexpected: [...dict.keys()].filter((k) => !own.has(k)),
  };
}

/** The common result of every weight reader: name -> contiguous float32 values and shape. */
import type { StoredDType } from "./dtypes.ts";
import type { NamedArray } from "./safetensors.ts";

/** One named array of a weight file, with its stored dtype when known. */
export interface WeightEntry extends NamedArray {
  /** The dtype the file stored (values are always float32 here). */
  dtype?: StoredDType;
}

/** A weight file's arrays by name. */
export type WeightMap = Map<string, WeightEntry>;

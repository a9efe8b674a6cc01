/**
 * What a torch.save pickle may reference: tensor rebuild functions, typed storage classes and
 * collections.OrderedDict. Everything else is refused by name. Tensors come out as descriptors
 * (storage, offset, size, stride); their values are read later from the archive.
 */
import type { StoredDType } from "../dtypes.ts";
import { ownLookup, quoteBounded } from "../limits.ts";
import { describe, type PyCallable, PyDict, PyTuple, type UnpicklePolicy } from "./unpickler.ts";

const STORAGE_DTYPES: Record<string, StoredDType> = {
  FloatStorage: "float32",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  DoubleStorage: "float64",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
};

/** A storage the pickle refers to by key; its bytes live in the archive. */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: StoredDType,
    readonly numel: number,
    readonly location: string,
    /** Legacy files: a view of elements [viewOffset, viewOffset + viewSize) of the root storage. */
    readonly viewOffset = 0,
    readonly viewSize = numel,
  ) {}
}

export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    /** Elements from the start of the storage (of the view, for a legacy storage view). */
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

class StorageType implements PyCallable {
  constructor(
    readonly qualname: string,
    readonly dtype: StoredDType,
  ) {}
}

const ints = (v: unknown, what: string): number[] => {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items?.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)) {
    throw new Error(`${what} must be a tuple of non-negative integers, got ${describe(v)}`);
  }
  return items as number[];
};

function rebuildTensor(args: unknown[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef))
    throw new Error(`expected a storage, got ${describe(storage)}`);
  if (typeof offset !== "number" || !Number.isInteger(offset) || offset < 0) {
    throw new Error(`storage offset must be a non-negative integer, got ${describe(offset)}`);
  }
  const sz = ints(size, "size");
  const st = ints(stride, "stride");
  if (sz.length !== st.length) throw new Error(`size [${sz}] and stride [${st}] differ in rank`);
  return new TensorRef(storage, offset, sz, st);
}

const fn = (qualname: string, call: (args: unknown[]) => unknown): PyCallable => ({
  qualname,
  call,
});

const parameter = (args: unknown[]) => {
  if (!(args[0] instanceof TensorRef))
    throw new Error(`expected a tensor, got ${describe(args[0])}`);
  return args[0];
};

const ALLOWED: Record<string, PyCallable> = {
  "collections.OrderedDict": fn("collections.OrderedDict", (args) => {
    const d = new PyDict("OrderedDict");
    const pairs = args[0];
    if (Array.isArray(pairs)) {
      for (const p of pairs)
        if (p instanceof PyTuple && p.items.length === 2) d.set(p.items[0], p.items[1]);
    }
    return d;
  }),
  "torch._utils._rebuild_tensor": fn("torch._utils._rebuild_tensor", rebuildTensor),
  "torch._utils._rebuild_tensor_v2": fn("torch._utils._rebuild_tensor_v2", rebuildTensor),
  "torch._utils._rebuild_parameter": fn("torch._utils._rebuild_parameter", parameter),
  "torch._utils._rebuild_parameter_with_state": fn(
    "torch._utils._rebuild_parameter_with_state",
    parameter,
  ),
};

/**
 * The policy for torch pickles. `storage` resolves a persistent id to a StorageRef (zip archives
 * and legacy files locate storage bytes differently).
 */
export function torchPolicy(
  storage: (
    key: string,
    dtype: StoredDType,
    numel: number,
    location: string,
    view: unknown,
  ) => StorageRef,
): UnpicklePolicy {
  return {
    global(module, name) {
      // Own-property lookups only: "torch.constructor" must not match Object.prototype.
      const q = `${module}.${name}`;
      const allowed = ownLookup(ALLOWED, q);
      if (allowed) return allowed;
      const dtype = module === "torch" ? ownLookup(STORAGE_DTYPES, name) : undefined;
      if (dtype) return new StorageType(q, dtype);
      throw new Error(
        `refused global ${q.length <= 120 ? q : quoteBounded(q, 120)}: a weights file may only reference tensor rebuilds, typed storages and collections.OrderedDict (nothing was executed)`,
      );
    },
    persistentLoad(pid) {
      const items = pid instanceof PyTuple ? pid.items : [];
      const [tag, type, key, location, numel, view] = items;
      if (tag !== "storage" || !(type instanceof StorageType)) {
        throw new Error(
          `unsupported persistent id ${describe(pid)} (expected ('storage', <torch storage type>, key, location, numel))`,
        );
      }
      if (typeof numel !== "number" || !Number.isInteger(numel) || numel < 0) {
        throw new Error(`storage ${describe(key)} has an invalid element count ${describe(numel)}`);
      }
      if (typeof key !== "string") throw new Error(`storage key ${describe(key)} is not a string`);
      return storage(key, type.dtype, numel, String(location), view);
    },
    build(obj, state) {
      if (obj instanceof PyDict)
        obj.attrs = state; // OrderedDict._metadata
      else if (!(obj instanceof TensorRef)) throw new Error(`cannot set state on ${describe(obj)}`);
      return obj;
    },
  };
}

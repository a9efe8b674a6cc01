/**
 * PyTorch checkpoints (.pth / .pt): the zip format of torch.save (1.6+) and the older legacy
 * format (a sequence of pickles followed by raw storages). The pickle is read by the restricted
 * unpickler; tensors are rebuilt from their storages (offset, size and stride honoured) into
 * contiguous float32 arrays.
 *
 * Sizes, strides and offsets come from the file, so every view is checked to lie inside its
 * storage, and the elements materialised are bounded before allocating: per tensor by
 * maxTensorElements, and in total to the storages' own elements plus maxTensorElements (a
 * stride-0 view or one storage shared by many keys would otherwise multiply a small file).
 */
import { sizeOf } from "../../../kernels/shape.ts";
import { DTYPE_BYTES, decodeFloat32, type StoredDType } from "../dtypes.ts";
import { checkLimit, withSourceName } from "../limits.ts";
import type { WeightEntry, WeightMap } from "../weights.ts";
import { ZipReader } from "../zip.ts";
import { StorageRef, TensorRef, torchPolicy } from "./torch-policy.ts";
import { describe, PyDict, PyTuple, type UnpicklePolicy, unpickle } from "./unpickler.ts";

/**
 * Options of readPytorchCheckpoint: the file name for errors, the state-dict key, and a key prefix
 * to strip.
 */
export interface PytorchOptions {
  /** The file name used in error messages. */
  name?: string;
  /**
   * The top-level entry that holds the state dict (e.g. "params_ema", "state_dict"). By default
   * the first of params_ema, params, state_dict, model, net that holds tensors, else the top
   * dict itself.
   */
  key?: string;
  /**
   * A prefix to remove from every key that has it. By default "module." (DataParallel) is
   * removed when every key starts with it; false keeps keys as they are.
   */
  stripPrefix?: string | false;
}

const DEFAULT_STATE_KEYS = ["params_ema", "params", "state_dict", "model", "net"];

/** The unpickled checkpoint: its object tree (tensors as TensorRefs) and a way to read tensors. */
export interface PytorchArchive {
  root: unknown;
  tensor(ref: TensorRef, key: string): WeightEntry;
}

/** Reads a checkpoint and returns its state dict (name -> contiguous float32 values). */
export function readPytorchCheckpoint(bytes: Uint8Array, o: PytorchOptions = {}): WeightMap {
  const name = o.name ?? "PyTorch checkpoint";
  return withSourceName(name, () => {
    const archive = openPytorchArchive(bytes, name);
    const dict = selectStateDict(archive.root, name, o.key);
    const entries = [...dict].filter(([, v]) => v instanceof TensorRef) as [unknown, TensorRef][];
    for (const [k] of entries) {
      if (typeof k !== "string")
        throw new Error(`${name}: a tensor is stored under the key ${describe(k)}, not a name`);
    }
    const named = entries as [string, TensorRef][];
    const prefix =
      o.stripPrefix ??
      (named.length && named.every(([k]) => k.startsWith("module.")) ? "module." : "");
    const budget = new ElementBudget(name);
    const out: WeightMap = new Map();
    for (const [k, ref] of named) {
      const key = prefix && k.startsWith(prefix) ? k.slice(prefix.length) : k;
      if (out.has(key))
        throw new Error(
          `${name}: key ${describe(key)} appears twice after removing the prefix "${prefix}"`,
        );
      budget.take(ref, k);
      out.set(key, archive.tensor(ref, k));
    }
    return out;
  });
}

/**
 * Bounds the elements a checkpoint materialises: the storages' own elements (counted once each)
 * plus at most maxTensorElements more from views that repeat elements or storages shared by
 * several keys.
 */
class ElementBudget {
  private stored = 0;
  private materialised = 0;
  private readonly seen = new Set<string>();
  constructor(private readonly name: string) {}

  take(ref: TensorRef, key: string): void {
    const n = elementCount(ref.size, `${this.name}: tensor ${describe(key)}`);
    if (!this.seen.has(ref.storage.key)) {
      this.seen.add(ref.storage.key);
      this.stored += ref.storage.numel;
    }
    this.materialised += n;
    checkLimit(
      `${this.name}: up to tensor ${describe(key)}`,
      "elements materialised beyond those the storages hold (stride-0 views, shared storages)",
      Math.max(0, this.materialised - this.stored),
      "maxTensorElements",
    );
  }
}

/** The element count of a tensor of `size`, refused past maxTensorElements. */
function elementCount(size: readonly number[], what: string): number {
  const n = sizeOf(size);
  checkLimit(what, `the element count of size [${size.slice(0, 8)}]`, n, "maxTensorElements");
  return n;
}

/** Unpickles a checkpoint (zip or legacy) without reading any tensor data yet. */
function openPytorchArchive(bytes: Uint8Array, name = "PyTorch checkpoint"): PytorchArchive {
  return ZipReader.sniff(bytes) ? openZip(bytes, name) : openLegacy(bytes, name);
}

function openZip(bytes: Uint8Array, name: string): PytorchArchive {
  const zip = new ZipReader(bytes, name);
  const pkls = zip.names().filter((n) => n === "data.pkl" || n.endsWith("/data.pkl"));
  if (pkls.length === 0) {
    throw new Error(
      `${name}: the zip archive has no data.pkl (not a torch.save checkpoint; entries: ${zip.names().slice(0, 8).join(", ")})`,
    );
  }
  const pkl = pkls.sort((a, b) => a.length - b.length)[0];
  const prefix = pkl.slice(0, -"data.pkl".length);
  if (
    zip.has(`${prefix}constants.pkl`) ||
    zip.names().some((n) => n.startsWith(`${prefix}code/`))
  ) {
    throw new Error(
      `${name}: this is a TorchScript archive (torch.jit.save); save model.state_dict() with torch.save instead`,
    );
  }
  if (zip.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
    if (order !== "little")
      throw new Error(
        `${name}: storages are ${order}-endian; only little-endian checkpoints are supported`,
      );
  }
  const policy = torchPolicy(
    (key, dtype, numel, location) => new StorageRef(key, dtype, numel, location),
  );
  const { value } = unpickle(zip.read(pkl), policy, `${name} (${pkl})`);
  const cache = new Map<string, { ref: StorageRef; values: Float32Array }>();
  const storage = (s: StorageRef, key: string): Float32Array => {
    const cached = cache.get(s.key);
    if (cached) {
      if (cached.ref.dtype !== s.dtype || cached.ref.numel !== s.numel) {
        throw new Error(
          `${name}: tensor ${describe(key)} reads storage ${describe(s.key)} as ${s.numel} ${s.dtype} elements, another tensor as ${cached.ref.numel} ${cached.ref.dtype}`,
        );
      }
      return cached.values;
    }
    const entry = `${prefix}data/${s.key}`;
    if (!zip.has(entry))
      throw new Error(
        `${name}: tensor ${describe(key)} needs storage ${describe(entry)}, which the archive lacks`,
      );
    const raw = zip.read(entry);
    const need = s.numel * DTYPE_BYTES[s.dtype];
    if (raw.length < need) {
      throw new Error(
        `${name}: storage "${entry}" has ${raw.length} bytes, ${s.numel} ${s.dtype} elements need ${need}`,
      );
    }
    const values = decodeFloat32(s.dtype, raw, s.numel);
    cache.set(s.key, { ref: s, values });
    return values;
  };
  return {
    root: value,
    tensor: (ref, key) =>
      rebuild(ref, storage(ref.storage, key), `${name}: tensor ${describe(key)}`),
  };
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

const plainData: UnpicklePolicy = {
  global(module, name) {
    throw new Error(
      `refused global ${module}.${name}: a legacy checkpoint header holds plain data only (nothing was executed)`,
    );
  },
};

function openLegacy(bytes: Uint8Array, name: string): PytorchArchive {
  if (bytes.length < 2 || bytes[0] !== 0x80) {
    throw new Error(
      `${name}: not a PyTorch checkpoint (neither a zip archive nor a legacy torch.save pickle)`,
    );
  }
  let pos = 0;
  const next = (policy: UnpicklePolicy, what: string) => {
    const r = unpickle(bytes, policy, `${name} (${what})`, pos);
    pos = r.end;
    return r.value;
  };
  const magic = next(plainData, "magic number");
  if (magic !== LEGACY_MAGIC)
    throw new Error(`${name}: a pickle, but not a torch.save checkpoint (no magic number)`);
  const version = next(plainData, "protocol version");
  if (version !== 1001)
    throw new Error(`${name}: unsupported legacy protocol version ${describe(version)}`);
  const sysInfo = next(plainData, "system info");
  if (sysInfo instanceof PyDict && sysInfo.map.get("little_endian") === false) {
    throw new Error(
      `${name}: written on a big-endian machine; only little-endian checkpoints are supported`,
    );
  }
  const roots = new Map<string, { dtype: StoredDType; numel: number }>();
  const policy = torchPolicy((key, dtype, numel, location, view) => {
    const known = roots.get(key);
    if (known && (known.dtype !== dtype || known.numel !== numel)) {
      throw new Error(
        `storage ${describe(key)} is declared as ${numel} ${dtype} elements here and as ${known.numel} ${known.dtype} elsewhere`,
      );
    }
    roots.set(key, { dtype, numel });
    if (view === null || view === undefined) return new StorageRef(key, dtype, numel, location);
    // (view_key, offset, view_size): elements [offset, offset + view_size) of the root storage.
    const [, offset, viewSize] = view instanceof PyTuple ? view.items : [];
    const count = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0;
    if (!(view instanceof PyTuple) || !count(offset) || !count(viewSize)) {
      throw new Error(
        `storage view of ${describe(key)} must be (key, offset, size) with non-negative integer offset and size, got ${describe(view)} (offset ${describe(offset)}, size ${describe(viewSize)})`,
      );
    }
    if ((offset as number) + (viewSize as number) > numel) {
      throw new Error(
        `storage view of ${describe(key)} covers elements ${offset} to ${(offset as number) + (viewSize as number)}, past the end of its ${numel}-element storage`,
      );
    }
    return new StorageRef(key, dtype, numel, location, offset as number, viewSize as number);
  });
  const root = next(policy, "object");
  const keys = next(plainData, "storage keys");
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) {
    throw new Error(`${name}: the storage key list at offset ${pos} is not a list of strings`);
  }
  const data = new Map<string, Float32Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys as string[]) {
    const info = roots.get(key);
    if (!info) throw new Error(`${name}: storage ${describe(key)} is listed but never referenced`);
    if (pos + 8 > bytes.length)
      throw new Error(
        `${name}: storage ${describe(key)} header at offset ${pos} is past the end of the file (truncated?)`,
      );
    const count = Number(view.getBigInt64(pos, true));
    const need = count * DTYPE_BYTES[info.dtype];
    if (count !== info.numel || pos + 8 + need > bytes.length) {
      throw new Error(
        `${name}: storage ${describe(key)} at offset ${pos}: ${count} elements recorded (${info.numel} expected), ${bytes.length - pos - 8} bytes left (truncated?)`,
      );
    }
    data.set(key, decodeFloat32(info.dtype, bytes.subarray(pos + 8, pos + 8 + need), count));
    pos += 8 + need;
  }
  return {
    root,
    tensor(ref, key) {
      const v = data.get(ref.storage.key);
      if (!v)
        throw new Error(
          `${name}: tensor ${describe(key)} needs storage ${describe(ref.storage.key)}, which the file lacks`,
        );
      return rebuild(ref, v, `${name}: tensor ${describe(key)}`);
    },
  };
}

/** Picks the dict that holds the weights (see PytorchOptions.key). */
function selectStateDict(root: unknown, name: string, key?: string): Map<unknown, unknown> {
  if (!(root instanceof PyDict))
    throw new Error(`${name}: the checkpoint holds a ${describe(root)}, not a dict of tensors`);
  const holdsTensors = (v: unknown) =>
    v instanceof PyDict && [...v.map.values()].some((t) => t instanceof TensorRef);
  const keys = listKeys(root);
  if (key !== undefined) {
    const v = root.map.get(key);
    if (!root.map.has(key)) throw new Error(`${name}: no top-level key "${key}" (have: ${keys})`);
    if (!holdsTensors(v))
      throw new Error(`${name}: "${key}" holds ${describe(v)}, not a dict of tensors`);
    return asStringMap(v as PyDict);
  }
  for (const k of DEFAULT_STATE_KEYS)
    if (holdsTensors(root.map.get(k))) return asStringMap(root.map.get(k) as PyDict);
  if (holdsTensors(root)) return asStringMap(root);
  throw new Error(`${name}: no dict of tensors found (top-level keys: ${keys})`);
}

/** The first few keys of a dict, each cut short, for a message. */
function listKeys(d: PyDict, max = 12): string {
  const shown = [...d.map.keys()]
    .slice(0, max)
    .map((k) => (typeof k === "string" && k.length <= 80 ? k : describe(k)));
  return d.map.size > max ? `${shown.join(", ")}, ... (${d.map.size} keys)` : shown.join(", ");
}

// Non-string keys keep their identity here; readPytorchCheckpoint refuses them for tensors.
const asStringMap = (d: PyDict) => new Map<unknown, unknown>(d.map);

/**
 * Gathers a (possibly strided) view of a decoded storage into a contiguous array. The view must
 * lie inside the storage (or, for a legacy storage view, inside that view of the root storage);
 * its element count is checked before anything is allocated.
 */
function rebuild(ref: TensorRef, storage: Float32Array, what: string): WeightEntry {
  const { size, stride } = ref;
  const { viewOffset, viewSize } = ref.storage;
  const rank = `[${size.slice(0, 8)}] with stride [${stride.slice(0, 8)}] at offset ${ref.offset}`;
  const counts = [ref.offset, viewOffset, viewSize, ...size, ...stride];
  if (!counts.every((v) => Number.isSafeInteger(v) && v >= 0) || size.length !== stride.length)
    throw new Error(`${what} ${rank}: sizes, strides and offsets must be non-negative integers`);
  const n = elementCount(size, what);
  const shape = [...size];
  const dtype = ref.storage.dtype;
  if (n === 0) return { shape, values: new Float32Array(0), dtype };
  // This tensor sees elements [viewOffset, viewOffset + viewSize) of the decoded storage.
  const available = Math.min(viewSize, storage.length - viewOffset);
  const last = size.reduce((s, d, i) => s + (d - 1) * stride[i], ref.offset);
  if (!(last < available)) {
    throw new Error(
      `${what} ${rank} reads element ${last} of a storage of ${Math.max(0, available)} elements`,
    );
  }
  const offset = viewOffset + ref.offset;
  let contiguous = true;
  for (let i = size.length - 1, expect = 1; i >= 0; i--) {
    if (size[i] !== 1 && stride[i] !== expect) contiguous = false;
    expect *= size[i];
  }
  if (contiguous) return { shape, values: storage.slice(offset, offset + n), dtype };
  const values = new Float32Array(n);
  const idx = new Array<number>(size.length).fill(0);
  let src = offset;
  for (let i = 0; i < n; i++) {
    values[i] = storage[src];
    for (let ax = size.length - 1; ax >= 0; ax--) {
      if (++idx[ax] < size[ax]) {
        src += stride[ax];
        break;
      }
      src -= (size[ax] - 1) * stride[ax];
      idx[ax] = 0;
    }
  }
  return { shape, values, dtype };
}

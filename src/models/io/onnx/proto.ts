/**
 * ONNX protobuf messages (the fields the importer reads), decoded with the small wire reader, and
 * tensor payloads (raw_data or the typed repeated fields) decoded into host arrays.
 */
import { sizeOf } from "../../../kernels/shape.ts";
import { decodeNumbers, type StoredDType } from "../dtypes.ts";
import { checkLimit } from "../limits.ts";
import { OnnxUnsupportedError } from "./errors.ts";
import { HostArray, type HostDType } from "./host.ts";
import { WireReader } from "./wire.ts";

export interface TensorProto {
  name?: string;
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  uint64Data?: number[];
  rawData?: Uint8Array;
  dataLocation?: number;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  /** Subgraphs and other attribute kinds are only recorded as present. */
  other?: boolean;
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeProto[];
}

export interface ValueInfoProto {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: (number | string)[] } };
}

export interface GraphProto {
  name?: string;
  node?: NodeProto[];
  initializer?: TensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
}

export interface ModelProto {
  irVersion?: number;
  opsetImport?: { domain?: string; version?: number }[];
  graph?: GraphProto;
}

function readTensor(r: WireReader): TensorProto {
  const t: TensorProto = {
    dims: [],
    floatData: [],
    int32Data: [],
    int64Data: [],
    doubleData: [],
    uint64Data: [],
  };
  r.each((n, w) => {
    if (n === 1) r.repeated(w, () => r.svarint(), t.dims!);
    else if (n === 2) t.dataType = r.svarint();
    else if (n === 4) r.repeated(w, () => r.float(), t.floatData!);
    else if (n === 5) r.repeated(w, () => r.svarint(), t.int32Data!);
    else if (n === 7) r.repeated(w, () => r.svarint(), t.int64Data!);
    else if (n === 8) t.name = r.string();
    else if (n === 9) t.rawData = r.bytesField();
    else if (n === 10) r.repeated(w, () => r.double(), t.doubleData!);
    else if (n === 11) r.repeated(w, () => r.uvarint(), t.uint64Data!);
    else if (n === 14) t.dataLocation = r.svarint();
    else r.skip(w);
  });
  return t;
}

function readAttribute(r: WireReader): AttributeProto {
  const a: AttributeProto = { floats: [], ints: [], strings: [] };
  r.each((n, w) => {
    if (n === 1) a.name = r.string();
    else if (n === 20) a.type = r.svarint();
    else if (n === 2) a.f = r.float();
    else if (n === 3) a.i = r.svarint();
    else if (n === 4) a.s = r.bytesField();
    else if (n === 5) a.t = readTensor(r.message());
    else if (n === 7) r.repeated(w, () => r.float(), a.floats!);
    else if (n === 8) r.repeated(w, () => r.svarint(), a.ints!);
    else if (n === 9) a.strings!.push(r.bytesField());
    else {
      if (n === 6 || n === 10 || n === 11 || n === 22 || n === 23) a.other = true;
      r.skip(w);
    }
  });
  return a;
}

function readNode(r: WireReader): NodeProto {
  const node: NodeProto = { input: [], output: [], attribute: [] };
  r.each((n, w) => {
    if (n === 1) node.input!.push(r.string());
    else if (n === 2) node.output!.push(r.string());
    else if (n === 3) node.name = r.string();
    else if (n === 4) node.opType = r.string();
    else if (n === 7) node.domain = r.string();
    else if (n === 5) node.attribute!.push(readAttribute(r.message()));
    else r.skip(w);
  });
  return node;
}

function readValueInfo(r: WireReader): ValueInfoProto {
  const v: ValueInfoProto = {};
  r.each((n, w) => {
    if (n === 1) v.name = r.string();
    else if (n === 2) {
      const tr = r.message();
      v.type = {};
      tr.each((tn, tw) => {
        if (tn !== 1) return tr.skip(tw);
        const tt: { elemType?: number; shape?: (number | string)[] } = {};
        const ttr = tr.message();
        ttr.each((k, kw) => {
          if (k === 1) tt.elemType = ttr.svarint();
          else if (k === 2) {
            tt.shape = [];
            const sr = ttr.message();
            sr.each((d, dw) => {
              if (d !== 1) return sr.skip(dw);
              const dr = sr.message();
              let dim: number | string = "?";
              dr.each((f, fw) => {
                if (f === 1) dim = dr.svarint();
                else if (f === 2) dim = dr.string();
                else dr.skip(fw);
              });
              tt.shape!.push(dim);
            });
          } else ttr.skip(kw);
        });
        v.type!.tensorType = tt;
      });
    } else r.skip(w);
  });
  return v;
}

function readGraph(r: WireReader): GraphProto {
  const g: GraphProto = { node: [], initializer: [], input: [], output: [] };
  r.each((n, w) => {
    if (n === 1) g.node!.push(readNode(r.message()));
    else if (n === 2) g.name = r.string();
    else if (n === 5) g.initializer!.push(readTensor(r.message()));
    else if (n === 11) g.input!.push(readValueInfo(r.message()));
    else if (n === 12) g.output!.push(readValueInfo(r.message()));
    else r.skip(w);
  });
  return g;
}

function readModel(r: WireReader): ModelProto {
  const m: ModelProto = { opsetImport: [] };
  r.each((n, w) => {
    if (n === 1) m.irVersion = r.svarint();
    else if (n === 7) m.graph = readGraph(r.message());
    else if (n === 8) {
      const o: { domain?: string; version?: number } = {};
      const or = r.message();
      or.each((k, kw) => {
        if (k === 1) o.domain = or.string();
        else if (k === 2) o.version = or.svarint();
        else or.skip(kw);
      });
      m.opsetImport!.push(o);
    } else r.skip(w);
  });
  return m;
}

interface ElementType {
  dtype: HostDType;
  stored?: StoredDType;
  /** Bytes per element in raw_data. */
  bytes: number;
}

/** TensorProto.DataType codes (read from the file, so looked up in a Map, never an object). */
const TYPES = new Map<number, ElementType>([
  [1, { dtype: "float32", stored: "float32", bytes: 4 }],
  [2, { dtype: "uint8", stored: "uint8", bytes: 1 }],
  [3, { dtype: "int8", stored: "int8", bytes: 1 }],
  [4, { dtype: "uint16", bytes: 2 }],
  [5, { dtype: "int16", stored: "int16", bytes: 2 }],
  [6, { dtype: "int32", stored: "int32", bytes: 4 }],
  [7, { dtype: "int64", stored: "int64", bytes: 8 }],
  [9, { dtype: "bool", stored: "bool", bytes: 1 }],
  [10, { dtype: "float16", stored: "float16", bytes: 2 }],
  [11, { dtype: "float64", stored: "float64", bytes: 8 }],
  [12, { dtype: "uint32", bytes: 4 }],
  [13, { dtype: "uint64", bytes: 8 }],
  [16, { dtype: "bfloat16", stored: "bfloat16", bytes: 2 }],
]);

const TYPE_NAMES = new Map<number, string>([
  [8, "string"],
  [14, "complex64"],
  [15, "complex128"],
]);

function elementType(dataType: number, what: string): ElementType {
  const t = TYPES.get(dataType);
  if (!t)
    throw new OnnxUnsupportedError(
      `${what}: unsupported tensor element type ${TYPE_NAMES.get(dataType) ?? dataType}` +
        ` (supported: ${[...TYPES.values()].map((e) => e.dtype).join(", ")})`,
    );
  return t;
}

export function dtypeOf(dataType: number, what: string): HostDType {
  return elementType(dataType, what).dtype;
}

function decodeRaw(dataType: number, raw: Uint8Array, n: number, what: string): Float64Array {
  const t = elementType(dataType, what);
  if (raw.length !== n * t.bytes) {
    throw new Error(
      `${what}: raw_data has ${raw.length} bytes, ${n} ${t.dtype} elements need ${n * t.bytes}`,
    );
  }
  if (t.stored) return decodeNumbers(t.stored, raw, n);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (t.dtype === "uint16") out[i] = view.getUint16(2 * i, true);
    else if (t.dtype === "uint32") out[i] = view.getUint32(4 * i, true);
    else out[i] = Number(view.getBigUint64(8 * i, true));
  }
  return out;
}

/** Decodes a TensorProto (any numeric type) into a host array of float64 values. */
export function decodeTensor(t: TensorProto, what = `tensor "${t.name ?? ""}"`): HostArray {
  const dtype = dtypeOf(t.dataType ?? 0, what);
  if (t.dataLocation === 1) {
    throw new OnnxUnsupportedError(
      `${what}: stored as external data (a separate file); only self-contained models are supported`,
    );
  }
  const shape = t.dims ?? [];
  if (!shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new Error(`${what}: invalid dims [${shape}] (dimensions must be non-negative integers)`);
  const n = sizeOf(shape);
  checkLimit(what, `the element count of dims [${shape}]`, n, "maxTensorElements");
  let data: Float64Array;
  if (t.rawData && t.rawData.length > 0) data = decodeRaw(t.dataType!, t.rawData, n, what);
  else {
    const dt = t.dataType!;
    const src: ArrayLike<number> =
      dt === 1
        ? (t.floatData ?? [])
        : dt === 11
          ? (t.doubleData ?? [])
          : dt === 7
            ? (t.int64Data ?? [])
            : dt === 12 || dt === 13
              ? (t.uint64Data ?? [])
              : (t.int32Data ?? []);
    if (src.length !== n) {
      throw new Error(`${what}: ${src.length} values stored for shape [${shape}] (${n} elements)`);
    }
    data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = src[i];
    // float16 / bfloat16 values travel as their bit patterns in int32_data.
    if (dt === 10 || dt === 16) {
      const bits = new Uint16Array(data);
      data = decodeNumbers(dt === 10 ? "float16" : "bfloat16", new Uint8Array(bits.buffer), n);
    }
  }
  return new HostArray(dtype, shape, data);
}

/** Parses a serialized ModelProto, with the file name and byte offset in any error. */
export function parseModel(bytes: Uint8Array, name: string): ModelProto {
  let m: ModelProto;
  try {
    m = readModel(new WireReader(bytes, name));
  } catch (e) {
    throw new Error(
      `${name}: not a valid ONNX model (${(e as Error).message.replace(`${name}: `, "")})`,
    );
  }
  if (!m.graph)
    throw new Error(`${name}: not an ONNX model (no graph found in ${bytes.length} bytes)`);
  return m;
}

export function parseTensor(bytes: Uint8Array, name: string): HostArray {
  let t: TensorProto;
  try {
    t = readTensor(new WireReader(bytes, name));
  } catch (e) {
    throw new Error(
      `${name}: not a valid ONNX TensorProto (${(e as Error).message.replace(`${name}: `, "")})`,
    );
  }
  return decodeTensor(t, name);
}

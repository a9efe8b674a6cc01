/**
 * An ONNX model as a salient Module: float initializers become named parameters (its state dict),
 * nodes run in topological order with the engine's differentiable ops, and integer shape
 * computations run on the host. Unsupported ops and attributes are refused when the model is
 * loaded, naming the op and the node.
 */

import { state } from "../../../autodiff/state.ts";
import { Tensor, type Variable } from "../../../autodiff/tensor.ts";
import { tidy } from "../../../autodiff/tidy.ts";
import { sizeOf } from "../../../kernels/shape.ts";
import { tensor } from "../../../ops/creation.ts";
import { Module, type StateDict } from "../../nn/module.ts";
import { applyTap, tapActive } from "../../nn/taps.ts";
import type { StoredDType } from "../dtypes.ts";
import { checkLimit, LimitError } from "../limits.ts";
import type { WeightMap } from "../weights.ts";
import { Attrs } from "./attrs.ts";
import { OpContext, type OpSpec } from "./context.ts";
import { OnnxUnsupportedError } from "./errors.ts";
import { planConvRelus } from "./fuse-conv-relu.ts";
import { planUpsampleConvs, runUpsampleConv } from "./fuse-upsample-conv.ts";
import { HostArray, isFloat, toTensor, type Value } from "./host.ts";
import { convOps } from "./ops-conv.ts";
import { elementwiseOps } from "./ops-elementwise.ts";
import { extraOps } from "./ops-extra.ts";
import { nnOps } from "./ops-nn.ts";
import { shapeOps } from "./ops-shape.ts";
import { decodeTensor, type ModelProto, type NodeProto, parseModel } from "./proto.ts";
import { resizeOps } from "./resize.ts";
import { formatShape } from "./sizes.ts";

const ONNX_OPS: Readonly<Record<string, OpSpec>> = {
  ...elementwiseOps,
  ...convOps,
  ...shapeOps,
  ...nnOps,
  ...resizeOps,
  ...extraOps,
};

/** Initializers up to this size keep a host copy (scales, bounds, pads read as plain numbers). */
const HOST_COPY_LIMIT = 64;

interface Prepared {
  node: NodeProto;
  spec: OpSpec;
  attrs: Attrs;
  where: string;
  inputs: string[];
  outputs: string[];
}

export type OnnxFeeds =
  | Readonly<Record<string, Tensor | HostArray>>
  | readonly (Tensor | HostArray)[];

/** A value the graph computes that a layer method can tap: by tensor name, or by node name. */
export interface OnnxLayerName {
  /** The tensor's name (e.g. "/relu2/Relu_output_0"). */
  tensor: string;
  /** The node that computes it ("" when unnamed), and its op type. */
  node: string;
  opType: string;
  /** The node's input names (tensors, weights or graph inputs). */
  inputs: string[];
  /** Whether the node name also names this tensor (a node's first output). */
  firstOutput: boolean;
  /** The node's attributes (e.g. a BatchNormalization's epsilon). */
  attrs: Attrs;
}

export interface OnnxOptions {
  /** The file name used in error messages. */
  name?: string;
}

const describeNode = (n: NodeProto, i: number) => `node "${n.name || `#${i}`}" (${n.opType})`;

/** The op types in a model that this importer does not implement (empty when all are). */
export function unsupportedOps(model: ModelProto): string[] {
  const out = new Set<string>();
  for (const n of model.graph?.node ?? []) {
    const domain = n.domain ?? "";
    if ((domain !== "" && domain !== "ai.onnx") || !Object.hasOwn(ONNX_OPS, n.opType ?? "")) {
      out.add(domain && domain !== "ai.onnx" ? `${domain}.${n.opType}` : (n.opType ?? "?"));
    }
  }
  return [...out];
}

/**
 * An ONNX graph as a salient Module: initializers are its parameters (PyTorch names), and `run`
 * evaluates the graph differentiably on any backend.
 */
export class OnnxModel extends Module {
  readonly name: string;
  readonly opset: number;
  /** Graph inputs the caller feeds (initializers excluded). */
  readonly inputNames: string[];
  readonly outputNames: string[];
  /** The declared shape of each fed input (numbers, or symbolic names for dynamic axes). */
  readonly inputShapes: (number | string)[][];
  private readonly nodes: Prepared[];
  private readonly weights = new Map<string, Variable>();
  /** Non-float initializers (host only) and host copies of small float ones. */
  private readonly constants = new Map<string, HostArray>();
  /** For each value name, the index of the last node that reads it. */
  private readonly lastUse = new Map<string, number>();
  /** Resize -> Conv pairs that may run as one low-resolution conv (by run-order index). */
  private readonly convAfterResize = new Map<number, number>();
  private readonly resizeBeforeConv = new Map<number, number>();
  /** The Conv nodes (by name) that ran fused with their Resize in the last run. */
  fusedLastRun: string[] = [];
  /** Conv -> the Relu that alone reads its output (by run-order index; fuse-conv-relu.ts). */
  private readonly reluAfterConv = new Map<number, number>();
  /** The Conv nodes (by name) that applied their Relu in the last run. */
  reluFusedLastRun: string[] = [];

  constructor(model: ModelProto, o: OnnxOptions = {}) {
    super();
    this.name = o.name ?? "ONNX model";
    const g = model.graph!;
    const opsetEntry = (model.opsetImport ?? []).find((e) => !e.domain || e.domain === "ai.onnx");
    this.opset = opsetEntry?.version ?? 1;
    for (const init of g.initializer ?? []) {
      const key = init.name ?? "";
      const host = decodeTensor(init, `${this.name}: initializer "${key}"`);
      if (isFloat(host.dtype)) {
        this.weights.set(
          key,
          this.param(key, tensor(Float32Array.from(host.data), [...host.shape])),
        );
        if (host.size <= HOST_COPY_LIMIT) this.constants.set(key, host);
      } else this.constants.set(key, host);
    }
    const known = new Set([...this.weights.keys(), ...this.constants.keys()]);
    this.inputNames = (g.input ?? []).map((v) => v.name ?? "").filter((n) => !known.has(n));
    this.outputNames = (g.output ?? []).map((v) => v.name ?? "");
    this.inputShapes = this.inputNames.map((n) => {
      const info = (g.input ?? []).find((v) => v.name === n);
      return [...(info?.type?.tensorType?.shape ?? [])];
    });
    this.nodes = this.prepare(g.node ?? [], new Set([...known, ...this.inputNames]));
    this.nodes.forEach((p, i) => {
      for (const n of p.inputs) if (n) this.lastUse.set(n, i);
    });
    for (const { resize, conv } of planUpsampleConvs(this.nodes, this.outputNames, this.opset)) {
      this.convAfterResize.set(resize, conv);
      this.resizeBeforeConv.set(conv, resize);
      for (const n of this.nodes[resize].inputs) {
        if (n && this.lastUse.get(n)! < conv) this.lastUse.set(n, conv);
      }
    }
    for (const { conv, relu } of planConvRelus(this.nodes, this.outputNames)) {
      this.reluAfterConv.set(conv, relu);
    }
  }

  /** The Resize / Upsample -> Conv pairs planned to run as one conv: [resize, conv] node names. */
  upsampleConvPairs(): [string, string][] {
    return [...this.convAfterResize].map(([r, c]) => [
      this.nodes[r].node.name ?? "",
      this.nodes[c].node.name ?? "",
    ]);
  }

  /** Parses an ONNX file's bytes; see loadOnnx. */
  static fromBytes(bytes: Uint8Array, o: OnnxOptions = {}): OnnxModel {
    const name = o.name ?? "ONNX model";
    return namingFile(name, () => new OnnxModel(parseModel(bytes, name), { ...o, name }));
  }

  /** Checks every node and orders them so each runs after the nodes it reads from. */
  private prepare(nodes: readonly NodeProto[], available: Set<string>): Prepared[] {
    const pending = nodes.map((node, i) => {
      const where = `${this.name}: ${describeNode(node, i)}`;
      const domain = node.domain ?? "";
      if (domain !== "" && domain !== "ai.onnx") {
        throw new OnnxUnsupportedError(`${where}: op domain "${domain}" is not supported`);
      }
      const spec = Object.hasOwn(ONNX_OPS, node.opType ?? "") ? ONNX_OPS[node.opType!] : undefined;
      if (!spec) {
        throw new OnnxUnsupportedError(
          `${where}: unsupported ONNX op "${node.opType}" (supported: ${Object.keys(ONNX_OPS).sort().join(", ")})`,
        );
      }
      const attrs = new Attrs(node.attribute ?? [], where);
      for (const a of attrs.names()) {
        if (!spec.attrs.includes(a))
          throw new OnnxUnsupportedError(`${where}: unsupported attribute "${a}"`);
      }
      return {
        node,
        spec,
        attrs,
        where,
        inputs: [...(node.input ?? [])],
        outputs: [...(node.output ?? [])],
      };
    });
    // Kahn's algorithm, always taking the earliest ready node in file order: linear in the graph
    // size (a hostile file may list a long chain backwards), same order as the file when sorted.
    const ready = new Set(available);
    const waitingOn = pending.map((p) => new Set(p.inputs.filter((n) => n && !ready.has(n))).size);
    const readers = new Map<string, number[]>();
    pending.forEach((p, i) => {
      for (const n of new Set(p.inputs)) {
        if (!n || ready.has(n)) continue;
        const list = readers.get(n);
        if (list) list.push(i);
        else readers.set(n, [i]);
      }
    });
    const queue = new MinHeap();
    waitingOn.forEach((w, i) => {
      if (w === 0) queue.push(i);
    });
    const order: Prepared[] = [];
    while (queue.size > 0) {
      const p = pending[queue.pop()];
      order.push(p);
      for (const o of p.outputs) {
        if (!o || ready.has(o)) continue;
        ready.add(o);
        for (const j of readers.get(o) ?? []) if (--waitingOn[j] === 0) queue.push(j);
      }
    }
    if (order.length < pending.length) {
      const p = pending[waitingOn.findIndex((w) => w > 0)];
      const missing = p.inputs.filter((n) => n && !ready.has(n));
      throw new Error(
        `${p.where}: input(s) ${missing.map((m) => `"${m}"`).join(", ")} are never produced (or the graph has a cycle)`,
      );
    }
    for (const o of this.outputNames) {
      if (!ready.has(o)) throw new Error(`${this.name}: graph output "${o}" is never produced`);
    }
    return order;
  }

  /**
   * Every tensor a node computes, in evaluation order, with its node: what a layer method may
   * name (a tap on a node name sees the node's first output).
   */
  layerNames(): OnnxLayerName[] {
    return this.nodes.flatMap((p) =>
      p.outputs
        .filter((t) => t)
        .map((tensor, k) => ({
          tensor,
          node: p.node.name ?? "",
          opType: p.node.opType ?? "",
          inputs: p.inputs.filter((n) => n),
          firstOutput: k === 0,
          attrs: p.attrs,
        })),
    );
  }

  /** The float initializers by name (the graph's weights). */
  weightMap(): WeightMap {
    const out: WeightMap = new Map();
    for (const [k, v] of this.weights)
      out.set(k, {
        shape: [...v.shape],
        values: Float32Array.from(v.dataSync()),
        dtype: "float32",
      });
    return out;
  }

  override loadStateDict(dict: StateDict, o: { strict?: boolean } = {}): void {
    super.loadStateDict(dict, o);
    for (const [k, v] of dict) {
      if (!this.constants.has(k) || !this.weights.has(k)) continue;
      const values = "values" in v ? v.values : v.dataSync();
      this.constants.set(k, HostArray.of("float32", [...v.shape], values));
    }
  }

  /**
   * Runs the graph. Feeds are by input name or in input order; int64 inputs (shapes, axes) may be
   * HostArrays. Returns every graph output by name, as float32 tensors.
   */
  run(feeds: OnnxFeeds): Record<string, Tensor> {
    const env = new Map<string, Value>();
    const given = Array.isArray(feeds)
      ? new Map(this.inputNames.map((n, i) => [n, (feeds as readonly Value[])[i]]))
      : new Map(Object.entries(feeds as Record<string, Value>));
    for (const n of this.inputNames) {
      const v = given.get(n);
      if (v === undefined)
        throw new Error(
          `${this.name}: no value for input "${n}" (inputs: ${this.inputNames.join(", ")})`,
        );
      env.set(n, v);
    }
    for (const k of given.keys()) {
      if (!this.inputNames.includes(k))
        throw new Error(
          `${this.name}: unknown input "${k}" (inputs: ${this.inputNames.join(", ")})`,
        );
    }
    for (const [k, v] of this.constants) env.set(k, v);
    for (const [k, v] of this.weights) env.set(k, v);
    // Tapped values leave the run's scope (a tap may hold on to them, as with module outputs).
    const tapped: Tensor[] = [];
    return tidy(() => {
      const keepSet = new Set<Value>([...env.values()]);
      // Resizes whose Conv may run them fused wait for it (their inputs stay alive until then).
      const deferred = new Set<number>();
      // Relus whose Conv applied them (their outputs are stored already).
      const applied = new Set<number>();
      this.fusedLastRun = [];
      this.reluFusedLastRun = [];
      for (let i = 0; i < this.nodes.length; i++) {
        const p = this.nodes[i];
        if (applied.has(i)) {
          this.release(env, keepSet, p.inputs, i);
          continue;
        }
        if (this.convAfterResize.has(i) && !this.tapsOn(p)) {
          deferred.add(i);
          continue;
        }
        // Gradient rule sets pick rules per op: under one the Conv and its Relu stay apart.
        const reluAt = this.reluAfterConv.get(i);
        const relu =
          reluAt !== undefined && state.rules.length === 0 && !this.tapsOn(p) ? reluAt : -1;
        const resizeAt = this.resizeBeforeConv.get(i);
        const convContext = () => {
          const c = this.context(p, env);
          c.fuseRelu = relu >= 0;
          return c;
        };
        let ctx = convContext();
        let y: Value | (Value | undefined)[] | null = null;
        if (resizeAt !== undefined && deferred.has(resizeAt)) {
          try {
            y = runUpsampleConv(this.context(this.nodes[resizeAt], env), ctx);
          } catch (e) {
            throw rewrap(e, p.where);
          }
          if (y) this.fusedLastRun.push(p.node.name ?? "");
          else {
            this.runNode(this.nodes[resizeAt], env, keepSet, tapped);
            ctx = convContext(); // it reads the Resize's output now
          }
        }
        y ??= this.runOp(p, ctx);
        const ys = Array.isArray(y) ? y : [y];
        if (ctx.reluApplied) {
          this.reluFusedLastRun.push(p.node.name ?? "");
          applied.add(relu);
          this.store(this.nodes[relu], ys, env, keepSet, tapped);
        } else this.store(p, ys, env, keepSet, tapped);
        if (resizeAt !== undefined) this.release(env, keepSet, this.nodes[resizeAt].inputs, i);
        this.release(env, keepSet, p.inputs, i);
      }
      const out: Record<string, Tensor> = {};
      for (const n of this.outputNames) out[n] = toTensor(env.get(n)!);
      return { out, tapped };
    }).out;
  }

  private context(p: Prepared, env: Map<string, Value>): OpContext {
    return new OpContext(
      p.node.opType!,
      p.where,
      this.opset,
      p.attrs,
      p.inputs.map((n) => (n ? env.get(n) : undefined)),
      p.outputs,
      p.inputs.map((n) => (n ? this.constants.get(n) : undefined)),
    );
  }

  /** Runs one node and stores its outputs. */
  private runNode(p: Prepared, env: Map<string, Value>, keepSet: Set<Value>, tapped: Tensor[]) {
    const result = this.runOp(p, this.context(p, env));
    this.store(p, Array.isArray(result) ? result : [result], env, keepSet, tapped);
  }

  /** Runs one node's op, its errors prefixed with the node. */
  private runOp(p: Prepared, ctx: OpContext): Value | (Value | undefined)[] {
    try {
      return p.spec.run(ctx);
    } catch (e) {
      throw rewrap(e, p.where);
    }
  }

  /** Checks, taps and stores a node's outputs. */
  private store(
    p: Prepared,
    outs: (Value | undefined)[],
    env: Map<string, Value>,
    keepSet: Set<Value>,
    tapped: Tensor[],
  ): void {
    p.outputs.forEach((name, k) => {
      if (!name) return;
      const v = outs[k];
      if (v === undefined)
        throw new Error(`${p.where}: produced no value for output ${k} ("${name}")`);
      // Ops check the sizes they compute before allocating; this catches any that grew
      // through a path without such a check, before later nodes build on it.
      const size = sizeOf(v.shape);
      checkLimit(
        p.where,
        `the element count of output "${name}" ${formatShape(v.shape)} (a graph intermediate)`,
        size,
        "maxTensorElements",
      );
      env.set(name, this.tapped(p, name, k, v, keepSet, tapped));
    });
  }

  /** Whether a tap would see this node's first output (by tensor or node name). */
  private tapsOn(p: Prepared): boolean {
    const name = p.node.name ?? "";
    return tapActive(p.outputs[0]) || (name !== "" && tapActive(name));
  }

  /**
   * Passes a node output through any active tap on its tensor name, or on the node's name for its
   * first output. A tapped value is kept until the run ends: a tap may hold on to it.
   */
  private tapped(
    p: Prepared,
    name: string,
    k: number,
    v: Value,
    keepSet: Set<Value>,
    tapped: Tensor[],
  ): Value {
    const nodeName = k === 0 ? (p.node.name ?? "") : "";
    const byNode = nodeName !== "" && nodeName !== name && tapActive(nodeName);
    if (!(v instanceof Tensor) || !(tapActive(name) || byNode)) return v;
    let out = applyTap(name, v);
    if (byNode) out = applyTap(nodeName, out);
    keepSet.add(v);
    keepSet.add(out);
    tapped.push(v, out);
    return out;
  }

  /** Frees tensors whose last reader just ran (unless fed, a weight, or an output). */
  private release(env: Map<string, Value>, keepSet: Set<Value>, names: string[], i: number): void {
    for (const n of names) {
      if (!n || this.lastUse.get(n) !== i || this.outputNames.includes(n)) continue;
      const v = env.get(n);
      env.delete(n);
      if (!(v instanceof Tensor) || keepSet.has(v)) continue;
      let live = false;
      for (const w of env.values()) if (w === v) live = true;
      if (!live) v.dispose();
    }
  }

  /** Single-input models: the first output for input x. */
  forward(x: Tensor): Tensor {
    if (this.inputNames.length !== 1) {
      throw new Error(
        `${this.name}: forward(x) needs a single-input model; this one takes ${this.inputNames.join(", ")} (use run)`,
      );
    }
    return this.run([x])[this.outputNames[0]];
  }
}

/** Prefixes an op's error with the file and node (keeping its class where callers test it). */
function rewrap(thrown: unknown, where: string): Error {
  const e = thrown instanceof Error ? thrown : new Error(String(thrown));
  if (e.message.includes(where)) return e;
  if (e instanceof LimitError) return new LimitError(where, e.quantity, e.value, e.limit);
  if (e instanceof RangeError) {
    // The engine could not allocate or recurse: a size no check foresaw. Say where, plainly.
    return new Error(
      `${where}: this node's result is too large for memory or the stack (${e.message}); the model's shapes are likely corrupt or hostile`,
    );
  }
  const msg = `${where}: ${e.message}`;
  return e instanceof OnnxUnsupportedError ? new OnnxUnsupportedError(msg) : new Error(msg);
}

/** Runs fn so that every error it throws starts with the file name. */
function namingFile<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (thrown) {
    const e = thrown instanceof Error ? thrown : new Error(String(thrown));
    if (e.message.startsWith(name)) throw e;
    if (e instanceof LimitError) throw new LimitError(name, e.quantity, e.value, e.limit);
    const msg = `${name}: ${e.message}`;
    throw e instanceof OnnxUnsupportedError ? new OnnxUnsupportedError(msg) : new Error(msg);
  }
}

/** A binary min-heap of node indices (the next ready node in file order). */
class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(v: number): void {
    const a = this.items;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent] <= a[i]) break;
      [a[parent], a[i]] = [a[i], a[parent]];
      i = parent;
    }
  }
  pop(): number {
    const a = this.items;
    const top = a[0];
    const lastItem = a.pop()!;
    if (a.length > 0) {
      a[0] = lastItem;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

const STORED = new Set<string>([
  "float32",
  "float16",
  "bfloat16",
  "float64",
  "int64",
  "int32",
  "int16",
  "int8",
  "uint8",
  "bool",
]);

/** Parses and prepares an ONNX model from its bytes. */
export function loadOnnx(bytes: Uint8Array, o: OnnxOptions = {}): OnnxModel {
  return OnnxModel.fromBytes(bytes, o);
}

/** The float initializers of an ONNX file as a weight map (without building the graph). */
export function readOnnxInitializers(bytes: Uint8Array, name = "ONNX model"): WeightMap {
  return namingFile(name, () => initializersOf(parseModel(bytes, name), name));
}

function initializersOf(m: ModelProto, name: string): WeightMap {
  const out: WeightMap = new Map();
  for (const init of m.graph?.initializer ?? []) {
    const h = decodeTensor(init, `${name}: initializer "${init.name}"`);
    out.set(init.name ?? "", {
      shape: [...h.shape],
      values: Float32Array.from(h.data),
      dtype: STORED.has(h.dtype) ? (h.dtype as StoredDType) : undefined,
    });
  }
  return out;
}

/** What an ONNX op implementation sees: its node's attributes, input values and opset. */
import { Tensor } from "../../../autodiff/tensor.ts";
import type { Attrs } from "./attrs.ts";
import { OnnxUnsupportedError } from "./errors.ts";
import { type HostArray, toHost, toTensor, type Value } from "./host.ts";
import { checkedElements } from "./sizes.ts";

export class OpContext {
  constructor(
    readonly opType: string,
    /** `node "name" (OpType)` for messages. */
    readonly where: string,
    readonly opset: number,
    readonly attrs: Attrs,
    readonly inputs: readonly (Value | undefined)[],
    /** How many outputs the graph uses (trailing optional outputs may be absent). */
    readonly outputs: readonly string[],
    /** Host copies of small constant inputs (so their values need no device read-back). */
    private readonly hosts: readonly (HostArray | undefined)[] = [],
  ) {}

  /** Set by the graph when a Relu alone reads this Conv's output (fuse-conv-relu.ts). */
  fuseRelu = false;
  /** Set by the Conv op when it applied that ReLU to its output. */
  reluApplied = false;

  fail(msg: string): never {
    throw new Error(`${this.where}: ${msg}`);
  }

  /** A valid model using a feature this importer does not implement. */
  unsupported(msg: string): never {
    throw new OnnxUnsupportedError(`${this.where}: ${msg}`);
  }

  /**
   * Checks a shape this node is about to allocate (computed from attributes or constant inputs)
   * against the import limits, before the allocation; returns its element count.
   */
  allocates(shape: readonly number[], what = "its output"): number {
    return checkedElements(this.where, what, shape);
  }

  has(i: number): boolean {
    return this.inputs[i] !== undefined;
  }

  value(i: number): Value {
    const v = this.inputs[i];
    if (v === undefined) this.fail(`input ${i} is required`);
    return v;
  }

  /** Input i as a float32 engine tensor (host constants are uploaded). */
  tensor(i: number): Tensor {
    return toTensor(this.value(i));
  }

  isTensor(i: number): boolean {
    return this.inputs[i] instanceof Tensor;
  }

  host(i: number): HostArray {
    return this.hosts[i] ?? toHost(this.value(i), `${this.where}: input ${i}`);
  }

  /** Input i read as a list of integers (shapes, axes, pads). */
  ints(i: number): number[] {
    const h = this.host(i);
    return Array.from(h.data, (v) => {
      if (!Number.isFinite(v) || !Number.isInteger(v))
        this.fail(`input ${i} must hold integers, got ${v}`);
      return v;
    });
  }

  /** Axes from input i (newer opsets) or the attribute (older ones). */
  axes(input: number, attr = "axes"): number[] | undefined {
    if (this.has(input)) return this.ints(input);
    return this.attrs.ints(attr);
  }

  /** Whether output i is used by the graph. */
  wants(i: number): boolean {
    return (this.outputs[i] ?? "") !== "";
  }

  /** Rejects nodes that ask for outputs the implementation does not produce. */
  onlyOutputs(n: number, why: string): void {
    for (let i = n; i < this.outputs.length; i++) {
      if (this.wants(i))
        this.unsupported(`output ${i} ("${this.outputs[i]}") is not supported: ${why}`);
    }
  }

  /** Normalises a possibly negative axis against `rank`. */
  axis(a: number, rank: number): number {
    const ax = a < 0 ? a + rank : a;
    if (!Number.isInteger(ax) || ax < 0 || ax >= rank)
      this.fail(`axis ${a} is out of range for rank ${rank}`);
    return ax;
  }
}

export interface OpSpec {
  /** The attribute names the implementation understands; any other is refused at load time. */
  attrs: readonly string[];
  run(ctx: OpContext): Value | (Value | undefined)[];
}

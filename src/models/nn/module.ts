/**
 * Module: a differentiable function with named parameters, PyTorch-style. Parameters and buffers
 * are Variables with dotted names (`body.0.conv1.weight`) so PyTorch state dicts load as they are.
 */
import { resolveBackend } from "../../autodiff/context.ts";
import { fromHandle } from "../../autodiff/make.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { Variable } from "../../autodiff/tensor.ts";
import type { Backend } from "../../kernels/backend.ts";
import { tensor } from "../../ops/creation.ts";
import { applyTap } from "./taps.ts";

/**
 * Values by dotted parameter name: tensors, or plain {shape, values} as the weight readers return
 * them.
 */
export type StateDict = ReadonlyMap<
  string,
  Tensor | { shape: readonly number[]; values: Float32Array }
>;

/**
 * A network layer or model (PyTorch's nn.Module shape): parameters, buffers and child modules by
 * dotted name, forward on tensors, state dicts in and out.
 */
export abstract class Module {
  private readonly ownParams = new Map<string, Variable>();
  private readonly ownBuffers = new Map<string, Variable>();
  private readonly children = new Map<string, Module>();
  /** Dotted path of this module in its root (set when it is registered as a child). */
  path = "";
  /** Training mode (dropout active, batch norm on batch statistics); set with train() / eval(). */
  training = false;

  /** The computation; call `call` instead, so that taps on this module apply. */
  abstract forward(x: Tensor): Tensor;

  /** Runs forward and passes the output through any active tap for this module's path. */
  call(x: Tensor): Tensor {
    return applyTap(this.path, this.forward(x));
  }

  /** Registers a trainable parameter (takes ownership of `value`). */
  protected param(name: string, value: Tensor): Variable {
    const v = new Variable(value, name);
    value.dispose();
    this.ownParams.set(name, v);
    return v;
  }

  /** Non-trainable state that belongs in the state dict (e.g. batch-norm running statistics). */
  protected buffer(name: string, value: Tensor): Variable {
    const v = new Variable(value, name, false);
    value.dispose();
    this.ownBuffers.set(name, v);
    return v;
  }

  /** Registers a child module under `name` (its parameters become `name.*`). */
  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    m.setPath(this.path ? `${this.path}.${name}` : name);
    return m;
  }

  private setPath(p: string): void {
    this.path = p;
    for (const [n, c] of this.children) c.setPath(`${p}.${n}`);
  }

  /** The direct children with their names. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Every submodule by dotted path (the root is ""). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this.children) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** The submodule at a dotted path ("" is this module); throws listing the paths there are. */
  module(path: string): Module {
    const found = this.namedModules().find(([p]) => p === path);
    if (!found) {
      const names = this.namedModules()
        .map(([p]) => p)
        .filter(Boolean);
      throw new Error(
        `module: no submodule "${path}" (have: ${names.slice(0, 30).join(", ")}${names.length > 30 ? ", ..." : ""})`,
      );
    }
    return found[1];
  }

  /** Every trainable parameter by dotted name, depth first in registration order. */
  namedParameters(prefix = ""): [string, Variable][] {
    const out: [string, Variable][] = [];
    const join = (n: string) => (prefix ? `${prefix}.${n}` : n);
    for (const [n, p] of this.ownParams) out.push([join(n), p]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(join(n)));
    return out;
  }

  /** Every buffer (non-trainable state such as running statistics) by dotted name. */
  namedBuffers(prefix = ""): [string, Variable][] {
    const out: [string, Variable][] = [];
    const join = (n: string) => (prefix ? `${prefix}.${n}` : n);
    for (const [n, p] of this.ownBuffers) out.push([join(n), p]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(join(n)));
    return out;
  }

  /** Every trainable parameter. */
  parameters(): Variable[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** The number of trainable scalars. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Sets training mode on this module and every submodule; returns this. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  /** Sets evaluation mode (the mode attribution wants); returns this. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Moves every parameter and buffer of this module tree to `backend` (an instance or a registered
   * name), e.g. CPU-loaded weights onto a WebGPU backend, and resolves to the module itself. Reads
   * the values back first (async on a GPU) and swaps them in only once all are uploaded, so a
   * failure leaves the module where it was. Tensors already on `backend` are left alone; the old
   * storage is freed unless something else still holds it.
   */
  async to(backend: Backend | string): Promise<this> {
    const b = resolveBackend(backend, "Module.to");
    const vars = [...new Set(this.stateDict().values())].filter((v) => v.backend !== b);
    const values = await Promise.all(vars.map((v) => v.data()));
    const moved: Tensor[] = [];
    try {
      for (let i = 0; i < vars.length; i++) {
        const v = vars[i];
        moved.push(fromHandle(b.upload(values[i], v.shape, v.dtype), v.shape, v.dtype, b));
      }
      vars.forEach((v, i) => v.moveTo(moved[i]));
    } finally {
      for (const t of moved) t.dispose();
    }
    return this;
  }

  /** Parameters and buffers by dotted name (the live variables, not copies). */
  stateDict(): Map<string, Variable> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Loads values by dotted name. Every key must exist with the right shape; with `strict` (the
   * default) no parameter may be left out either. Nothing is assigned unless all checks pass.
   */
  loadStateDict(dict: StateDict, { strict = true } = {}): void {
    const own = this.stateDict();
    const problems: string[] = [];
    for (const [k, v] of dict) {
      const p = own.get(k);
      if (!p) {
        if (strict) problems.push(`unexpected key "${k}"`);
        continue;
      }
      if (v.shape.length !== p.shape.length || v.shape.some((d, i) => d !== p.shape[i])) {
        problems.push(`"${k}": file has shape [${v.shape}], model expects [${p.shape}]`);
      }
    }
    if (strict) for (const k of own.keys()) if (!dict.has(k)) problems.push(`missing key "${k}"`);
    if (problems.length) {
      throw new Error(
        `loadStateDict: ${problems.length} problem(s): ${problems.slice(0, 10).join("; ")}${problems.length > 10 ? "; ..." : ""}`,
      );
    }
    for (const [k, v] of dict) {
      const p = own.get(k);
      if (!p) continue;
      const t = "values" in v ? tensor(v.values, v.shape) : v;
      p.assign(t);
      if (t !== v) t.dispose();
    }
  }
}

/** Wraps a plain function as a module (for glue in compositions). */
export class Lambda extends Module {
  constructor(private readonly fn: (x: Tensor) => Tensor) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}

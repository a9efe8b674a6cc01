import type { Tensor } from "../../autodiff/tensor.ts";
import { Module } from "./module.ts";

/** Runs children in order; children are named "0", "1", ... like torch.nn.Sequential. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.child(String(i), m));
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.layers) y = m.call(y);
    return y;
  }
}

/** torch.nn.ModuleList: indexed children ("0", "1", ...) that the owner runs itself. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.child(String(i), m));
  }
  forward(x: Tensor): Tensor {
    throw new Error(`ModuleList "${this.path}" has no forward of its own (input [${x.shape}])`);
  }
}

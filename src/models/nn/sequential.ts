import type { Tensor } from "../../autodiff/tensor.ts";
import { callFoldingNorm } from "./linear-batch-norm.ts";
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
    // Under LRP rules, a layer and the eval BatchNorm after it run folded into one layer.
    for (let i = 0; i < this.layers.length; i++) {
      const r = callFoldingNorm(this.layers[i], this.layers[i + 1], y);
      y = r.y;
      if (r.consumedNext) i++;
    }
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

/** Optimisers that update Variables in place from a gradient map (as variableGrads returns). */
import type { Tensor, Variable } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add, div, mul, sub } from "../../ops/binary.ts";
import { tensor, zerosLike } from "../../ops/creation.ts";
import { sqrt, square } from "../../ops/unary.ts";

/**
 * A first-order optimizer that keeps its own per-variable state (momentum, moments) between steps.
 */
export interface Optimizer {
  /** Current learning rate; schedules set it before each step. */
  lr: number;
  /** Updates each variable from its gradient. */
  step(grads: ReadonlyMap<Variable, Tensor>): void;
}

/** SGD with optional momentum and weight decay (PyTorch semantics). */
export class SGD implements Optimizer {
  private readonly velocity = new Map<Variable, Tensor>();
  constructor(
    public lr: number,
    readonly momentum = 0,
    readonly weightDecay = 0,
  ) {}
  step(grads: ReadonlyMap<Variable, Tensor>): void {
    for (const [v, g0] of grads) {
      tidy(() => {
        let g = this.weightDecay ? add(g0, mul(v, this.weightDecay)) : g0;
        if (this.momentum) {
          const prev = this.velocity.get(v);
          const buf = keep(prev ? add(mul(prev, this.momentum), g) : mul(g, 1));
          prev?.dispose();
          this.velocity.set(v, buf);
          g = buf;
        }
        v.assign(sub(v, mul(g, this.lr)));
      });
    }
  }
}

/** Adam (Kingma & Ba) with bias correction, as torch.optim.Adam. */
export class Adam implements Optimizer {
  private readonly m = new Map<Variable, Tensor>();
  private readonly v = new Map<Variable, Tensor>();
  private t = 0;
  constructor(
    public lr = 1e-3,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
  ) {}
  /** Step count and first/second moments per variable (host copies), for checkpoints. */
  state(): { t: number; m: Map<Variable, Float32Array>; v: Map<Variable, Float32Array> } {
    const copy = (s: Map<Variable, Tensor>) =>
      new Map([...s].map(([p, t]) => [p, Float32Array.from(t.dataSync() as Float32Array)]));
    return { t: this.t, m: copy(this.m), v: copy(this.v) };
  }

  /** Restores what `state` returned, so the next step continues exactly. */
  loadState(s: {
    t: number;
    m: Map<Variable, Float32Array>;
    v: Map<Variable, Float32Array>;
  }): void {
    const load = (into: Map<Variable, Tensor>, from: Map<Variable, Float32Array>) => {
      for (const t of into.values()) t.dispose();
      into.clear();
      for (const [p, values] of from) {
        if (values.length !== p.size) {
          throw new Error(
            `Adam.loadState: ${values.length} moment values for a variable of ${p.size}`,
          );
        }
        into.set(p, keep(tensor(values, [...p.shape])));
      }
    };
    load(this.m, s.m);
    load(this.v, s.v);
    this.t = s.t;
  }

  step(grads: ReadonlyMap<Variable, Tensor>): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    for (const [p, g] of grads) {
      tidy(() => {
        const m0 = this.m.get(p) ?? zerosLike(p);
        const v0 = this.v.get(p) ?? zerosLike(p);
        const m = keep(add(mul(m0, this.beta1), mul(g, 1 - this.beta1)));
        const v = keep(add(mul(v0, this.beta2), mul(square(g), 1 - this.beta2)));
        m0.dispose();
        v0.dispose();
        this.m.set(p, m);
        this.v.set(p, v);
        const update = div(mul(m, this.lr / c1), add(sqrt(div(v, c2)), this.eps));
        p.assign(sub(p, update));
      });
    }
  }
}

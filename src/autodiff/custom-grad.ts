/**
 * customGrad: a function with a hand-written backward pass (the shape of JAX's custom_vjp). The
 * forward returns its value and any residuals; the backward maps the output cotangent and the
 * residuals to one cotangent per input. Ops inside the forward are not recorded.
 */
import { aliasOf, defineOp, type OpDef, runOp } from "./op.ts";
import type { Tensor } from "./tensor.ts";

export const customOp: OpDef<"custom"> = defineOp({
  name: "custom",
  forward(inputs, attrs) {
    const r = attrs.forward(inputs);
    // Aliases: the value and residuals may be inputs or outside tensors (forward: x => ({ value:
    // x, residuals: [x] })), which the op must neither return as its own output (the tape keys
    // tensors by id) nor dispose when it drops its residuals. Fresh ones are freed by the
    // forward's tidy scope and live on in their aliases.
    return { out: aliasOf(r.value), saved: (r.residuals ?? []).map(aliasOf) };
  },
  vjp(dy, { inputs, attrs, saved }) {
    let grads: Tensor[] | null = null;
    const all = () => {
      if (!grads) {
        grads = attrs.backward(dy, saved, inputs);
        if (grads.length !== inputs.length) {
          throw new Error(
            `customGrad${attrs.name ? ` "${attrs.name}"` : ""}: backward returned ${grads.length} gradients for ${inputs.length} inputs`,
          );
        }
      }
      return grads;
    };
    return inputs.map((_, i) => () => all()[i]);
  },
});

/**
 * An op with a hand-written backward pass: `forward` returns the value and residuals, `backward`
 * maps (dy, residuals, inputs) to one gradient per input (JAX's custom_vjp shape). `name` lets a
 * rule set target this op (`{ customRules: { [name]: rule } }`) and names it in messages.
 */
export function customGrad<A extends Tensor[]>(
  forward: (...xs: A) => { value: Tensor; residuals?: Tensor[] },
  backward: (dy: Tensor, residuals: readonly Tensor[], inputs: readonly Tensor[]) => Tensor[],
  name?: string,
): (...xs: A) => Tensor {
  if (name !== undefined && (typeof name !== "string" || name === "")) {
    throw new Error(`customGrad: name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  return (...xs) =>
    runOp(customOp, xs, { name, forward: (ins) => forward(...(ins as A)), backward });
}

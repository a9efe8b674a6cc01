/**
 * How an op is declared and run. An op's forward calls backend kernels (or other ops, which are
 * then not recorded); its vector-Jacobian product is written with other ops and returns one lazy
 * thunk per input, so gradients nobody asked for are never computed.
 */
import type { OpAttrs, OpName } from "./op-attrs.ts";

export type { OpName } from "./op-attrs.ts";

import { activeProfiler } from "./profile.ts";
import { resolveRule } from "./rule-set.ts";
import { state } from "./state.ts";
import { Tensor } from "./tensor.ts";
import { tidy } from "./tidy.ts";

export interface OpContext<K extends OpName = OpName> {
  readonly inputs: readonly Tensor[];
  readonly out: Tensor;
  readonly attrs: OpAttrs[K];
  /** Extra tensors the forward kept for the backward pass (e.g. max-pool winners). */
  readonly saved: readonly Tensor[];
}

export type GradThunk = (() => Tensor) | null | undefined;
export type Vjp<K extends OpName = OpName> = (
  dy: Tensor,
  ctx: OpContext<K>,
) => readonly GradThunk[];

export interface ForwardResult {
  out: Tensor;
  saved?: Tensor[];
}

export interface OpDef<K extends OpName = OpName> {
  readonly name: K;
  forward(inputs: readonly Tensor[], attrs: OpAttrs[K]): Tensor | ForwardResult;
  /** The default gradient rule (a rule set may replace it). */
  vjp: Vjp<K>;
  /** Fused activation, recorded as its own node so the rule active for it applies. */
  epilogue?(attrs: OpAttrs[K]): OpDef<"relu"> | null;
}

export interface TapeNode {
  readonly name: OpName;
  readonly ctx: OpContext;
  /** Resolved when the node is recorded: the innermost active rule set's entry, else the default. */
  readonly vjp: Vjp;
}

export function defineOp<K extends OpName>(def: OpDef<K>): OpDef<K> {
  return def;
}

function checkNaN(name: string, t: Tensor): void {
  if (!state.flags.checkNaN || !t.backend.readSync || t.dtype !== "float32") return;
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++) {
    if (Number.isNaN(v[i])) {
      throw new Error(
        `${name}: produced NaN at flat index ${i} of its output [${t.shape}] (checkNaN is on)`,
      );
    }
  }
}

export function runOp<K extends OpName>(
  def: OpDef<K>,
  inputs: readonly Tensor[],
  attrs: OpAttrs[K],
): Tensor {
  const profiler = activeProfiler();
  if (profiler === null || profiler.depth > 0) return runOpTimed(def, inputs, attrs, null);
  // Profiled: the forward's kernels under the op's name, the rest of runOp as engine time.
  const t0 = performance.now();
  const forward = { ms: 0 };
  const label = profiler.label(def.name, inputs);
  profiler.depth++;
  try {
    return runOpTimed(def, inputs, attrs, forward);
  } finally {
    profiler.depth--;
    profiler.add(label, "forward", forward.ms);
    profiler.add(label, "engine", performance.now() - t0 - forward.ms);
  }
}

/** runOp's work; `forward`, when given, receives the forward's wall time. */
function runOpTimed<K extends OpName>(
  def: OpDef<K>,
  inputs: readonly Tensor[],
  attrs: OpAttrs[K],
  forward: { ms: number } | null,
): Tensor {
  for (const x of inputs) x.assertAlive(`use as input of ${def.name}`);
  const tapes =
    state.recordingPaused > 0
      ? []
      : state.tapes.filter((tape) => inputs.some((x) => tape.isTracked(x)));
  state.recordingPaused++;
  let res: ForwardResult;
  const t0 = forward === null ? 0 : performance.now();
  try {
    res = tidy(() => {
      const r = def.forward(inputs, attrs);
      return r instanceof Tensor ? { out: r } : r;
    });
  } finally {
    state.recordingPaused--;
    if (forward !== null) forward.ms = performance.now() - t0;
  }
  const { out } = res;
  const saved = res.saved ?? [];
  checkNaN(def.name, out);
  if (tapes.length === 0) {
    for (const s of saved) s.dispose();
    return out;
  }
  const epilogue = def.epilogue?.(attrs) ?? null;
  // A fused activation: the linear node's output is an alias of the activation output. ReLU-family
  // rules only test the sign, and relu(z) > 0 exactly where z > 0, so the alias is exact for them.
  const preActivation = epilogue ? aliasOf(out) : out;
  const ctx: OpContext = { inputs: [...inputs], out: preActivation, attrs, saved };
  const nodes: TapeNode[] = [{ name: def.name, ctx, vjp: resolve(def, ctx) }];
  if (epilogue) {
    const actCtx: OpContext = { inputs: [preActivation], out, attrs: {}, saved: [] };
    nodes.push({ name: epilogue.name, ctx: actCtx, vjp: resolve(epilogue, actCtx) });
  }
  for (const tape of tapes) for (const n of nodes) tape.record(n);
  return out;
}

function resolve<K extends OpName>(def: OpDef<K>, ctx: OpContext): Vjp {
  return resolveRule(state.rules, def.name, ctx) ?? (def.vjp as Vjp);
}

/** A second tensor over the same storage (freed when both are). */
export function aliasOf(t: Tensor): Tensor {
  t.storage.refs++;
  return new Tensor(t.storage, t.shape, t.dtype);
}

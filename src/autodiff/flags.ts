import { type EngineFlags, state } from "./state.ts";

/** Engine debug flags, e.g. setFlags({ checkNaN: true }) to find the op that first makes NaN. */
export function setFlags(flags: Partial<EngineFlags>): EngineFlags {
  const previous = { ...state.flags };
  Object.assign(state.flags, flags);
  return previous;
}

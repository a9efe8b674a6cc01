/**
 * Checks of option values given as text (a command line's flags, the explorer's inputs): numbers
 * within a range, one of a list of words, HxW grids. A bad value is a UsageError that names the
 * option, what was expected and, for words, the nearest valid one. No platform APIs, so the method
 * registry can use these in the browser as well as the CLI.
 */

/** A mistake in how something was asked for (the CLI exits with status 2), as opposed to a failure. */
export class UsageError extends Error {}

/** "--name" for a flag name given with or without dashes. */
export const flag = (name: string) => `--${name.replace(/^-+/, "")}`;

/** Edit distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** The closest of `names` to `wrong`, if it is close enough to be a plausible typo. */
export function nearest(wrong: string, names: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Number.POSITIVE_INFINITY;
  for (const n of names) {
    const d = editDistance(wrong.toLowerCase(), n.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  const limit = Math.max(2, Math.floor(wrong.length / 3));
  return best !== null && (bestD <= limit || best.startsWith(wrong)) ? best : null;
}

export const didYouMean = (wrong: string, names: readonly string[], quote = (s: string) => s) => {
  const n = nearest(wrong, names);
  return n === null ? "" : `; did you mean ${quote(n)}?`;
};

/** The range a numeric flag accepts; unset bounds are open. */
export interface NumberRule {
  /** Whole numbers only. */
  integer?: boolean;
  /** Lower bound, included unless `minExclusive`. */
  min?: number;
  /** Upper bound (included). */
  max?: number;
  /** The lower bound is excluded (x > min). */
  minExclusive?: boolean;
}

/**
 * The flag's value as a number within the rule's range (the fallback when absent); a UsageError
 * naming the flag and the accepted range otherwise.
 */
export function numberFlag(name: string, v: string | undefined, rule: NumberRule): number;
export function numberFlag(
  name: string,
  v: string | undefined,
  rule: NumberRule,
  fallback: number,
): number;
export function numberFlag(
  name: string,
  v: string | undefined,
  rule: NumberRule,
  fallback?: number,
): number | undefined;
export function numberFlag(
  name: string,
  v: string | undefined,
  rule: NumberRule,
  fallback?: number,
): number | undefined {
  if (v === undefined) return fallback;
  const n = Number(v);
  const { min, max, integer, minExclusive } = rule;
  const ok =
    v.trim() !== "" &&
    Number.isFinite(n) &&
    (!integer || Number.isInteger(n)) &&
    (min === undefined || (minExclusive ? n > min : n >= min)) &&
    (max === undefined || n <= max);
  if (!ok) throw new UsageError(`${flag(name)} must be ${describeRule(rule)}, got "${v}"`);
  return n;
}

/** An integer flag >= min (1 unless given), or the fallback when absent. */
export function intFlag(name: string, v: string | undefined, fallback: number, min = 1): number {
  return numberFlag(name, v, { integer: true, min }, fallback);
}

/** A finite number flag, or the fallback when absent. */
export function numFlag(name: string, v: string | undefined, fallback: number): number {
  return numberFlag(name, v, {}, fallback);
}

function describeRule({ integer, min, max, minExclusive }: NumberRule): string {
  const kind = integer ? "an integer" : "a number";
  if (min !== undefined && max !== undefined)
    return minExclusive ? `${kind} in (${min}, ${max}]` : `${kind} from ${min} to ${max}`;
  if (min !== undefined) return `${kind} ${minExclusive ? ">" : ">="} ${min}`;
  if (max !== undefined) return `${kind} <= ${max}`;
  return kind;
}

/** One of the allowed words, or a UsageError listing them (with a suggestion). */
export function choiceFlag<T extends string>(
  name: string,
  v: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T))
    throw new UsageError(
      `${flag(name)} must be one of ${allowed.join(", ")}, got "${v}"${didYouMean(v, allowed, (s) => `"${s}"`)}`,
    );
  return v as T;
}

/** "HxW" as two positive integers, naming the option when it is not. */
export function parseGrid(v: string, flagName = "grid"): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(v.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) {
    throw new UsageError(
      `--${flagName} must be HxW with positive integers (e.g. 14x14), got "${v}"`,
    );
  }
  return [Number(m[1]), Number(m[2])];
}

/**
 * The command-line conventions every `salient` command shares: one flag table per command that
 * both parses (node:util parseArgs, strict) and prints `--help`, usage errors that suggest the
 * nearest name, and number checks that run before any model is loaded.
 */
import { parseArgs } from "node:util";

/** A mistake in how the command was called (exit status 2), as opposed to a failure (1). */
export class UsageError extends Error {}

export interface FlagSpec {
  /** "string" unless given. */
  type?: "string" | "boolean";
  multiple?: boolean;
  /** The value placeholder in help ("N", "PREFIX"). */
  value?: string;
  /** Applied when the flag is absent, and shown in help. */
  default?: string;
  /** Shown in help as the default when it is not one fixed value ("2 for fsrcnn-x2, else 4"). */
  defaultText?: string;
  required?: boolean;
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** The synopsis after "usage: salient NAME". */
  synopsis: string;
  flags: Readonly<Record<string, FlagSpec>>;
  /** Extra lines after the flag list. */
  notes?: string;
}

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

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.flags).map(([name, f]) => {
    const left = `  ${flag(name)}${f.type === "boolean" ? "" : ` ${f.value ?? "VALUE"}`}`;
    const def = f.required
      ? " (required)"
      : f.default !== undefined
        ? ` (default ${f.default})`
        : f.defaultText
          ? ` (default ${f.defaultText})`
          : "";
    return [left, `${f.help}${def}`];
  });
  rows.push(["  --help, -h", "print this help"]);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  const lines = [
    `usage: salient ${spec.name} ${spec.synopsis}`,
    `  ${spec.summary}`,
    "",
    "options:",
    ...rows.map(([l, r]) => `${l.padEnd(width)}${r}`),
  ];
  if (spec.notes) lines.push("", spec.notes.trimEnd());
  return `${lines.join("\n")}\n`;
}

export type Values = Record<string, string | undefined>;

/**
 * Parses `args` against the command's flags; unknown flags, stray positionals and missing
 * required flags are UsageErrors. String values (booleans come back as "true"/"false").
 */
export function parseFlags(spec: CommandSpec, args: readonly string[]): Values {
  return parseFlagLists(spec, args).values;
}

/** parseFlags, plus the repeated flags (multiple: true) as lists. */
export function parseFlagLists(
  spec: CommandSpec,
  args: readonly string[],
): { values: Values; lists: Record<string, string[]> } {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {};
  for (const [name, f] of Object.entries(spec.flags))
    options[name] = { type: f.type ?? "string", ...(f.multiple ? { multiple: true } : {}) };
  let parsed: Record<string, unknown>;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw usageFromParseError(spec, e as Error & { code?: string });
  }
  const out: Values = {};
  const lists: Record<string, string[]> = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    const v = parsed[name];
    if (Array.isArray(v)) {
      lists[name] = v as string[];
      out[name] = v.length ? String(v[v.length - 1]) : undefined;
    } else if (v === undefined) out[name] = f.default;
    else out[name] = String(v);
  }
  const missing = Object.entries(spec.flags)
    .filter(([name, f]) => f.required && out[name] === undefined)
    .map(([name]) => flag(name));
  if (missing.length)
    throw new UsageError(
      `${spec.name} needs ${missing.join(", ")}; see salient ${spec.name} --help`,
    );
  return { values: out, lists };
}

function usageFromParseError(spec: CommandSpec, e: Error & { code?: string }): UsageError {
  const names = Object.keys(spec.flags);
  const unknown = /Unknown option '(-{1,2}[^']*)'/.exec(e.message);
  if (unknown) {
    const wrong = unknown[1].replace(/^-+/, "").split("=")[0];
    return new UsageError(
      `unknown option ${flag(wrong)} for ${spec.name}${didYouMean(wrong, names, flag)} (see salient ${spec.name} --help)`,
    );
  }
  const positional = /Unexpected argument '([^']*)'/.exec(e.message);
  if (positional)
    return new UsageError(
      `unexpected argument "${positional[1]}" for ${spec.name}: every value follows a flag (see salient ${spec.name} --help)`,
    );
  const needsValue = /Option '(?:-\w, )?(--[^ ']+)[^']*' argument missing/.exec(e.message);
  if (needsValue) return new UsageError(`${needsValue[1]} needs a value`);
  return new UsageError(`${e.message} (see salient ${spec.name} --help)`);
}

export interface NumberRule {
  integer?: boolean;
  min?: number;
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

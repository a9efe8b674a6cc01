/**
 * The command-line conventions every `salient` command shares: one flag table per command that
 * both parses (node:util parseArgs, strict) and prints `--help`, usage errors that suggest the
 * nearest name, and number checks that run before any model is loaded.
 */
import { parseArgs } from "node:util";
import { didYouMean, flag, UsageError } from "../attribution/option-values.ts";

export {
  choiceFlag,
  didYouMean,
  flag,
  intFlag,
  type NumberRule,
  nearest,
  numberFlag,
  numFlag,
  UsageError,
} from "../attribution/option-values.ts";

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

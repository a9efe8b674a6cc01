/**
 * Resource limits for everything salient reads from files it did not write: weight files, ONNX
 * graphs, images. A hostile or corrupt file can declare sizes far beyond its own length (a
 * 69-byte PNG claiming 20000x20000 pixels, a stride-0 tensor of 1.6e9 elements, a zip bomb);
 * importers check every declared size against these limits *before* allocating, and refuse with
 * a `LimitError` that names the file, the quantity and the limit. Users with genuinely large
 * inputs raise a limit with `setImportLimits`.
 */

export interface ImportLimits {
  /** Elements of any one tensor read from a weight file or made by an imported graph. */
  maxTensorElements: number;
  /** Bytes produced by decompressing one entry (zip, deflate, PNG IDAT). */
  maxInflatedBytes: number;
  /** Pixels (width x height) of a decoded image. */
  maxImagePixels: number;
  /** Nesting depth of a parsed structure (pickle containers, JSON headers, ONNX subgraphs). */
  maxNestingDepth: number;
}

/** The defaults: 2^28 elements (1 GiB of float32), 1 GiB inflated, 100 megapixels, depth 1000. */
export const DEFAULT_IMPORT_LIMITS: Readonly<ImportLimits> = Object.freeze({
  maxTensorElements: 2 ** 28,
  maxInflatedBytes: 2 ** 30,
  maxImagePixels: 100_000_000,
  maxNestingDepth: 1000,
});

let current: ImportLimits = { ...DEFAULT_IMPORT_LIMITS };

/** The limits in force now. */
export function importLimits(): Readonly<ImportLimits> {
  return current;
}

/**
 * Raises or lowers some limits and returns the previous set (pass it back to restore).
 * Every value must be a positive number; `Infinity` turns a limit off.
 */
export function setImportLimits(limits: Partial<ImportLimits>): ImportLimits {
  for (const [key, value] of Object.entries(limits)) {
    if (!Object.hasOwn(DEFAULT_IMPORT_LIMITS, key)) {
      throw new Error(
        `setImportLimits: unknown limit "${key}" (known: ${Object.keys(DEFAULT_IMPORT_LIMITS).join(", ")})`,
      );
    }
    if (typeof value !== "number" || Number.isNaN(value) || value <= 0) {
      throw new Error(`setImportLimits: ${key} must be a positive number, got ${String(value)}`);
    }
  }
  const previous = current;
  current = { ...current, ...limits };
  return previous;
}

/** Runs fn with some limits changed, restoring the previous ones afterwards (sync only). */
export function withImportLimits<T>(limits: Partial<ImportLimits>, fn: () => T): T {
  const previous = setImportLimits(limits);
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/** A declared size in an input file exceeds a limit (see `setImportLimits`). */
export class LimitError extends Error {
  constructor(
    readonly source: string,
    readonly quantity: string,
    readonly value: number,
    readonly limit: keyof ImportLimits,
  ) {
    super(
      `${source}: ${quantity} is ${formatCount(value)}, over the limit of ${formatCount(current[limit])} ` +
        `(${limit}; raise it with setImportLimits({ ${limit}: ... }) if the file is trusted)`,
    );
    this.name = "LimitError";
  }
}

/** Throws a LimitError when `value` exceeds the named limit (NaN and negatives also refused). */
export function checkLimit(
  source: string,
  quantity: string,
  value: number,
  limit: keyof ImportLimits,
): void {
  if (!(value >= 0 && value <= current[limit]))
    throw new LimitError(source, quantity, value, limit);
}

function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return n >= 1e6 ? n.toExponential(2) : String(n);
}

/**
 * Looks a name read from a file up in a table by own property only, so names like
 * "constructor" or "toString" never match an inherited member.
 */
export function ownLookup<V>(table: Readonly<Record<string, V>>, name: string): V | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/**
 * A name or string read from a file, quoted and cut to `max` characters for an error message (a
 * hostile file's names can be megabytes long).
 */
export function quoteBounded(text: string, max = 80): string {
  return text.length <= max
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, max))}... (${text.length} characters)`;
}

/**
 * Makes an error name its source: messages that already start with `source` pass through; others
 * are prefixed with it (LimitErrors stay LimitErrors). A stack overflow, which only a structure
 * deeper than the readers' own depth checks can cause, is reported as such.
 */
function nameSource(source: string, e: unknown): Error {
  if (e instanceof Error && e.message.startsWith(source)) return e;
  if (e instanceof LimitError)
    return new LimitError(`${source}: ${e.source}`, e.quantity, e.value, e.limit);
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return new Error(`${source}: nested too deeply to read (${e.message}; maxNestingDepth)`, {
      cause: e,
    });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new Error(`${source}: ${message}`, { cause: e });
}

/** Runs an importer, making any error it throws name `source` (see nameSource). */
export function withSourceName<T>(source: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw nameSource(source, e);
  }
}

/**
 * Refuses JSON nested deeper than maxNestingDepth before it is parsed (a header of a few hundred
 * kilobytes of brackets would otherwise overflow the stack of whatever walks it).
 */
export function checkJsonDepth(text: string, where: string): void {
  const max = importLimits().maxNestingDepth;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) checkLimit(where, "JSON nesting depth", depth, "maxNestingDepth");
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** JSON.parse after checkJsonDepth; a syntax error names `where`. */
export function parseJsonBounded(text: string, where: string): unknown {
  checkJsonDepth(text, where);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Import limits from the command line: the library raises them with setImportLimits, a shell
 * user with environment variables (SALIENT_MAX_IMAGE_PIXELS=4e8 salient attribute ...), and the
 * messages say so in those terms.
 */
import { DEFAULT_IMPORT_LIMITS, type ImportLimits, setImportLimits } from "../models/io/limits.ts";
import { UsageError } from "./args.ts";

/** The environment variable of each limit. */
export const LIMIT_ENV: Readonly<Record<keyof ImportLimits, string>> = {
  maxTensorElements: "SALIENT_MAX_TENSOR_ELEMENTS",
  maxInflatedBytes: "SALIENT_MAX_INFLATED_BYTES",
  maxImagePixels: "SALIENT_MAX_IMAGE_PIXELS",
  maxNestingDepth: "SALIENT_MAX_NESTING_DEPTH",
};

/**
 * Applies the limits set in `env` and returns the previous ones (to restore); a value that is not
 * a positive number is a usage error.
 */
export function applyLimitEnv(env: Readonly<Record<string, string | undefined>>): ImportLimits {
  const limits: Partial<ImportLimits> = {};
  for (const key of Object.keys(DEFAULT_IMPORT_LIMITS) as (keyof ImportLimits)[]) {
    const raw = env[LIMIT_ENV[key]];
    if (raw === undefined || raw === "") continue;
    const value = Number(raw);
    if (!(value > 0)) {
      throw new UsageError(
        `${LIMIT_ENV[key]}="${raw}": expected a positive number (default ${DEFAULT_IMPORT_LIMITS[key]})`,
      );
    }
    limits[key] = value;
  }
  return setImportLimits(limits);
}

/** Rewrites a limit message's library hint (setImportLimits) into the CLI's (the variable). */
export function cliLimitHint(message: string): string {
  return message.replace(
    /raise it with setImportLimits\(\{ (\w+): \.\.\. \}\)/g,
    (whole, key: string) =>
      Object.hasOwn(LIMIT_ENV, key)
        ? `raise it with ${LIMIT_ENV[key as keyof ImportLimits]}=N in the environment`
        : whole,
  );
}

/** Whole numbers (integers >= 0) as the CLI reads them: class indices, window offsets, shard numbers. */

/** Whether n is an integer >= 0. */
export function isWholeNumber(n: number): boolean {
  return Number.isInteger(n) && n >= 0;
}

/** Text as a whole number (surrounding blanks allowed), or undefined when it is absent, blank or not one. */
export function parseWholeNumber(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const n = Number(text);
  return isWholeNumber(n) ? n : undefined;
}

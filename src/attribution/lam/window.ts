/** The LAM window: top-left corner (x = column, y = row) and size, in SR/HR pixels. */
export interface LamWindow {
  x: number;
  y: number;
  size: number;
}

export function checkWindow(w: LamWindow, height: number, width: number): void {
  const ok =
    [w.x, w.y, w.size].every((v) => Number.isInteger(v)) && w.size >= 1 && w.x >= 0 && w.y >= 0;
  if (!ok || w.x + w.size > width || w.y + w.size > height) {
    throw new Error(
      `LAM: window x=${w.x}, y=${w.y}, size=${w.size} does not fit the ${width}x${height} SR output (x is the column, y the row of the top-left corner; the window must lie inside the image)`,
    );
  }
}

/** A regular grid of segments: `cells` x `cells` rectangles of (nearly) equal size. */
export function gridSegments(height: number, width: number, cells: number): Int32Array {
  if (!Number.isInteger(cells) || cells < 1 || cells > Math.min(height, width)) {
    throw new Error(
      `gridSegments: cells per side must be an integer in [1, ${Math.min(height, width)}] for a ${height} x ${width} image, got ${cells}`,
    );
  }
  const out = new Int32Array(height * width);
  for (let y = 0; y < height; y++) {
    const gy = Math.floor((y * cells) / height);
    for (let x = 0; x < width; x++)
      out[y * width + x] = gy * cells + Math.floor((x * cells) / width);
  }
  return out;
}

/** Deterministic inputs shared by the browser page and the Node-side closed-form check. */
export function smokeInputs(): { x: Float32Array; w: Float32Array; c: Float32Array; n: number } {
  const n = 6;
  const x = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i + 1));
  const w = Float32Array.from([0.5, -1, 0.25, 2, 1, -0.5, 0.75, -0.25, 1.5]);
  const c = Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 5) - 2);
  return { x, w, c, n };
}

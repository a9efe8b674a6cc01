/** Central differences of a float64 function of a flat array: the independent gradient check. */
export function numericGrad(
  f: (v: Float64Array) => number,
  x: ArrayLike<number>,
  h = 1e-6,
): Float64Array {
  const v = Float64Array.from(x);
  return v.map((_, i) => {
    const keep = v[i];
    v[i] = keep + h;
    const up = f(v);
    v[i] = keep - h;
    const down = f(v);
    v[i] = keep;
    return (up - down) / (2 * h);
  });
}

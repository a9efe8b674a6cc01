/** Small dense symmetric linear algebra for the MGGD fit and KL (dimensions of a few dozen). */

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations. */
export function symmetricEigen(a: readonly ArrayLike<number>[]): {
  values: number[];
  /** vectors[k] is the unit eigenvector of values[k]. */
  vectors: Float64Array[];
} {
  const n = a.length;
  const m = a.map((row, i) => {
    if (row.length !== n)
      throw new Error(`symmetricEigen: row ${i} has ${row.length} values, expected ${n}`);
    return Float64Array.from(row);
  });
  // v holds the rotations so far: columns are the eigenvectors
  const v = Array.from({ length: n }, (_, i) => {
    const r = new Float64Array(n);
    r[i] = 1;
    return r;
  });
  let scale = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) scale += m[i][j] * m[i][j];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += m[i][j] * m[i][j];
    if (off <= 1e-30 * scale) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (m[p][q] === 0) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k][p];
          const mkq = m[k][q];
          m[k][p] = c * mkp - s * mkq;
          m[k][q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p][k];
          const mqk = m[q][k];
          m[p][k] = c * mpk - s * mqk;
          m[q][k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
  }
  return {
    values: m.map((row, i) => row[i]),
    vectors: Array.from({ length: n }, (_, k) => Float64Array.from(v, (row) => row[k])),
  };
}

/**
 * Eigenvalues of q^-1 p for symmetric positive-definite p and q (those of
 * q^-1/2 p q^-1/2), with log det p and log det q. Throws when either is not positive definite.
 */
export function generalisedEigenvalues(
  p: readonly ArrayLike<number>[],
  q: readonly ArrayLike<number>[],
): { values: number[]; logDetP: number; logDetQ: number } {
  const n = q.length;
  if (p.length !== n) throw new Error(`generalisedEigenvalues: ${p.length}x? vs ${n}x? matrices`);
  const eq = symmetricEigen(q);
  const ep = symmetricEigen(p);
  for (const [name, e] of [
    ["first", ep],
    ["second", eq],
  ] as const) {
    const max = Math.max(...e.values.map(Math.abs));
    if (!(Math.min(...e.values) > 1e-12 * max))
      throw new Error(
        `generalisedEigenvalues: the ${name} matrix is not positive definite (eigenvalues ${e.values.map((x) => x.toPrecision(3)).join(", ")})`,
      );
  }
  // w = V D^-1/2: columns whitened by q; m = w^T p w
  const w = eq.vectors.map((vec, k) => vec.map((x) => x / Math.sqrt(eq.values[k])));
  const m = w.map((wa) =>
    w.map((wb) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        let pi = 0;
        for (let j = 0; j < n; j++) pi += p[i][j] * wb[j];
        s += wa[i] * pi;
      }
      return s;
    }),
  );
  const sum = (v: number[]) => v.reduce((a, b) => a + Math.log(b), 0);
  return {
    values: symmetricEigen(m).values,
    logDetP: sum(ep.values),
    logDetQ: sum(eq.values),
  };
}

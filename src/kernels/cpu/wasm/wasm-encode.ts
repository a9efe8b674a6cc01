/** LEB128 integers and sections of the WebAssembly binary format, for the generated modules. */

export function uleb(n: number, out: number[]): void {
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

export function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
}

/** A function body being written: raw bytes plus the instructions every generator uses. */
/** The export section (7): each entry's name, kind (0 function, 2 memory) and index. */
export function exportSection(entries: readonly [string, 0 | 2, number][], out: number[]): void {
  const exp: number[] = [];
  uleb(entries.length, exp);
  for (const [name, kind, index] of entries) {
    uleb(name.length, exp);
    for (const ch of name) exp.push(ch.charCodeAt(0));
    exp.push(kind);
    uleb(index, exp);
  }
  section(7, exp, out);
}

export function codeWriter() {
  const code: number[] = [];
  const e = (...bytes: number[]) => code.push(...bytes);
  const local = (op: number) => (l: number) => {
    e(op);
    uleb(l, code);
  };
  const get = local(0x20);
  const set = local(0x21);
  const c32 = (v: number) => {
    e(0x41);
    sleb(v, code);
  };
  return {
    code,
    e,
    get,
    set,
    tee: local(0x22),
    c32,
    /**
     * `block { loop { br_if 1 (l >= limit, unsigned); body; br 0 } }` with l = from() (0 unless
     * given) first; the body advances l itself.
     */
    whileBelow: (l: number, limit: () => void, body: () => void, from = () => c32(0)) => {
      from();
      set(l);
      e(0x02, 0x40, 0x03, 0x40);
      get(l);
      limit();
      e(0x4f, 0x0d, 1);
      body();
      e(0x0c, 0, 0x0b, 0x0b);
    },
    /** l += by() (i32). */
    addTo: (l: number, by: () => void) => {
      get(l);
      by();
      e(0x6a);
      set(l);
    },
    /** A scalar load/store `op` with its memarg. */
    mem: (op: number, align: number, offset: number) => {
      e(op);
      uleb(align, code);
      uleb(offset, code);
    },
    /** A SIMD (0xfd-prefixed) op, with a memarg when it loads or stores. */
    simd: (op: number, align?: number, offset?: number) => {
      e(0xfd);
      uleb(op, code);
      if (align !== undefined) {
        uleb(align, code);
        uleb(offset ?? 0, code);
      }
    },
  };
}

/**
 * A function body with `i32Locals` i32 locals (then `v128Locals` v128 ones) and the given code,
 * closed by `end`.
 */
export function functionBody(i32Locals: number, code: number[], v128Locals = 0): number[] {
  const body: number[] = [];
  uleb(v128Locals > 0 ? 2 : 1, body);
  uleb(i32Locals, body);
  body.push(0x7f);
  if (v128Locals > 0) {
    uleb(v128Locals, body);
    body.push(0x7b);
  }
  body.push(...code, 0x0b);
  return body;
}

/**
 * Instantiates generated module bytes that import nothing; null where WebAssembly, or a feature
 * the module uses (SIMD), is missing.
 */
export function instantiateGenerated(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Instance | null {
  try {
    if (typeof WebAssembly !== "object" || !WebAssembly.validate(bytes)) return null;
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  } catch {
    return null;
  }
}

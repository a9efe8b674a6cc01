/**
 * A minimal protobuf wire-format reader: varints (int64 as numbers), fixed 32/64-bit values,
 * length-delimited fields and packed repeated scalars. Every read is bounds-checked and errors
 * carry the byte offset. Enough to decode ONNX without a protobuf runtime.
 *
 * Unknown fields (subgraphs included) are skipped by length, never descended into, so nesting in
 * the file cannot grow the stack; sub-message readers still count their depth against
 * maxNestingDepth in case a schema ever recurses.
 */
import { checkLimit } from "../limits.ts";

export class WireReader {
  pos: number;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
    start = 0,
    readonly end = bytes.length,
    readonly depth = 0,
  ) {
    checkLimit(what, "the message nesting depth", depth, "maxNestingDepth");
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(msg: string, at = this.pos): never {
    throw new Error(`${this.what}: ${msg} at offset ${at}`);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number): void {
    if (this.pos + n > this.end)
      this.fail(`${n}-byte field runs past the end of its message (truncated?)`);
  }

  private next(): number {
    if (this.pos >= this.end) this.fail("varint runs past the end (truncated?)");
    return this.bytes[this.pos++];
  }

  /** A 64-bit varint as [low, high] unsigned 32-bit halves. */
  private bits(): [number, number] {
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let i = 0; i < 4; i++) {
      b = this.next();
      lo |= (b & 0x7f) << (7 * i);
      if (!(b & 0x80)) return [lo >>> 0, 0];
    }
    b = this.next();
    lo |= (b & 0x7f) << 28;
    hi |= (b & 0x7f) >> 4;
    if (!(b & 0x80)) return [lo >>> 0, hi >>> 0];
    for (let i = 0; i < 5; i++) {
      b = this.next();
      hi |= (b & 0x7f) << (7 * i + 3);
      if (!(b & 0x80)) return [lo >>> 0, hi >>> 0];
    }
    return this.fail("varint longer than 10 bytes (corrupt data)");
  }

  /** uint64 as a number (exact up to 2^53). */
  uvarint(): number {
    const [lo, hi] = this.bits();
    return hi * 4294967296 + lo;
  }

  /** int64 / int32 (two's complement in 64 bits) as a number. */
  svarint(): number {
    const [lo, hi] = this.bits();
    if (hi & 0x80000000) return -((~hi >>> 0) * 4294967296 + (~lo >>> 0) + 1);
    return hi * 4294967296 + lo;
  }

  float(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getFloat32(this.pos - 4, true);
  }

  double(): number {
    this.need(8);
    this.pos += 8;
    return this.view.getFloat64(this.pos - 8, true);
  }

  bytesField(): Uint8Array {
    const n = this.uvarint();
    this.need(n);
    this.pos += n;
    return this.bytes.subarray(this.pos - n, this.pos);
  }

  string(): string {
    return new TextDecoder().decode(this.bytesField());
  }

  /** A reader over the next length-delimited field (a sub-message). */
  message(): WireReader {
    const n = this.uvarint();
    this.need(n);
    const sub = new WireReader(this.bytes, this.what, this.pos, this.pos + n, this.depth + 1);
    this.pos += n;
    return sub;
  }

  /** Reads a repeated scalar field: packed (wire type 2) or one element. */
  repeated(wireType: number, one: () => number, out: number[]): void {
    if (wireType !== 2) {
      out.push(one());
      return;
    }
    const n = this.uvarint();
    this.need(n);
    const stop = this.pos + n;
    while (this.pos < stop) out.push(one());
    if (this.pos !== stop) this.fail("packed field overruns its length");
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.uvarint();
        break;
      case 1:
        this.need(8);
        this.pos += 8;
        break;
      case 2:
        this.bytesField();
        break;
      case 5:
        this.need(4);
        this.pos += 4;
        break;
      default:
        this.fail(`unknown wire type ${wireType} (corrupt data)`);
    }
  }

  /** Calls `field(number, wireType)` for each field of the message; it must consume the value. */
  each(field: (n: number, wireType: number) => void): void {
    while (this.pos < this.end) {
      const key = this.uvarint();
      const n = Math.floor(key / 8);
      if (n === 0) this.fail("field number 0 (corrupt data)");
      field(n, key & 7);
    }
    if (this.pos !== this.end) this.fail("message overruns its length");
  }
}

/**
 * A read-only zip archive reader (with zip64) for PyTorch checkpoints: the central directory is
 * parsed and bounds-checked up front; stored entries are returned as views (no copy), deflated
 * ones are inflated with fflate. Every entry's CRC-32 is verified when it is read.
 *
 * The sizes in the directory are the file's word, not a promise: an entry's declared size is
 * checked against maxInflatedBytes (one entry, and all entries of the archive together) before
 * anything is allocated, and inflating stops as soon as the output passes the declared size, so
 * a zip bomb costs at most one input chunk's worth of work beyond what it declared.
 */
import { Inflate } from "fflate";
import { checkLimit } from "./limits.ts";

/** Compressed bytes fed to the inflater at a time (deflate expands at most ~1032x). */
const INFLATE_CHUNK = 16 * 1024;

interface Entry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

let crcTable: Uint32Array | undefined;
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class ZipReader {
  private readonly entries = new Map<string, Entry>();
  private readonly view: DataView;
  /** Bytes inflated from this archive so far (bounded by maxInflatedBytes as a whole). */
  private inflated = 0;

  constructor(
    private readonly bytes: Uint8Array,
    readonly fileName = "zip file",
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.readDirectory();
  }

  /** True when the bytes start like a zip archive (a local file header). */
  static sniff(bytes: Uint8Array): boolean {
    return (
      bytes.length >= 4 &&
      bytes[0] === 0x50 &&
      bytes[1] === 0x4b &&
      bytes[2] === 3 &&
      bytes[3] === 4
    );
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry's uncompressed bytes (a view into the archive for stored entries). */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.fileName}: the archive has no entry "${name}"`);
    const at = e.localOffset;
    this.need(at, 30, `the local header of "${name}"`);
    if (this.view.getUint32(at, true) !== SIG_LOCAL) {
      throw new Error(
        `${this.fileName}: no local file header for "${name}" at offset ${at} (corrupt archive)`,
      );
    }
    const start = at + 30 + this.view.getUint16(at + 26, true) + this.view.getUint16(at + 28, true);
    this.need(start, e.compressedSize, `the data of "${name}"`);
    const raw = this.bytes.subarray(start, start + e.compressedSize);
    let data: Uint8Array;
    if (e.method === 0) data = raw;
    else if (e.method === 8) {
      checkLimit(
        `${this.fileName}: entry "${name}"`,
        "the declared uncompressed size",
        e.size,
        "maxInflatedBytes",
      );
      checkLimit(
        this.fileName,
        `the bytes inflated from the archive (with "${name}")`,
        this.inflated + e.size,
        "maxInflatedBytes",
      );
      this.inflated += e.size;
      data = this.inflate(raw, e.size, name, start);
    } else {
      throw new Error(
        `${this.fileName}: entry "${name}" uses compression method ${e.method} (only stored and deflate are supported)`,
      );
    }
    if (data.length !== e.size) {
      throw new Error(
        `${this.fileName}: entry "${name}" inflated to ${data.length} bytes, directory says ${e.size}`,
      );
    }
    const crc = crc32(data);
    if (crc !== e.crc) {
      throw new Error(
        `${this.fileName}: entry "${name}" fails its CRC-32 check (0x${crc.toString(16)} vs 0x${e.crc.toString(16)}; corrupt data at offset ${start})`,
      );
    }
    return data;
  }

  /**
   * Inflates `raw` into a buffer of the declared `size`, a chunk at a time, refusing the entry
   * as soon as the output would pass `size`.
   */
  private inflate(raw: Uint8Array, size: number, name: string, start: number): Uint8Array {
    const out = new Uint8Array(size);
    let written = 0;
    const inflater = new Inflate((chunk) => {
      if (written + chunk.length > size) {
        throw new Error(
          `${this.fileName}: entry "${name}" inflates past its declared ${size} bytes (corrupt archive or zip bomb); stopped`,
        );
      }
      out.set(chunk, written);
      written += chunk.length;
    });
    try {
      for (let at = 0; at < raw.length; at += INFLATE_CHUNK) {
        const end = Math.min(raw.length, at + INFLATE_CHUNK);
        inflater.push(raw.subarray(at, end), end === raw.length);
      }
      if (raw.length === 0) inflater.push(raw, true);
    } catch (err) {
      const message = (err as Error).message;
      if (message.startsWith(this.fileName)) throw err;
      throw new Error(`${this.fileName}: cannot inflate "${name}" at offset ${start}: ${message}`);
    }
    return out.subarray(0, written);
  }

  private need(at: number, len: number, what: string): void {
    if (at < 0 || at + len > this.bytes.length) {
      throw new Error(
        `${this.fileName}: ${what} (offset ${at}, ${len} bytes) runs past the end of the ${this.bytes.length}-byte file (truncated?)`,
      );
    }
  }

  private u64(at: number): number {
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new Error(`${this.fileName}: 64-bit field at offset ${at} is too large`);
    return Number(v);
  }

  private findEnd(): number {
    const v = this.view;
    const lowest = Math.max(0, this.bytes.length - 22 - 0xffff);
    for (let at = this.bytes.length - 22; at >= lowest; at--) {
      if (
        v.getUint32(at, true) === SIG_EOCD &&
        at + 22 + v.getUint16(at + 20, true) <= this.bytes.length
      )
        return at;
    }
    throw new Error(
      `${this.fileName}: no zip end-of-central-directory record found in the last ${this.bytes.length - lowest} bytes (truncated or not a zip archive)`,
    );
  }

  private readDirectory(): void {
    const v = this.view;
    if (this.bytes.length < 22)
      throw new Error(
        `${this.fileName}: ${this.bytes.length} bytes is too short for a zip archive (truncated?)`,
      );
    const end = this.findEnd();
    let count = v.getUint16(end + 10, true);
    let cdSize = v.getUint32(end + 12, true);
    let cdOffset = v.getUint32(end + 16, true);
    if ((count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) && end >= 20) {
      const loc = end - 20;
      if (v.getUint32(loc, true) === SIG_LOCATOR64) {
        const at = this.u64(loc + 8);
        this.need(at, 56, "the zip64 end-of-central-directory record");
        if (v.getUint32(at, true) !== SIG_EOCD64) {
          throw new Error(
            `${this.fileName}: bad zip64 end-of-central-directory signature at offset ${at}`,
          );
        }
        count = this.u64(at + 32);
        cdSize = this.u64(at + 40);
        cdOffset = this.u64(at + 48);
      }
    }
    this.need(cdOffset, cdSize, "the central directory");
    let at = cdOffset;
    for (let i = 0; i < count; i++) {
      this.need(at, 46, `central directory entry ${i}`);
      if (v.getUint32(at, true) !== SIG_CENTRAL) {
        throw new Error(
          `${this.fileName}: bad central directory signature at offset ${at} (entry ${i} of ${count})`,
        );
      }
      const nameLen = v.getUint16(at + 28, true);
      const extraLen = v.getUint16(at + 30, true);
      const commentLen = v.getUint16(at + 32, true);
      this.need(at + 46, nameLen + extraLen + commentLen, `central directory entry ${i}`);
      const name = new TextDecoder().decode(this.bytes.subarray(at + 46, at + 46 + nameLen));
      const e: Entry = {
        name,
        method: v.getUint16(at + 10, true),
        crc: v.getUint32(at + 16, true),
        compressedSize: v.getUint32(at + 20, true),
        size: v.getUint32(at + 24, true),
        localOffset: v.getUint32(at + 42, true),
      };
      if (v.getUint16(at + 8, true) & 1)
        throw new Error(`${this.fileName}: entry "${name}" is encrypted`);
      this.readZip64Extra(e, at + 46 + nameLen, extraLen);
      this.entries.set(name, e);
      at += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** Sizes and offsets saturated at 0xffffffff live in the zip64 extra field, in this order. */
  private readZip64Extra(e: Entry, start: number, len: number): void {
    const v = this.view;
    for (let p = start; p + 4 <= start + len; ) {
      const id = v.getUint16(p, true);
      const size = v.getUint16(p + 2, true);
      if (id === 1) {
        let q = p + 4;
        for (const key of ["size", "compressedSize", "localOffset"] as const) {
          if (e[key] === 0xffffffff && q + 8 <= p + 4 + size) {
            e[key] = this.u64(q);
            q += 8;
          }
        }
      }
      p += 4 + size;
    }
  }
}

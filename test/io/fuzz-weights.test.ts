/**
 * Fuzzing the weight importers: valid small files (PyTorch zip, deflated zip and legacy, and
 * safetensors) with random byte changes, truncations, insertions, deletions and long runs of one byte, applied to the
 * file itself or, for zips, to an entry that is then re-zipped with a correct CRC (so the
 * pickle parser sees the damage, not only the CRC check). Every outcome must be a load or an
 * Error naming the file; never a stack overflow, a typed-array RangeError or a non-Error throw.
 * Limits are lowered so that a mutated size costs little even when it is accepted.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { withImportLimits } from "../../src/models/io/limits.ts";
import { loadWeights } from "../../src/models/io/load-weights.ts";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import { ZipReader } from "../../src/models/io/zip.ts";

const DIR = join(import.meta.dirname, "..", "fixtures", "io");
const file = (n: string) => new Uint8Array(readFileSync(join(DIR, n)));
const NAME = "fuzzed-file.bin";

type Mutation =
  | { kind: "set"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "delete"; at: number; count: number }
  | { kind: "repeat"; at: number; byte: number; count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 8 }),
  }),
  // One byte many times: a run of TUPLE1, MARK, NONE or EMPTY_LIST opcodes makes deep or wide
  // structures that a handful of random bytes never would.
  fc.record({
    kind: fc.constant("repeat" as const),
    at: fc.nat(),
    byte: fc.constantFrom(0x85, 0x28, 0x4e, 0x5d, 0x7d, 0x5b, 0x7b, 0x61, 0x32),
    count: fc.integer({ min: 1, max: 200_000 }),
  }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 8 }),
  }),
);

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = bytes.slice();
  for (const m of mutations) {
    const at = out.length ? m.at % out.length : 0;
    if (m.kind === "set" && out.length) out[at] = m.value;
    else if (m.kind === "truncate") out = out.slice(0, at);
    else if (m.kind === "insert") {
      const grown = new Uint8Array(out.length + m.bytes.length);
      grown.set(out.subarray(0, at));
      grown.set(m.bytes, at);
      grown.set(out.subarray(at), at + m.bytes.length);
      out = grown;
    } else if (m.kind === "repeat") {
      const grown = new Uint8Array(out.length + m.count);
      grown.set(out.subarray(0, at));
      grown.fill(m.byte, at, at + m.count);
      grown.set(out.subarray(at), at + m.count);
      out = grown;
    } else if (m.kind === "delete") {
      out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + m.count)]);
    }
  }
  return out;
}

/** The outcome must be a load or an Error that names the file and is not a crash. */
function expectLoadsOrNamedError(bytes: Uint8Array): void {
  let thrown: unknown;
  try {
    loadWeights(bytes, NAME);
    return;
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(Error);
  const message = (thrown as Error).message;
  expect(message.startsWith(NAME), message).toBe(true);
  expect(message).not.toMatch(
    /Maximum call stack|Invalid typed array length|Array buffer allocation/,
  );
}

const SMALL_LIMITS = { maxTensorElements: 1 << 16, maxInflatedBytes: 1 << 20, maxNestingDepth: 64 };
const RUNS = 200;

function fuzz(seed: Uint8Array): void {
  withImportLimits(SMALL_LIMITS, () => {
    expectLoadsOrNamedError(seed); // the seed itself loads
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        expectLoadsOrNamedError(mutate(seed, ms));
      }),
      { numRuns: RUNS, seed: 20240611 },
    );
  });
}

/** Mutates one entry of a zip (picked by the property) and re-zips with correct CRCs. */
function fuzzZipEntries(seed: Uint8Array, level: 0 | 6): void {
  const zip = new ZipReader(seed);
  const names = zip.names();
  const entries = Object.fromEntries(names.map((n) => [n, zip.read(n).slice()]));
  withImportLimits(SMALL_LIMITS, () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (target, ms) => {
          const edited = { ...entries, [target]: mutate(entries[target], ms) };
          const rezipped = zipSync(
            Object.fromEntries(Object.entries(edited).map(([k, v]) => [k, [v, { level }]])),
          );
          expectLoadsOrNamedError(rezipped);
        },
      ),
      { numRuns: RUNS, seed: 20240612 },
    );
  });
}

describe("fuzzed weight files load or fail with an Error naming the file", {
  timeout: 30_000,
}, () => {
  const basic = file("basic.pth");

  it("PyTorch zip (stored), bytes of the archive", () => fuzz(basic));
  it("PyTorch zip, the pickle and storages inside it (re-zipped, CRCs correct)", () =>
    fuzzZipEntries(basic, 0));
  it("PyTorch zip with deflated entries, the entries inside it", () => fuzzZipEntries(basic, 6));
  it("PyTorch zip with deflated entries, bytes of the archive", () => {
    const z = new ZipReader(basic);
    fuzz(zipSync(Object.fromEntries(z.names().map((n) => [n, z.read(n).slice()])), { level: 6 }));
  });
  it("PyTorch legacy format", () => fuzz(file("basic_legacy.pth")));
  it("safetensors", () => fuzz(writeSafetensors(loadWeights(basic, "basic.pth"))));
});

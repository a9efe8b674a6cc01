/**
 * Hostile weight files (scripts/fixtures/make_hostile_weights.mjs): each is refused with an error
 * that names the file and the problem, before the structure it describes is expanded or
 * allocated; the nearby legitimate cases (small stride-0 views, legacy storage views, wide lists,
 * equal tuple keys) still load with the values torch defines.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import {
  billionLaughs,
  deepSafetensorsHeader,
  deepTupleKey,
  hugeView,
  inheritedStorageType,
  legacyView,
  Pickle,
  safetensors,
  smallFixtures,
  stateDictPickle,
  torchZip,
  wideAppends,
  zipBomb,
} from "../../scripts/fixtures/make_hostile_weights.mjs";
import { LimitError, withImportLimits } from "../../src/models/io/limits.ts";
import { loadWeights } from "../../src/models/io/load-weights.ts";
import { type PyDict, unpickle } from "../../src/models/io/pytorch/unpickler.ts";
import { readSafetensors } from "../../src/models/io/safetensors.ts";
import { readTfjsWeights } from "../../src/models/io/tfjs/weights.ts";

const DIR = join(import.meta.dirname, "..", "fixtures", "hostile", "weights");
const fixture = (n: string) => new Uint8Array(readFileSync(join(DIR, n)));
const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

/** Loads and returns the error, failing if the file loads. */
function refusal(bytes: Uint8Array, name: string): Error {
  try {
    loadWeights(bytes, name);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`${name} loaded`);
}

describe("the committed fixtures", () => {
  it("are exactly what the generator writes, and small", () => {
    const generated = smallFixtures();
    expect(readdirSync(DIR).sort()).toEqual(Object.keys(generated).sort());
    for (const [name, bytes] of Object.entries(generated)) {
      expect(fixture(name), name).toEqual(bytes);
      expect(bytes.length, name).toBeLessThan(10_000);
    }
  });
});

describe("billion laughs: a tuple key of shared memoised tuples, 10^40 leaves expanded", () => {
  it("is refused as a non-string tensor key, the key summarised in a few words", () => {
    const e = refusal(fixture("billion_laughs.pth"), "laughs.pth");
    expect(e.message).toMatch(
      /^laughs\.pth: a tensor is stored under the key tuple of 10, not a name/,
    );
    expect(e.message.length).toBeLessThan(300);
  });

  it("held as the key of a non-tensor entry, it does not stop the tensors loading", () => {
    const p = new Pickle().proto().emptyDict().str("lol").tuple1().put(0);
    for (let level = 1; level <= 40; level++) {
      p.pop().mark();
      for (let i = 0; i < 10; i++) p.get(level - 1);
      p.tuple().put(level);
    }
    p.none()
      .setitem()
      .str("w")
      .tensor({ numel: 2, size: [2], stride: [1] })
      .setitem()
      .stop();
    const sd = loadWeights(torchZip(p.bytes(), { 0: f32([1.5, -2]) }), "laughs.pth");
    expect([...sd.keys()]).toEqual(["w"]);
    expect(Array.from(sd.get("w")!.values)).toEqual([1.5, -2]);
  });

  it("generated deeper (80 levels), it is refused just the same", () => {
    expect(refusal(billionLaughs(80, 10), "deeper.pth").message).toMatch(/^deeper\.pth: .*tuple/);
  });

  it("small tuple keys still compare by value, as Python's do: equal tuples are one key", () => {
    // {('a', 1): 1, ('a', 1): 2} -> one entry holding 2 (two separately built, equal tuples)
    const p = new Pickle().proto().emptyDict();
    p.str("a").int(1).byte(0x86).int(1).setitem(); // TUPLE2
    p.str("a").int(1).byte(0x86).int(2).setitem().stop();
    const d = unpickle(p.bytes(), { global: () => ({ qualname: "x" }) }).value as PyDict;
    expect([...d.map.values()]).toEqual([2]);
  });
});

describe("declared sizes far beyond the file", () => {
  it("stride 0 over one element, [40000, 40000] (6.4 GB as float32): refused before allocating", () => {
    const e = refusal(fixture("stride0_40000x40000.pth"), "s0.pth");
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(
      /^s0\.pth: tensor "w": the element count of size \[40000,40000\] is 1\.60e\+9, over the limit .*maxTensorElements/,
    );
  });

  it("[2^40] elements: a LimitError, not a typed-array RangeError", () => {
    const e = refusal(fixture("numel_2e40.pth"), "big.pth");
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(/^big\.pth: tensor "w": the element count of size \[1099511627776\]/);
  });

  it("a small stride-0 view still loads, repeating its row as torch does", () => {
    // storage [1, 2], size [3, 2], stride [0, 1]: every row is the storage
    const pkl = stateDictPickle({ w: { numel: 2, size: [3, 2], stride: [0, 1] } });
    const sd = loadWeights(torchZip(pkl, { 0: f32([1, 2]) }), "ok.pth");
    expect(sd.get("w")!.shape).toEqual([3, 2]);
    expect(Array.from(sd.get("w")!.values)).toEqual([1, 2, 1, 2, 1, 2]);
  });

  it("one storage shared by many keys is bounded in total, not only per tensor", () => {
    // 60 stored elements; each key materialises all 60. With the limit at 100, two keys make
    // 60 beyond the storage (allowed), three make 120 (refused).
    const file = (keys: number) => {
      const tensors = Object.fromEntries(
        Array.from({ length: keys }, (_, i) => [`k${i}`, { numel: 60, size: [60], stride: [1] }]),
      );
      return torchZip(stateDictPickle(tensors), {
        0: f32(Array.from({ length: 60 }, (_, i) => i)),
      });
    };
    withImportLimits({ maxTensorElements: 100 }, () => {
      expect(loadWeights(file(2), "two.pth").size).toBe(2);
      expect(() => loadWeights(file(3), "three.pth")).toThrow(
        /^three\.pth: up to tensor "k2": elements materialised beyond those the storages hold .* is 120, over the limit of 100/,
      );
    });
  });
});

describe("zip bombs", () => {
  it("a declared size of 3e9 bytes is refused before anything is allocated or inflated", () => {
    const e = refusal(fixture("zip_bomb_declared_3e9.pth"), "bomb.pth");
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(
      /^bomb\.pth: entry "archive\/data\/0": the declared uncompressed size is 3\.00e\+9, over the limit .*maxInflatedBytes/,
    );
  });

  it("a header that declares 4096 bytes over a 4 MiB stream: inflating stops past 4096", () => {
    expect(refusal(fixture("zip_bomb_lying_header.pth"), "lie.pth").message).toMatch(
      /^lie\.pth: entry "archive\/data\/0" inflates past its declared 4096 bytes/,
    );
  });

  it("an honest 4 MiB entry is refused when the limit is 1 MiB, and loads when it is raised", () => {
    const bomb = zipBomb(4 << 20);
    withImportLimits({ maxInflatedBytes: 1 << 20 }, () => {
      expect(() => loadWeights(bomb, "honest.pth")).toThrow(
        /^honest\.pth: entry "archive\/data\/0": the declared uncompressed size is 4\.19e\+6, over the limit of 1\.05e\+6/,
      );
    });
    withImportLimits({ maxInflatedBytes: 8 << 20 }, () => {
      const w = loadWeights(bomb, "honest.pth").get("w")!;
      expect(w.shape).toEqual([1 << 20]);
      expect(w.values.every((v) => v === 0)).toBe(true); // the entry is 4 MiB of zero bytes
    });
  });

  it("the archive's entries together are bounded too", () => {
    // Two deflated 600 KiB storages under a 1 MiB limit: each fits alone, not both.
    const n = 150 * 1024;
    const pkl = stateDictPickle({
      a: { key: "0", numel: n, size: [n], stride: [1] },
      b: { key: "1", numel: n, size: [n], stride: [1] },
    });
    const zip = zipSync({
      "archive/data.pkl": [pkl, { level: 0 }],
      "archive/data/0": [new Uint8Array(4 * n), { level: 9 }],
      "archive/data/1": [new Uint8Array(4 * n), { level: 9 }],
    });
    withImportLimits({ maxInflatedBytes: 1 << 20 }, () => {
      expect(() => loadWeights(zip, "two.pth")).toThrow(
        /^two\.pth: the bytes inflated from the archive \(with "archive\/data\/1"\) is 1\.23e\+6, over the limit/,
      );
    });
  });
});

describe("deep nesting", () => {
  it("a tuple key nested 200000 deep is refused at maxNestingDepth, naming the file", () => {
    const e = refusal(fixture("deep_tuple_key.pth"), "deep.pth");
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(
      /^deep\.pth \(archive\/data\.pkl\): pickle opcode at offset \d+: container nesting depth is 1001, over the limit of 1000/,
    );
  });

  it("depth counts containers: a key nested n deep makes its dict n + 1 deep", () => {
    withImportLimits({ maxNestingDepth: 5 }, () => {
      // depth 4 key in the top dict (5): not a nesting problem, only a non-name key
      expect(() => loadWeights(deepTupleKey(4), "d4.pth")).toThrow(/^d4\.pth: .*key tuple of 1/);
      expect(() => loadWeights(deepTupleKey(5), "d5.pth")).toThrow(
        /^d5\.pth .*container nesting depth is 6, over the limit of 5/,
      );
    });
  });

  it("a list of 300000 items built by one APPENDS is wide, not deep: it loads", () => {
    const sd = loadWeights(fixture("wide_appends.pth"), "wide.pth");
    expect(Array.from(sd.get("w")!.values)).toEqual([1]);
  });

  it("a safetensors header of arrays nested 200000 deep is refused before parsing", () => {
    const e = refusal(deepSafetensorsHeader(), "deep.safetensors");
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(
      /^deep\.safetensors: header: JSON nesting depth is 1001, over the limit of 1000/,
    );
  });

  it("with the depth limit turned off, whatever overflows is still reported naming the file", () => {
    withImportLimits({ maxNestingDepth: Number.POSITIVE_INFINITY }, () => {
      const e = refusal(deepSafetensorsHeader(), "nolimit.safetensors");
      expect(e.message).toMatch(/^nolimit\.safetensors: /);
    });
  });

  it("header depth counts the object, the entry and each array level", () => {
    // {"w": {"shape": [[...]]}}: 2 + n levels
    withImportLimits({ maxNestingDepth: 10 }, () => {
      expect(() => readSafetensors(deepSafetensorsHeader(8), "d8.st")).toThrow(
        /^d8\.st: tensor "w" has an invalid shape \[\[\[\[/,
      );
      expect(() => readSafetensors(deepSafetensorsHeader(9), "d9.st")).toThrow(
        /^d9\.st: header: JSON nesting depth is 11/,
      );
    });
  });

  it("brackets inside strings do not count", () => {
    const name = `${"[".repeat(2000)}"\\`;
    const header = JSON.stringify({ [name]: { dtype: "F32", shape: [1], data_offsets: [0, 4] } });
    const sd = readSafetensors(safetensors(header, f32([3])), "s.st");
    expect(Array.from(sd.get(name)!.values)).toEqual([3]);
  });
});

describe("names read from a file index tables by own property only", () => {
  it.each(["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf"])(
    "torch.%s is not a storage type",
    (member) => {
      const file = inheritedStorageType(member);
      expect(refusal(file, "m.pth").message).toMatch(
        new RegExp(
          `^m\\.pth \\(archive/data\\.pkl\\): offset \\d+: refused global torch\\.${member}:`,
        ),
      );
    },
  );

  it("the committed fixtures for the three reported names are refused", () => {
    for (const m of ["constructor", "toString", "hasOwnProperty"]) {
      expect(refusal(fixture(`storage_type_${m}.pth`), `${m}.pth`).message).toMatch(
        /refused global torch\./,
      );
    }
  });

  it("safetensors and tfjs manifests refuse inherited dtype names", () => {
    const st = safetensors(
      JSON.stringify({ w: { dtype: "constructor", shape: [1], data_offsets: [0, 4] } }),
      f32([1]),
    );
    expect(() => readSafetensors(st, "c.st")).toThrow(
      /^c\.st: tensor "w" has unsupported dtype constructor/,
    );
    const shard = () => f32([1]);
    const manifest = (dtype: string, quantization?: object) => [
      { paths: ["s.bin"], weights: [{ name: "w", shape: [1], dtype, quantization }] },
    ];
    expect(() => readTfjsWeights(manifest("constructor"), shard, "m.json")).toThrow(
      /^m\.json: weight "w" has dtype "constructor"/,
    );
    expect(() =>
      readTfjsWeights(manifest("float32", { dtype: "toString" }), shard, "m.json"),
    ).toThrow(/^m\.json: weight "w" uses quantization dtype "toString"/);
  });
});

describe("legacy storage views (view_key, offset, view_size) of a root storage [1..6]", () => {
  it.each([
    ["negative_offset", /offset -2, size 4/],
    ["fractional_offset", /offset 1\.5, size 4/],
  ])("%s is refused", (which, detail) => {
    const e = refusal(fixture(`legacy_view_${which}.pth`), "v.pth");
    expect(e.message).toMatch(
      /^v\.pth \(object\): .*storage view of "0" must be \(key, offset, size\) with non-negative integer offset and size/,
    );
    expect(e.message).toMatch(detail);
  });

  it("a view running past the end of the root storage is refused", () => {
    expect(refusal(fixture("legacy_view_past_end.pth"), "v.pth").message).toMatch(
      /^v\.pth \(object\): .*storage view of "0" covers elements 4 to 8, past the end of its 6-element storage/,
    );
  });

  it("a valid view reads root elements [offset, offset + size), as torch does", () => {
    // root[1:5] of [1, 2, 3, 4, 5, 6]
    expect(Array.from(loadWeights(legacyView(1), "v.pth").get("w")!.values)).toEqual([2, 3, 4, 5]);
  });

  it("a tensor may not read past its view even when the root storage goes on", () => {
    // view root[1:3] (2 elements), tensor of 4: torch refuses; so do we
    expect(() => loadWeights(legacyView(1, 2, [4]), "v.pth")).toThrow(
      /^v\.pth: tensor "w" \[4\] with stride \[1\] at offset 0 reads element 3 of a storage of 2 elements/,
    );
  });
});

describe("safetensors byte ranges must tile the data section", () => {
  const st = (entries: Record<string, [number, number]>, dataBytes: number) =>
    safetensors(
      JSON.stringify(
        Object.fromEntries(
          Object.entries(entries).map(([k, off]) => [
            k,
            { dtype: "U8", shape: [off[1] - off[0]], data_offsets: off },
          ]),
        ),
      ),
      new Uint8Array(dataBytes),
    );

  it("overlapping tensors are refused, naming both", () => {
    expect(() => loadWeights(fixture("overlapping_offsets.safetensors"), "o.st")).toThrow(
      /^o\.st: tensors "a" \(bytes 0 to 8\) and "b" \(bytes 4 to 12\) overlap/,
    );
  });

  it("a gap between tensors and bytes after the last are refused", () => {
    expect(() => readSafetensors(st({ a: [0, 2], b: [3, 4] }, 4), "g.st")).toThrow(
      /^g\.st: data bytes 2 to 3 belong to no tensor \(before "b" \(bytes 3 to 4\)\)/,
    );
    expect(() => readSafetensors(st({ a: [0, 2] }, 5), "t.st")).toThrow(
      /^t\.st: the tensors cover 2 bytes of the 5-byte data section/,
    );
  });

  it("ranges listed out of order but tiling the data are fine (the header is a JSON object)", () => {
    const sd = readSafetensors(st({ b: [2, 5], a: [0, 2], empty: [5, 5] }, 5), "ok.st");
    expect([...sd.keys()]).toEqual(["b", "a", "empty"]);
    expect(sd.get("b")!.shape).toEqual([3]);
  });
});

describe("every refusal names the file", () => {
  it("wide appends, the laughs and every fixture refused above start with the name given", () => {
    for (const [name, bytes] of Object.entries(smallFixtures())) {
      if (name === "wide_appends.pth") continue;
      expect(refusal(bytes, `X-${name}`).message.startsWith(`X-${name}`), name).toBe(true);
    }
    expect(refusal(wideAppends(10).subarray(0, 300), "cut.pth").message).toMatch(/^cut\.pth/);
    expect(refusal(hugeView([5], [1]), "short.pth").message).toMatch(
      /^short\.pth: tensor "w" \[5\] with stride \[1\] at offset 0 reads element 4 of a storage of 1 elements/,
    );
  });
});

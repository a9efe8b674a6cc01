/**
 * PyTorch checkpoints written by real torch.save (scripts/fixtures/make_io_fixtures.py), compared
 * with the values torch itself wrote beside them; hostile and damaged files must be refused.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { readPytorchCheckpoint } from "../../src/models/io/pytorch/checkpoint.ts";
import { type PyDict, type PyTuple, unpickle } from "../../src/models/io/pytorch/unpickler.ts";
import { ZipReader } from "../../src/models/io/zip.ts";

const DIR = join(import.meta.dirname, "..", "fixtures", "io");
const file = (n: string) => new Uint8Array(readFileSync(join(DIR, n)));
const json = (n: string) => JSON.parse(readFileSync(join(DIR, n), "utf8"));

interface Expected {
  shape: number[];
  dtype: string;
  values: number[];
}

function expectMatches(
  got: ReturnType<typeof readPytorchCheckpoint>,
  want: Record<string, Expected>,
) {
  expect([...got.keys()].sort()).toEqual(Object.keys(want).sort());
  for (const [k, e] of Object.entries(want)) {
    const t = got.get(k)!;
    expect(t.shape, k).toEqual(e.shape);
    expect(t.dtype, k).toBe(e.dtype);
    // Every stored dtype here is exactly representable after rounding to float32.
    expect(Array.from(t.values), k).toEqual(e.values.map(Math.fround));
  }
}

/** Rebuilds a zip from entries (stored), e.g. with one removed or replaced. */
function rezip(bytes: Uint8Array, edit: (entries: Record<string, Uint8Array>) => void): Uint8Array {
  const z = new ZipReader(bytes);
  const entries: Record<string, Uint8Array> = {};
  for (const n of z.names()) entries[n] = z.read(n).slice();
  edit(entries);
  return zipSync(
    Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, [v, { level: 0 }]])),
  );
}

describe("PyTorch checkpoints from torch.save", () => {
  const basic = json("basic.json").tensors as Record<string, Expected>;

  it.each([
    ["basic.pth", "zip format, protocol 2"],
    ["basic_protocol4.pth", "zip format, protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE)"],
    ["basic_legacy.pth", "legacy format (_use_new_zipfile_serialization=False)"],
  ])("%s (%s): every tensor matches torch, strides and offsets included", (name) => {
    expectMatches(readPytorchCheckpoint(file(name), { name }), basic);
  });

  it("reads archives whose entries are deflated (re-zipped by another tool)", () => {
    const z = new ZipReader(file("basic.pth"));
    const entries = Object.fromEntries(z.names().map((n) => [n, z.read(n).slice()]));
    const deflated = zipSync(entries, { level: 6 });
    expect(deflated.length).toBeLessThan(file("basic.pth").length);
    expectMatches(readPytorchCheckpoint(deflated), basic);
  });

  it("decodes a transposed (non-contiguous) tensor and a strided view with a storage offset", () => {
    const sd = readPytorchCheckpoint(file("basic.pth"));
    // base = arange(15).reshape(3, 5); base.t() and base[1:, ::2]
    expect(Array.from(sd.get("fc.weight_t")!.values)).toEqual([
      0, 5, 10, 1, 6, 11, 2, 7, 12, 3, 8, 13, 4, 9, 14,
    ]);
    expect(Array.from(sd.get("view.offset")!.values)).toEqual([5, 7, 9, 10, 12, 14]);
    expect(sd.get("bn.num_batches_tracked")).toMatchObject({ shape: [], dtype: "int64" });
    expect(sd.get("bn.num_batches_tracked")!.values[0]).toBe(1234);
  });

  it("picks params_ema, then params, from a BasicSR checkpoint; key selects explicitly", () => {
    const want = json("basicsr.json");
    expectMatches(readPytorchCheckpoint(file("basicsr.pth")), want.params_ema);
    expectMatches(readPytorchCheckpoint(file("basicsr.pth"), { key: "params" }), want.params);
    expect(() =>
      readPytorchCheckpoint(file("basicsr.pth"), { key: "state_dict", name: "x.pth" }),
    ).toThrow('x.pth: no top-level key "state_dict" (have: params, params_ema, iter)');
    expect(() => readPytorchCheckpoint(file("basicsr.pth"), { key: "iter" })).toThrow(
      /"iter" holds 1000, not a dict of tensors/,
    );
  });

  it("strips DataParallel's module. prefix by default, keeps it on request", () => {
    const want = json("dataparallel.json").tensors as Record<string, Expected>;
    const stripped = Object.fromEntries(
      Object.entries(want).map(([k, v]) => [k.replace(/^module\./, ""), v]),
    );
    expectMatches(readPytorchCheckpoint(file("dataparallel.pth")), stripped);
    expectMatches(readPytorchCheckpoint(file("dataparallel.pth"), { stripPrefix: false }), want);
    expect(readPytorchCheckpoint(file("dataparallel.pth")).has("1.num_batches_tracked")).toBe(true);
  });
});

describe("the restricted unpickler refuses code", () => {
  const marker = json("malicious.json").marker as string;

  it.each([
    ["malicious_os_system.pth", "os.system"],
    ["malicious_eval.pth", "builtins.eval"],
    ["malicious_reduce.pth", "posix.system"],
    ["malicious_legacy.pth", "os.system"],
  ])("%s: refuses %s by name and runs nothing", (name, global) => {
    expect(() => readPytorchCheckpoint(file(name), { name })).toThrow(
      new RegExp(
        `^${name.replace(".", "\\.")}.*refused global ${global.replace(".", "\\.")}:.*nothing was executed`,
      ),
    );
    expect(existsSync(marker)).toBe(false);
  });

  it("reads plain data written by pickle.dumps (protocols 2 and 4)", () => {
    // pickle.dumps({'a': 1, 'b': [1.5, -2, None, True, False], 'c': (1, 2, 3), 'big': 2**70,
    //               'neg': -300000, 's': 'héllo'[, 'bytes': b'\x00\x01']}, protocol=2 / 4)
    const p2 =
      "80027d71002858010000006171014b0158010000006271025d710328473ff80000000000004afeffffff4e88896558010000006371044b014b024b03877105580300000062696771068a0900000000000000004058030000006e656771074a206cfbff5801000000737108580600000068c3a96c6c6f7109752e";
    const p4 =
      "80049566000000000000007d94288c0161944b018c0162945d9428473ff80000000000004afeffffff4e8889658c0163944b014b024b0387948c03626967948a090000000000000000408c036e6567944a206cfbff8c0173948c0668c3a96c6c6f948c056279746573944302000194752e";
    const refuse = {
      global(): never {
        throw new Error("no globals");
      },
    };
    for (const hex of [p2, p4]) {
      const { value } = unpickle(Uint8Array.from(Buffer.from(hex, "hex")), refuse);
      const d = (value as PyDict).map;
      expect(d.get("a")).toBe(1);
      expect(d.get("b")).toEqual([1.5, -2, null, true, false]);
      expect((d.get("c") as PyTuple).items).toEqual([1, 2, 3]);
      expect(d.get("big")).toBe(2n ** 70n);
      expect(d.get("neg")).toBe(-300000);
      expect(d.get("s")).toBe("héllo");
      if (hex === p4) expect(Array.from(d.get("bytes") as Uint8Array)).toEqual([0, 1]);
    }
  });

  it("names the offset and opcode of a corrupt pickle", () => {
    const policy = { global: () => ({ qualname: "x" }) };
    expect(() => unpickle(Uint8Array.from([0x80, 0x02, 0x7d, 0x71]), policy, "t.pkl")).toThrow(
      "t.pkl: pickle opcode 0x71 'q' at offset 3: needs 1 more bytes but the data ends at offset 4 (truncated?)",
    );
    expect(() => unpickle(Uint8Array.from([0x80, 0x02, 0xff]), policy, "t.pkl")).toThrow(
      /opcode 0xff at offset 2: unsupported or unknown opcode/,
    );
    expect(() =>
      unpickle(Uint8Array.from([0x80, 0x02, 0x68, 0x05, 0x2e]), policy, "t.pkl"),
    ).toThrow(/memo entry 5 was never stored/);
    expect(() => unpickle(Uint8Array.from([0x80, 0x02, 0x4e]), policy, "t.pkl")).toThrow(
      /without a STOP opcode \(truncated\?\)/,
    );
  });
});

describe("damaged checkpoints are refused with clear messages", () => {
  const good = file("basic.pth");

  it("truncated archives", () => {
    for (const n of [10, 200, good.length - 30, good.length - 1]) {
      expect(() => readPytorchCheckpoint(good.subarray(0, n), { name: "cut.pth" })).toThrow(
        /^cut\.pth: .*(truncated|end-of-central-directory)/,
      );
    }
  });

  it("a storage whose bytes were altered fails its CRC", () => {
    const bad = good.slice();
    const z = new ZipReader(good);
    const data = z.read("basic/data/0");
    bad[data.byteOffset - good.byteOffset + 3] ^= 0xff;
    expect(() => readPytorchCheckpoint(bad, { name: "flip.pth" })).toThrow(
      /^flip\.pth: entry "basic\/data\/0" fails its CRC-32 check/,
    );
  });

  it("a missing storage", () => {
    const bytes = rezip(good, (e) => delete e["basic/data/0"]);
    expect(() => readPytorchCheckpoint(bytes, { name: "m.pth" })).toThrow(
      /^m\.pth: tensor "conv\.weight" needs storage "basic\/data\/0", which the archive lacks/,
    );
  });

  it("a storage shorter than its tensor", () => {
    const bytes = rezip(good, (e) => {
      e["basic/data/0"] = e["basic/data/0"].subarray(0, 40);
    });
    expect(() => readPytorchCheckpoint(bytes, { name: "s.pth" })).toThrow(
      /storage "basic\/data\/0" has 40 bytes, 108 float32 elements need 432/,
    );
  });

  it("a truncated data.pkl", () => {
    const bytes = rezip(good, (e) => {
      e["basic/data.pkl"] = e["basic/data.pkl"].subarray(0, 100);
    });
    expect(() => readPytorchCheckpoint(bytes, { name: "p.pth" })).toThrow(
      /^p\.pth \(basic\/data\.pkl\): .*offset \d+.*truncated/,
    );
  });

  it("big-endian archives, TorchScript archives and zips without data.pkl", () => {
    const big = rezip(good, (e) => {
      e["basic/byteorder"] = new TextEncoder().encode("big");
    });
    expect(() => readPytorchCheckpoint(big, { name: "be.pth" })).toThrow(
      "be.pth: storages are big-endian; only little-endian checkpoints are supported",
    );
    const ts = rezip(good, (e) => {
      e["basic/constants.pkl"] = new Uint8Array([0x80, 0x02, 0x29, 0x2e]);
    });
    expect(() => readPytorchCheckpoint(ts, { name: "ts.pt" })).toThrow(/TorchScript archive/);
    const none = zipSync({ "a.txt": new Uint8Array([1]) });
    expect(() => readPytorchCheckpoint(none, { name: "n.zip" })).toThrow(
      /n\.zip: the zip archive has no data\.pkl/,
    );
  });

  it("files that are neither zip nor pickle", () => {
    expect(() => readPytorchCheckpoint(new Uint8Array([1, 2, 3]), { name: "j.bin" })).toThrow(
      /j\.bin: not a PyTorch checkpoint/,
    );
  });

  it("a truncated legacy checkpoint", () => {
    const legacy = file("basic_legacy.pth");
    expect(() =>
      readPytorchCheckpoint(legacy.subarray(0, legacy.length - 5), { name: "l.pth" }),
    ).toThrow(/^l\.pth: storage "\d+" .*offset \d+.*truncated/);
  });
});

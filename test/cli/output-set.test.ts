/**
 * Output sets are all or nothing: a failure on any file (a directory in the way, a full disk
 * part-way through a write) leaves none of the set's files and no temporary files, and files a
 * failed commit would have replaced keep their previous contents.
 */

import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, test } from "vitest";
import { OutputSet, outPrefix, writeOutputs } from "../../src/cli/output-set.ts";
import { encodeNpy } from "../../src/viz/npy.ts";

const fresh = () => mkdtempSync(join(tmpdir(), "salient-outputs-"));
const NPY = encodeNpy(
  Float32Array.from({ length: 1000 }, (_, i) => i),
  [10, 100],
);

describe("output sets", () => {
  test("all files appear together when every write succeeds", () => {
    const dir = fresh();
    const files = writeOutputs([
      [join(dir, "eye.npy"), NPY],
      [join(dir, "eye.png"), "png bytes"],
    ]);
    expect(files).toEqual([join(dir, "eye.npy"), join(dir, "eye.png")]);
    expect(new Uint8Array(readFileSync(files[0]))).toEqual(NPY);
    expect(readFileSync(files[1], "utf8")).toBe("png bytes");
    expect(readdirSync(dir).sort()).toEqual(["eye.npy", "eye.png"]);
  });

  test("a directory where the second file goes: no file of the set, no temporaries", () => {
    const dir = fresh();
    mkdirSync(join(dir, "eye.png"));
    expect(() =>
      writeOutputs([
        [join(dir, "eye.npy"), NPY],
        [join(dir, "eye.png"), "png"],
      ]),
    ).toThrow(`cannot write ${join(dir, "eye.png")}: it is a directory`);
    expect(readdirSync(dir)).toEqual(["eye.png"]);
  });

  test("a failed rename restores the files it replaced", () => {
    const dir = fresh();
    writeFileSync(join(dir, "a.npy"), "old a");
    mkdirSync(join(dir, "b.png"));
    const set = new OutputSet();
    set.add(join(dir, "a.npy"), "new a");
    set.add(join(dir, "b.png"), "new b");
    expect(() => set.commit()).toThrow(/b\.png: it is a directory/);
    expect(readFileSync(join(dir, "a.npy"), "utf8")).toBe("old a");
    expect(readdirSync(dir).sort()).toEqual(["a.npy", "b.png"]);
  });

  test("a full disk part-way through the second file: named in the error, nothing left", () => {
    const dir = fresh();
    let calls = 0;
    const failing = (path: string, data: Uint8Array | string) => {
      if (++calls === 2) {
        // Half the bytes reach the disk, then it is full.
        writeFileSync(path, typeof data === "string" ? data.slice(0, 3) : data.subarray(0, 50));
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), {
          code: "ENOSPC",
        });
      }
      writeFileSync(path, data);
    };
    expect(() =>
      writeOutputs(
        [
          [join(dir, "eye.png"), "png bytes"],
          [join(dir, "eye.npy"), NPY],
        ],
        failing,
      ),
    ).toThrow(`cannot write ${join(dir, "eye.npy")}: ENOSPC (no space left on device)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("missing output folders are created, and removed again when the set fails", () => {
    const dir = fresh();
    const files = writeOutputs([[join(dir, "a", "b", "x.npy"), NPY]]);
    expect(existsSync(files[0])).toBe(true);
    const set = new OutputSet();
    set.add(join(dir, "c", "d", "y.npy"), NPY);
    set.abort();
    expect(readdirSync(dir)).toEqual(["a"]);
  });

  test("a folder output (the demo's report) is renamed into place, replacing the old one", () => {
    const dir = fresh();
    mkdirSync(join(dir, "report"));
    writeFileSync(join(dir, "report", "stale.html"), "old");
    const set = new OutputSet();
    const tmp = set.addDir(join(dir, "report"));
    writeFileSync(join(tmp, "index.html"), "new");
    expect(readdirSync(join(dir, "report"))).toEqual(["stale.html"]);
    set.commit();
    expect(readdirSync(join(dir, "report"))).toEqual(["index.html"]);
    expect(readdirSync(dir)).toEqual(["report"]);
  });

  test("--out PREFIX: a trailing extension of the command's files is dropped", () => {
    expect(outPrefix("eye.png", [".npy", ".png"])).toBe("eye");
    expect(outPrefix("out/eye.NPY", [".npy", ".png"])).toBe("out/eye");
    expect(outPrefix("eye", [".npy", ".png"])).toBe("eye");
    expect(outPrefix("eye.v2", [".npy", ".png"])).toBe("eye.v2");
    expect(outPrefix(".png", [".png"])).toBe(".png");
  });
});

describe("interrupted writes", () => {
  test("SIGINT part-way through a set: no truncated .npy, no temporaries, exit 130", async () => {
    const dir = fresh();
    const script = join(dir, "..", `${dir.split("/").at(-1)}-writer.mjs`);
    // A process that has written one file of the set and half of the next, then is interrupted.
    await build({
      stdin: {
        contents: `
          import { writeFileSync } from "node:fs";
          import { join } from "node:path";
          import { OutputSet } from ${JSON.stringify(join(import.meta.dirname, "..", "..", "src", "cli", "output-set.ts"))};
          const dir = process.argv[2];
          const set = new OutputSet((path, data) => writeFileSync(path, data.subarray(0, data.length >> 1)));
          set.add(join(dir, "eye.png"), new Uint8Array(100));
          set.add(join(dir, "eye.npy"), new Uint8Array(4096));
          console.log("staged");
          setInterval(() => {}, 1000);
        `,
        resolveDir: dir,
        loader: "ts",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: script,
      logLevel: "silent",
    });
    const child = spawn(process.execPath, [script, dir]);
    let staged = "";
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on("data", (d) => {
        staged += d;
        if (staged.includes("staged")) {
          // The temporaries exist (the partial .npy among them) before the interrupt.
          expect(readdirSync(dir).filter((f) => f.endsWith(".tmp")).length).toBe(2);
          child.kill("SIGINT");
        }
      });
      child.on("close", resolve);
    });
    expect(code).toBe(130);
    expect(readdirSync(dir)).toEqual([]);
  }, 30_000);
});

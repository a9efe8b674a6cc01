/**
 * All-or-nothing output for the CLI. Every file of a command's output set is first written to a
 * temporary name in its target's directory; only when all are written are they renamed into
 * place, so a failure part-way (an unwritable target, a full disk) or an interrupt leaves either
 * the previous files or the complete new set, never a partial set or a truncated file. Files
 * that a commit replaces are moved aside first and put back if a later rename fails.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

const REASONS: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EISDIR: "is a directory",
  ENOTDIR: "a parent is not a directory",
  ENOENT: "no such file or directory",
  ENAMETOOLONG: "name too long",
  EMFILE: "too many open files",
  EIO: "input/output error",
};

/** "cannot write eye.png: ENOSPC (no space left on device)" for an fs error on `path`. */
export function writeError(path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException)?.code;
  const reason = code
    ? `${code}${REASONS[code] ? ` (${REASONS[code]})` : ""}`
    : (e as Error)?.message;
  return new Error(`cannot write ${path}: ${reason}`);
}

interface Staged {
  /** The path as the user named it (for messages). */
  target: string;
  temp: string;
  dir: boolean;
}

/** Writes bytes to a path; tests swap it to simulate a full disk. */
export type FileWriter = (path: string, data: Uint8Array | string) => void;

const active = new Set<OutputSet>();
let counter = 0;

function onSignal(signal: NodeJS.Signals): void {
  for (const set of [...active]) set.abort();
  process.stderr.write(`\nsalient: interrupted (${signal}); no output was written\n`);
  process.exit(signal === "SIGINT" ? 130 : 143);
}

function track(set: OutputSet, on: boolean): void {
  const before = active.size;
  if (on) active.add(set);
  else active.delete(set);
  if (before === 0 && active.size === 1) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  } else if (before > 0 && active.size === 0) {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export class OutputSet {
  private staged: Staged[] = [];
  /** Directories this set created, deepest last, removed again if it is aborted. */
  private createdDirs: string[] = [];
  private done = false;

  constructor(private readonly write: FileWriter = writeFileSync) {}

  /** Temporary sibling of `target` (same directory, so the rename cannot cross devices). */
  private tempFor(target: string): string {
    const name = `.${basename(target)}.${process.pid}-${++counter}.tmp`;
    return join(dirname(resolve(target)), name);
  }

  private ensureParent(target: string): void {
    const parent = dirname(resolve(target));
    if (existsSync(parent)) return;
    const missing: string[] = [];
    for (let d = parent; !existsSync(d); d = dirname(d)) missing.unshift(d);
    try {
      mkdirSync(parent, { recursive: true });
    } catch (e) {
      throw writeError(target, e);
    }
    this.createdDirs.push(...missing);
  }

  private begin(): void {
    if (this.done) throw new Error("this output set was already committed or aborted");
    if (this.staged.length === 0) track(this, true);
  }

  /** Writes `data` under a temporary name next to `target`. */
  add(target: string, data: Uint8Array | string): void {
    this.begin();
    this.ensureParent(target);
    const temp = this.tempFor(target);
    this.staged.push({ target, temp, dir: false });
    try {
      this.write(temp, data);
    } catch (e) {
      const err = writeError(target, e);
      this.abort();
      throw err;
    }
  }

  /**
   * Creates a temporary folder next to `target` and returns it: fill it, and commit renames it
   * to `target` (replacing a previous folder there).
   */
  addDir(target: string): string {
    this.begin();
    this.ensureParent(target);
    const temp = this.tempFor(target);
    this.staged.push({ target, temp, dir: true });
    try {
      mkdirSync(temp);
    } catch (e) {
      const err = writeError(target, e);
      this.abort();
      throw err;
    }
    return temp;
  }

  /** Renames every staged file into place; returns the targets. All or nothing. */
  commit(): string[] {
    this.begin();
    for (const s of this.staged) {
      const kind = kindOf(s.target);
      if (kind === "dir" && !s.dir) this.fail(s.target, "it is a directory");
      if (kind === "file" && s.dir) this.fail(s.target, "it is a file, not a folder");
    }
    const placed: Staged[] = [];
    const backups: { backup: string; target: string }[] = [];
    try {
      for (const s of this.staged) {
        if (kindOf(s.target) !== null) {
          const backup = this.tempFor(s.target).replace(/\.tmp$/, ".old");
          renameOrThrow(s.target, backup, s.target);
          backups.push({ backup, target: s.target });
        }
        renameOrThrow(s.temp, s.target, s.target);
        placed.push(s);
      }
    } catch (e) {
      for (const s of placed) rmSync(s.target, { recursive: true, force: true });
      for (const b of backups) renameSync(b.backup, b.target);
      this.abort();
      throw e;
    }
    for (const b of backups) rmSync(b.backup, { recursive: true, force: true });
    this.finish();
    return this.staged.map((s) => s.target);
  }

  /** Removes every temporary file and the directories this set created. */
  abort(): void {
    if (this.done) return;
    for (const s of this.staged) rmSync(s.temp, { recursive: true, force: true });
    for (const d of [...this.createdDirs].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // Not empty any more (something else was written there): leave it.
      }
    }
    this.finish();
  }

  private fail(target: string, why: string): never {
    this.abort();
    throw new Error(`cannot write ${target}: ${why}`);
  }

  private finish(): void {
    this.done = true;
    track(this, false);
  }
}

function kindOf(path: string): "file" | "dir" | null {
  try {
    return lstatSync(path).isDirectory() ? "dir" : "file";
  } catch {
    return null;
  }
}

function renameOrThrow(from: string, to: string, target: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    throw writeError(target, e);
  }
}

/**
 * Writes all `files` (target path -> contents) as one set, or none of them; returns the paths.
 */
export function writeOutputs(
  files: ReadonlyArray<readonly [string, Uint8Array | string]>,
  write?: FileWriter,
): string[] {
  const set = new OutputSet(write);
  for (const [path, data] of files) set.add(path, data);
  return set.commit();
}

/**
 * PREFIX from --out: a trailing extension the command writes (".png", ".npy", ...) is dropped,
 * so `--out eye.png` and `--out eye` both mean the prefix "eye".
 */
export function outPrefix(out: string, extensions: readonly string[]): string {
  const lower = out.toLowerCase();
  const ext = extensions.find((e) => lower.endsWith(e) && out.length > e.length);
  return ext ? out.slice(0, -ext.length) : out;
}

/**
 * Lets the event loop run (and with it a pending SIGINT/SIGTERM handler, which removes the
 * temporaries). Long commands await this between stages: computation that only awaits resolved
 * promises never gives signals a turn.
 */
export const letSignalsIn = () => new Promise<void>((resolve) => setImmediate(resolve));

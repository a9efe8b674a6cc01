/**
 * Checkpoints in a folder (Node): each entry is written to a temporary name and renamed, so a
 * run killed mid-write leaves the previous checkpoint intact.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CheckpointStore } from "./explainer-checkpoint.ts";

/** A CheckpointStore backed by the folder `dir` (created on the first write). */
export function fileCheckpointStore(dir: string): CheckpointStore {
  return {
    where: dir,
    has: (name) => existsSync(join(dir, name)),
    read: (name) => new Uint8Array(readFileSync(join(dir, name))),
    write: (name, bytes) => {
      mkdirSync(dir, { recursive: true });
      const path = join(dir, name);
      writeFileSync(`${path}.tmp`, bytes);
      renameSync(`${path}.tmp`, path);
    },
  };
}

/**
 * Progress bars for long commands, drawn on stderr and only when stderr is a terminal, so piped
 * or redirected runs (and the JSON line on stdout) stay clean. SALIENT_PROGRESS=lines writes one
 * "label done/total" line per update to stderr instead, for logs and for timing a run's stages
 * from outside (the bench times the first LAM path step this way).
 */
import { SingleBar } from "cli-progress";

export interface Progress {
  /** Sets the count done (and optionally a new total and label). */
  update(done: number, total?: number, label?: string): void;
  stop(): void;
}

const NONE: Progress = { update: () => {}, stop: () => {} };

function progressLines(label: string, total: number): Progress {
  return {
    update: (done, newTotal, newLabel) => {
      if (newTotal !== undefined) total = newTotal;
      if (newLabel !== undefined) label = newLabel;
      process.stderr.write(`${label} ${done}/${total}\n`);
    },
    stop: () => {},
  };
}

export function progressBar(label: string, total: number): Progress {
  if (process.env.SALIENT_PROGRESS === "lines") return progressLines(label, total);
  if (!process.stderr.isTTY) return NONE;
  const bar = new SingleBar({
    format: "{label} [{bar}] {value}/{total} {eta_formatted}",
    stream: process.stderr,
    clearOnComplete: true,
  });
  bar.start(total, 0, { label });
  return {
    update: (done, newTotal, newLabel) => {
      if (newTotal !== undefined) bar.setTotal(newTotal);
      bar.update(done, newLabel === undefined ? {} : { label: newLabel });
    },
    stop: () => bar.stop(),
  };
}

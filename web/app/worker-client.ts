/**
 * The page's side of the worker: numbered requests answered by promises, progress callbacks, and
 * cancel by terminating the worker and starting a fresh one (LAM's path loop cannot be
 * interrupted from outside, and a terminated worker frees its memory at once).
 */
import type { BackendChoice, FromWorker, ToWorker } from "./protocol.ts";

type Ready = Extract<FromWorker, { type: "ready" }>;
type Pending = {
  resolve: (m: FromWorker) => void;
  reject: (e: Error) => void;
  onProgress?: (done: number, total: number) => void;
};

export class CancelledError extends Error {
  constructor() {
    super("cancelled");
  }
}

/** Strips the request id off a message type: the client numbers requests itself. */
type Request = ToWorker extends infer T
  ? T extends { id: number }
    ? Omit<T, "id">
    : never
  : never;

export class WorkerClient {
  private worker!: Worker;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  ready!: Promise<Ready>;

  constructor(
    private readonly url: string,
    private readonly backend: BackendChoice,
  ) {
    this.start();
  }

  private start(): void {
    this.worker = new Worker(this.url, { type: "module" });
    this.ready = new Promise<Ready>((resolve, reject) => {
      this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
        const m = e.data;
        if (m.type === "ready") return resolve(m);
        if (m.type === "error" && m.id === -1) return reject(new Error(m.message));
        const p = this.pending.get(m.id);
        if (!p) return;
        if (m.type === "progress") return p.onProgress?.(m.done, m.total);
        this.pending.delete(m.id);
        if (m.type === "error") p.reject(new Error(m.message));
        else p.resolve(m);
      };
      this.worker.onerror = (e) => {
        const err = new Error(`the worker failed: ${e.message || "it could not start"}`);
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      };
    });
    this.worker.postMessage({ type: "init", backend: this.backend } satisfies ToWorker);
  }

  request<T extends FromWorker>(
    m: Request,
    onProgress?: (done: number, total: number) => void,
    transfer: Transferable[] = [],
  ): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (m: FromWorker) => void, reject, onProgress });
      this.worker.postMessage({ ...m, id }, transfer);
    });
  }

  /** Stops whatever runs, fails the pending requests with CancelledError, starts a fresh worker. */
  restart(): Promise<Ready> {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new CancelledError());
    this.pending.clear();
    this.start();
    return this.ready;
  }
}

/**
 * Tensor: an immutable n-d array living on one backend. Reshapes share storage (reference
 * counted); every other op allocates. Values are read with `await t.data()`.
 */
import type { Backend, DataHandle, DType, TensorInfo, TypedArray } from "../kernels/backend.ts";
import { shapeEq, sizeOf } from "../kernels/shape.ts";
import { state } from "./state.ts";

let nextId = 1;

/** Backend storage shared by a tensor and its reshapes; freed when the last holder lets go. */
export class Storage {
  refs = 1;
  /**
   * @internal Tensors computed from these values alone (derived-from-weight.ts), by key;
   * disposed when the storage is freed.
   */
  derived: Map<string, Tensor[]> | null = null;
  constructor(
    readonly backend: Backend,
    readonly handle: DataHandle,
  ) {}
  release(): void {
    if (--this.refs !== 0) return;
    this.backend.free(this.handle);
    const derived = this.derived;
    this.derived = null;
    for (const ts of derived?.values() ?? []) for (const t of ts) t.dispose();
  }
}

/**
 * An immutable n-d array (float32 or int32) on one backend; ops make new tensors, `await t.data()`
 * reads the values.
 */
export class Tensor implements TensorInfo {
  readonly id = nextId++;
  readonly size: number;
  /** @internal Number of active tapes that saved this tensor for their backward pass. */
  holds = 0;
  /** @internal dispose() was asked for while a tape held the tensor. */
  disposeRequested = false;
  /** Never disposed by `tidy` (set by `keep` and for variables). */
  kept = false;
  isDisposed = false;

  constructor(
    /** @internal */ public storage: Storage,
    readonly shape: readonly number[],
    readonly dtype: DType,
  ) {
    this.size = sizeOf(shape);
    state.onCreate(this);
  }

  get handle(): DataHandle {
    this.assertAlive("read");
    return this.storage.handle;
  }
  get backend(): Backend {
    return this.storage.backend;
  }
  get rank(): number {
    return this.shape.length;
  }

  /** Reads the values back (the only place that waits on a GPU). */
  data(): Promise<TypedArray> {
    this.assertAlive("read");
    return this.backend.read(this);
  }

  /** Synchronous read; CPU backend only. */
  dataSync(): TypedArray {
    this.assertAlive("read");
    const read = this.backend.readSync;
    if (!read) {
      throw new Error(
        `dataSync: the ${this.backend.name} backend reads asynchronously; use await t.data()`,
      );
    }
    return read.call(this.backend, this);
  }

  /** The values as nested arrays (like tensor.tolist()). */
  async array(): Promise<unknown> {
    const v = Array.from(await this.data());
    const nest = (off: number, dims: readonly number[]): unknown => {
      if (dims.length === 0) return v[off];
      const [d, ...rest] = dims;
      const step = sizeOf(rest);
      return Array.from({ length: d }, (_, i) => nest(off + i * step, rest));
    };
    return nest(0, this.shape);
  }

  /**
   * Frees the storage now (deferred while a gradient tape still needs it); using the tensor
   * afterwards throws.
   */
  dispose(): void {
    state.dispose(this);
  }

  /** Throws, naming `what` was attempted, if the tensor was disposed. */
  assertAlive(what: string): void {
    if (this.isDisposed) {
      throw new Error(`Cannot ${what} tensor #${this.id} [${this.shape}]: it was disposed`);
    }
  }

  toString(): string {
    return `Tensor#${this.id}(${this.dtype}, [${this.shape}] on ${this.backend.name})`;
  }
}

/** A persistent, trainable tensor (model parameters): survives `tidy`, updated with `assign`. */
export class Variable extends Tensor {
  constructor(
    value: Tensor,
    readonly name: string,
    public trainable = true,
  ) {
    value.storage.refs++;
    super(value.storage, value.shape, value.dtype);
    this.kept = true;
  }

  /** Replaces the value (same shape and dtype), e.g. after an optimiser step. */
  assign(value: Tensor): void {
    this.assertAlive("assign to");
    if (
      value.shape.length !== this.shape.length ||
      value.shape.some((d, i) => d !== this.shape[i])
    ) {
      throw new Error(
        `assign: variable "${this.name}" has shape [${this.shape}] but the new value has shape [${value.shape}]`,
      );
    }
    if (value.backend !== this.backend) {
      throw new Error(
        `assign: variable "${this.name}" lives on ${this.backend.name}, value on ${value.backend.name}`,
      );
    }
    this.rebind(value);
  }

  /**
   * Takes over value's storage, which may live on another backend (Module.to moves parameters
   * this way, so every holder of the variable sees the move). Same shape and dtype only.
   */
  moveTo(value: Tensor): void {
    this.assertAlive("move");
    if (value.dtype !== this.dtype || !shapeEq(value.shape, this.shape)) {
      throw new Error(
        `moveTo: variable "${this.name}" is ${this.dtype} [${this.shape}] but the new value is ${value.dtype} [${value.shape}]`,
      );
    }
    this.rebind(value);
  }

  private rebind(value: Tensor): void {
    value.storage.refs++;
    this.storage.release();
    this.storage = value.storage;
  }
}

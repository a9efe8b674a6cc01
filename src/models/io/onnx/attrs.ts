/** Typed access to a node's attributes, with errors that name the node. */
import { OnnxUnsupportedError } from "./errors.ts";
import type { HostArray } from "./host.ts";
import { type AttributeProto, decodeTensor } from "./proto.ts";

export class Attrs {
  private readonly byName = new Map<string, AttributeProto>();

  constructor(
    list: readonly AttributeProto[],
    private readonly where: string,
  ) {
    for (const a of list) this.byName.set(a.name ?? "", a);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  private get(name: string, type: number, typeName: string): AttributeProto | undefined {
    const a = this.byName.get(name);
    if (a && a.type !== type && a.type) {
      throw new Error(
        `${this.where}: attribute "${name}" should be ${typeName} (attribute type ${a.type})`,
      );
    }
    return a;
  }

  int(name: string, fallback: number): number {
    const a = this.get(name, 2, "an int");
    return a ? (a.i ?? 0) : fallback;
  }

  float(name: string, fallback: number): number {
    const a = this.get(name, 1, "a float");
    return a ? (a.f ?? 0) : fallback;
  }

  string(name: string, fallback: string): string {
    const a = this.get(name, 3, "a string");
    return a ? new TextDecoder().decode(a.s ?? new Uint8Array()) : fallback;
  }

  ints(name: string): number[] | undefined {
    const a = this.get(name, 7, "a list of ints");
    return a ? [...(a.ints ?? [])] : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.get(name, 6, "a list of floats");
    return a ? [...(a.floats ?? [])] : undefined;
  }

  tensor(name: string): HostArray | undefined {
    const a = this.get(name, 4, "a tensor");
    return a?.t ? decodeTensor(a.t, `${this.where}: attribute "${name}"`) : undefined;
  }

  /** Throws when `name` has a value other than the allowed ones. */
  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const v = this.string(name, fallback) as T;
    if (!allowed.includes(v)) {
      throw new OnnxUnsupportedError(
        `${this.where}: unsupported ${name} "${v}" (supported: ${allowed.join(", ")})`,
      );
    }
    return v;
  }
}

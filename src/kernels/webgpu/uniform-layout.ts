/**
 * The TypeScript side of a kernel's uniform struct: field list, WGSL uniform-address-space layout
 * and packing. reflect.ts checks this layout against the struct the WGSL actually declares, so a
 * field added on one side only is a load-time error rather than a silently shifted value.
 */

export type UniformType = "i32" | "u32" | "f32" | "vec4i" | "vec4u" | "vec4f";

export interface UniformField {
  readonly name: string;
  readonly type: UniformType;
  /** When set, the field is `array<type, count>` (uniform arrays must have vec4 elements). */
  readonly count?: number;
}

export interface LaidOutField extends UniformField {
  readonly offset: number;
  readonly size: number;
}

export interface UniformLayout {
  readonly fields: readonly LaidOutField[];
  /** Struct size rounded up to 16 bytes (the binding size we allocate). */
  readonly size: number;
}

export type UniformValues = Record<string, number | readonly number[]>;

const isVec4 = (t: UniformType) => t.startsWith("vec4");

/** WGSL type name as wgsl_reflect prints it (vec4i, array<vec4i, 2>). */
export function wgslTypeName(f: UniformField): string {
  return f.count === undefined ? f.type : `array<${f.type}, ${f.count}>`;
}

export function layoutUniforms(kernel: string, fields: readonly UniformField[]): UniformLayout {
  const out: LaidOutField[] = [];
  let offset = 0;
  for (const f of fields) {
    if (f.count !== undefined && !isVec4(f.type)) {
      throw new Error(
        `WebGPU kernel "${kernel}": uniform field "${f.name}" is an array of ${f.type}; uniform arrays need vec4 elements (16-byte stride)`,
      );
    }
    const align = isVec4(f.type) ? 16 : 4;
    const size = f.count !== undefined ? 16 * f.count : isVec4(f.type) ? 16 : 4;
    offset = Math.ceil(offset / align) * align;
    out.push({ ...f, offset, size });
    offset += size;
  }
  return { fields: out, size: Math.max(16, Math.ceil(offset / 16) * 16) };
}

/** Packs values by field name; a missing field or an overlong array names the kernel and field. */
export function packUniforms(
  kernel: string,
  layout: UniformLayout,
  values: UniformValues,
): ArrayBuffer {
  const buf = new ArrayBuffer(layout.size);
  const view = new DataView(buf);
  for (const f of layout.fields) {
    const v = values[f.name];
    if (v === undefined) {
      throw new Error(`WebGPU kernel "${kernel}": no value given for uniform field "${f.name}"`);
    }
    const list = typeof v === "number" ? [v] : v;
    const capacity = f.size / 4;
    if (list.length > capacity) {
      throw new Error(
        `WebGPU kernel "${kernel}": uniform field "${f.name}" holds ${capacity} values, got ${list.length}`,
      );
    }
    const kind = f.type.endsWith("f") || f.type === "f32" ? "f" : f.type.endsWith("u") ? "u" : "i";
    for (let i = 0; i < list.length; i++) {
      const at = f.offset + 4 * i;
      if (kind === "f") view.setFloat32(at, list[i], true);
      else if (kind === "u") view.setUint32(at, list[i] >>> 0, true);
      else view.setInt32(at, list[i] | 0, true);
    }
  }
  return buf;
}

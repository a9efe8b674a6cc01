/**
 * Reads a kernel's WGSL with wgsl_reflect: its bindings (so the bind-group layout comes from the
 * shader itself) and its uniform struct, which must match the TypeScript-side layout field by
 * field (name, type, offset), or loading the kernel throws naming the kernel and the field.
 */
import { ResourceType, WgslReflect } from "wgsl_reflect/wgsl_reflect.module.js";
import { type UniformLayout, wgslTypeName } from "./uniform-layout.ts";

export type BindingKind = "uniform" | "read-only-storage" | "storage";

export interface KernelBinding {
  readonly name: string;
  readonly binding: number;
  readonly kind: BindingKind;
}

export interface ReflectedKernel {
  readonly bindings: readonly KernelBinding[];
  readonly entryPoint: string;
}

/** wgsl_reflect prints vec4<i32> as vec4i; normalise both spellings and spacing. */
function canonical(type: string): string {
  return type
    .replace(/\s+/g, "")
    .replace(/vec4<(i32|u32|f32)>/g, (_, t: string) => `vec4${t[0]}`)
    .replace(/,/g, ", ");
}

export function reflectKernel(
  kernel: string,
  wgsl: string,
  uniforms: UniformLayout,
): ReflectedKernel {
  let r: WgslReflect;
  try {
    r = new WgslReflect(wgsl);
  } catch (e) {
    throw new Error(`WebGPU kernel "${kernel}": WGSL does not parse: ${(e as Error).message}`);
  }
  const entry = r.entry.compute[0];
  if (!entry) throw new Error(`WebGPU kernel "${kernel}": no @compute entry point in its WGSL`);
  const bindings: KernelBinding[] = [];
  for (const group of r.getBindGroups()) {
    for (const v of group) {
      if (!v) continue;
      if (v.group !== 0) {
        throw new Error(`WebGPU kernel "${kernel}": binding "${v.name}" must be in @group(0)`);
      }
      const kind: BindingKind =
        v.resourceType === ResourceType.Uniform
          ? "uniform"
          : v.access === "read_write"
            ? "storage"
            : "read-only-storage";
      bindings.push({ name: v.name, binding: v.binding, kind });
    }
  }
  checkUniforms(kernel, r, uniforms);
  return { bindings, entryPoint: entry.name };
}

function checkUniforms(kernel: string, r: WgslReflect, layout: UniformLayout): void {
  const declared = r.uniforms;
  if (declared.length > 1) {
    throw new Error(`WebGPU kernel "${kernel}": expected at most one uniform binding`);
  }
  const v = declared[0];
  if (!v) {
    if (layout.fields.length > 0) {
      throw new Error(
        `WebGPU kernel "${kernel}": TypeScript declares uniform field "${layout.fields[0].name}" but the WGSL has no uniform struct`,
      );
    }
    return;
  }
  const members = v.members;
  if (!members) {
    throw new Error(`WebGPU kernel "${kernel}": uniform "${v.name}" must be a struct`);
  }
  const n = Math.max(members.length, layout.fields.length);
  for (let i = 0; i < n; i++) {
    const m = members[i];
    const f = layout.fields[i];
    if (!f) {
      throw new Error(
        `WebGPU kernel "${kernel}": WGSL uniform field "${m.name}" (member ${i} of ${v.type.name}) is missing from the TypeScript uniform layout`,
      );
    }
    if (!m) {
      throw new Error(
        `WebGPU kernel "${kernel}": TypeScript uniform field "${f.name}" (member ${i}) is missing from the WGSL struct ${v.type.name}`,
      );
    }
    const wgslType = canonical(m.type.getTypeName());
    const tsType = canonical(wgslTypeName(f));
    if (m.name !== f.name || wgslType !== tsType || m.offset !== f.offset) {
      throw new Error(
        `WebGPU kernel "${kernel}": uniform field ${i} is "${f.name}: ${tsType}" at byte ${f.offset} in TypeScript but "${m.name}: ${wgslType}" at byte ${m.offset} in the WGSL struct ${v.type.name}`,
      );
    }
  }
}

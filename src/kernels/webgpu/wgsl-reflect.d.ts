// wgsl_reflect's "main" entry is CommonJS under "type": "module", which Deno refuses; its ES
// module build has no typings of its own, so borrow the package's.
declare module "wgsl_reflect/wgsl_reflect.module.js" {
  export * from "wgsl_reflect";
}

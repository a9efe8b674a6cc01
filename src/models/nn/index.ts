export * from "./activation.ts";
export * from "./conv.ts";
export * from "./linear.ts";
export { Lambda, Module, type StateDict } from "./module.ts";
export * from "./norm.ts";
export * from "./pooling.ts";
export * from "./reshaping.ts";
export { Sequential } from "./sequential.ts";
export { type Tap, withTaps } from "./taps.ts";

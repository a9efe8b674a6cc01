/** The SR zoo (platform-neutral; the UpscalerJS loaders in upscaler-node.ts need Node). */
export { Carn, type CarnConfig } from "./carn.ts";
export { Drln, type DrlnConfig } from "./drln.ts";
export { EDSR_BASELINE, EDSR_FULL, Edsr, type EdsrConfig } from "./edsr.ts";
export { Fsrcnn, type FsrcnnConfig } from "./fsrcnn.ts";
export { HAT_BASE, HAT_S, Hat, type HatConfig } from "./hat.ts";
export { Imdn, type ImdnConfig } from "./imdn.ts";
export { Rcan, type RcanConfig } from "./rcan.ts";
export { RDN_MEDIUM, RDN_SLIM, Rdn, type RdnConfig } from "./rdn.ts";
export { Rnan, type RnanConfig } from "./rnan.ts";
export { RrdbNet, type RrdbNetConfig } from "./rrdbnet.ts";
export { Rrdn, type RrdnConfig } from "./rrdn.ts";
export { San, type SanConfig } from "./san.ts";
export {
  SWINIR_CLASSICAL,
  SWINIR_LIGHTWEIGHT,
  SwinIr,
  type SwinIrConfig,
  SwinTransformerBlock,
  WindowAttention,
} from "./swinir.ts";

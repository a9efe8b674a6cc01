/** Localisation from saliency: threshold boxes, graph-cut segments, and their scores. */
export {
  alphaGrid,
  type Box,
  type BoxOptions,
  boxIoU,
  components,
  type HeldOutMap,
  localisationError,
  maskBox,
  THRESHOLD_RULES,
  type ThresholdRule,
  thresholdBox,
  thresholdMap,
  tuneAlpha,
} from "./boxes.ts";
export { type GraphCutOptions, type GraphCutResult, graphCutSegment } from "./graph-cut.ts";
export { FlowGraph } from "./max-flow.ts";

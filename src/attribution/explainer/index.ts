/**
 * NN-Explainer (Stalder et al., "What You See is What You Classify: Black Box Attributions",
 * NeurIPS 2022): a trained explainer network for a frozen multi-label classifier.
 */

export {
  MultiLabelCnn,
  type MultiLabelCnnConfig,
  multiLabelCnnFrom,
} from "../../models/classifiers/multi-label-cnn.ts";
export { EarlyStopping } from "../../models/train/early-stopping.ts";
export { evaluateMultiLabel, fitMultiLabel } from "../../models/train/fit-multi-label.ts";
export {
  initEncoderFromClassifier,
  type TrainExplainerOptions,
  type TrainExplainerResult,
  trainExplainer,
  validationLoss,
} from "../../models/train/train-explainer.ts";
export {
  ExplainerNet,
  type ExplainerNetConfig,
  explainerNetFrom,
} from "../../models/unet/explainer-net.ts";
export { BUNDLED_EXPLAINERS, type ExplainerPair, loadExplainerPair } from "./bundled.ts";
export {
  type ClassMaskCase,
  type ClassSpecificity,
  classSpecificity,
  explainerCanvasCases,
} from "./class-specificity.ts";
export { explainerPools, SEEDS as EXPLAINER_DATA_SEEDS } from "./data.ts";
export {
  aggregateEvaluations,
  type ClassMapMethod,
  constantMethod,
  type EvaluationOptions,
  type EvaluationRow,
  evaluateImage,
  evaluateMethod,
  formatTable as formatExplainerTable,
  type ImageEvaluation,
  type ImageEvaluationOptions,
} from "./evaluate.ts";
export { classMasks, combineMasks, type Explanation, explainImage } from "./explain.ts";
export {
  type AreaOptions,
  classMaskAreaLoss,
  EXPLAINER_LOSS_DEFAULTS,
  type ExplainerLossOptions,
  type ExplainerLossTerms,
  entropyLoss,
  explainerLoss,
  explainerMasks,
  totalVariation,
} from "./loss.ts";
export {
  COMPARISON_DEFAULTS,
  comparisonMethods,
  explainerMethod,
  riseAllClasses,
} from "./methods.ts";
export {
  countMultiLabel,
  type MultiLabelScores,
  multiLabelScores,
  saliencyMetric,
} from "./metrics.ts";
export { argsortDescending, sortRowsDescending } from "./sort.ts";

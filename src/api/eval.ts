// `onevideo/eval`: a frozen encoder scored by the standard protocols, each one call that takes the
// options of its `onevideo eval` command and returns what the command prints.
export { type Encoder, loadEncoder } from "../eval/encoder.ts";
export {
  evaluateKnn,
  type KnnEvaluation,
  type KnnEvaluationOptions,
  knnOptions,
} from "../eval/knn_evaluation.ts";
export { evaluateLinear, type LinearEvaluationOptions, linearOptions } from "../eval/linear_evaluation.ts";
export { evaluateDavis, type DavisEvaluationOptions, davisOptions } from "../eval/davis_evaluation.ts";
export { evaluateDense, type DenseEvaluationOptions, denseOptions } from "../eval/dense_evaluation.ts";
export { type DavisScore, scoreDavis } from "../eval/davis_score.ts";
export { knnClassify, knnSweep } from "../eval/knn.ts";
export {
  discoveryOptions,
  type DiscoveryEvaluation,
  evaluateDiscovery,
} from "../eval/discovery_evaluation.ts";
export { bestMatches, summarizeDiscovery } from "../eval/discovery_score.ts";

// `import ... from "onevideo"`: train an encoder, load it, evaluate it, analyse footage, build
// the tours benchmark; the engine, models, methods and evaluations also have their own subpaths.
export { pretrain, type PretrainOptions, type PretrainResult } from "../pretrain/pretrain.ts";
export { demoOptions, demoVideo, runDemo } from "../pretrain/demo.ts";
export { type Encoder, loadEncoder } from "../eval/encoder.ts";
export { evaluateDavis, evaluateDense, evaluateKnn, evaluateLinear } from "./eval.ts";
export { embed, type EmbeddingIndex, type EmbedOptions } from "../eval/embedding.ts";
export { vitToOnnx } from "../export/vit_onnx.ts";
export { analyzeVideo, type AnalysisSettings, type VideoAnalysis } from "../analysis/analyze_video.ts";
export { probeVideo, type VideoInfo } from "../video/probe.ts";
export { buildTour, type TourSettings } from "../data/tours/build.ts";
export { type TourManifest, readTourManifest } from "../data/tours/manifest.ts";
export { DistributedError, InputError, TrainingError } from "../errors.ts";
export { F, Tensor } from "../torch/index.ts";
export { nn, optim } from "./engine.ts";

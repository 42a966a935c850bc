// Optimizers, gradient clipping and schedules (torch.optim).
export { AdamW, type AdamWOptions } from "./adamw.ts";
export { clipGradNorm, clipGradNormPerParameter } from "./clip.ts";
export { type OptimizerState, Optimizer, type ParamGroup, type ParamGroupSpec } from "./optimizer.ts";
export { type CosineScheduleOptions, cosineSchedule } from "./schedules.ts";
export { SGD, type SGDOptions } from "./sgd.ts";

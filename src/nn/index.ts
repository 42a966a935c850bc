// Neural-network building blocks (torch.nn).
export { GELU, Identity, ReLU } from "./activation.ts";
export { BatchNorm2d } from "./batch_norm.ts";
export { ModuleList, Sequential } from "./containers.ts";
export { Conv2d, type Conv2dOptions } from "./conv2d.ts";
export { DropPath, Dropout } from "./dropout.ts";
export * as init from "./init.ts";
export { GroupNorm } from "./group_norm.ts";
export { LayerNorm } from "./layer_norm.ts";
export { Linear } from "./linear.ts";
export { type Layer, type LoadReport, Module } from "./module.ts";
export { WeightNormLinear } from "./weight_norm_linear.ts";

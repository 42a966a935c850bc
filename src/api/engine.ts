// `onevideo/engine`: tensors over libtorch with autograd, the functional ops, layers and optimisers.
export * from "../torch/index.ts";
export * as nn from "../nn/index.ts";
export * as optim from "../optim/index.ts";

// The engine's public face: import { Tensor, zeros, F, noGrad, scope } from "src/torch".
export { autocast, type Precision } from "./autocast.ts";
export { backward, enableGrad, grad, isGradEnabled, noGrad } from "./autograd.ts";
export { cat, cdist, einsum, stack, where } from "./combine.ts";
export {
  arange,
  empty,
  eye,
  full,
  fullLike,
  linspace,
  ones,
  onesLike,
  rand,
  randLike,
  randint,
  randn,
  randnLike,
  randperm,
  type TensorOptions,
  tensor,
  zeros,
  zerosLike,
} from "./creation.ts";
export { asFloat, callOp, hasOperator, operatorSchema } from "./dispatch.ts";
export { pickDevice, pickPrecision } from "./device_choice.ts";
export { type DType, isFloatingDType } from "./dtype.ts";
export * as F from "./functional.ts";
export {
  allReduce,
  armGradientAverage,
  type Backend,
  broadcast,
  destroyProcessGroup,
  distributedBackends,
  finishGradientAverage,
  type GradientAverageReport,
  initProcessGroup,
  type ProcessGroupOptions,
} from "./distributed.ts";
export { loadPth, type PthValue, type PythonObject, savePth, stateDictFrom } from "./pth.ts";
export {
  cuda,
  getNumThreads,
  getRngState,
  libtorchVersion,
  manualSeed,
  setNumThreads,
  setRngState,
  stopSignals,
} from "./runtime.ts";
export { readSafetensors, type SafetensorsFile, safetensorsHeader, writeSafetensors } from "./safetensors.ts";
export { keep, scope } from "./scope.ts";
export { callTensor, callTensors, type Device, type Shape, Tensor } from "./tensor.ts";

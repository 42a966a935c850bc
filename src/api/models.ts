// `onevideo/models`: the networks (DINO's ViT, torchvision's ResNets, the dense encoders) and the
// metadata that lets a weights file rebuild its network.
export {
  createVit,
  type VitArchitecture,
  vitArchitectures,
  vitConfig,
  VisionTransformer,
} from "../models/vit.ts";
export { createResNet, ResNet, type ResNetArchitecture, resnetArchitectures } from "../models/resnet.ts";
export { DinoHead, dinoHeadConfig } from "../models/dino_head.ts";
export { denseBackbones, denseEncoder, DenseEncoder, type DenseEncoderOptions } from "../models/dense.ts";
export { buildModel, type ModelMetadata, readModelMetadata } from "../models/model_metadata.ts";

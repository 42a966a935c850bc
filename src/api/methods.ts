// `onevideo/methods`: the self-supervised methods by name, with their option schemas and presets.
export {
  methodEntry,
  methodNames,
  type MethodName,
  type PretrainConfig,
  pretrainConfigSchema,
} from "../pretrain/registry.ts";
export { dino, dinoOptions, DinoMethod, type DinoConfig } from "../methods/dino.ts";
export { dora, doraOptions, DoraMethod, type DoraConfig } from "../methods/dora.ts";
export { vader, vaderOptions, VaderMethod, type VaderConfig } from "../methods/vader.ts";
export { DinoLoss } from "../methods/dino_loss.ts";

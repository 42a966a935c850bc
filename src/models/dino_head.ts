// DINO's projection head: a 3-layer MLP with GELU down to a bottleneck, L2
// normalisation, then a weight-normalised linear layer to the prototypes, with DINO's
// parameter names (mlp.0, mlp.2, mlp.4, last_layer.weight_g/_v).
import { GELU, init, Linear, Module, Sequential, WeightNormLinear } from "../nn/index.ts";
import { F, noGrad, type Tensor } from "../torch/index.ts";

export interface DinoHeadConfig {
  inDim: number;
  outDim: number;
  hiddenDim: number;
  bottleneckDim: number;
  /** MLP layers before the bottleneck (DINO: 3). */
  layers: number;
  /** Keep the last layer's weight norm g fixed at 1 (DINO's norm_last_layer). */
  normLastLayer: boolean;
}

export function dinoHeadConfig(inDim: number, overrides: Partial<DinoHeadConfig> = {}): DinoHeadConfig {
  return {
    inDim,
    outDim: 65536,
    hiddenDim: 2048,
    bottleneckDim: 256,
    layers: 3,
    normLastLayer: true,
    ...overrides,
  };
}

export class DinoHead extends Module {
  readonly mlp: Sequential;
  readonly lastLayer: WeightNormLinear;

  constructor(readonly config: DinoHeadConfig) {
    super();
    const { inDim, hiddenDim, bottleneckDim, layers } = config;
    if (layers < 1) throw new Error(`the DINO head needs at least one layer, got ${layers}`);
    const modules =
      layers === 1
        ? [new Linear(inDim, bottleneckDim)]
        : [
            new Linear(inDim, hiddenDim),
            new GELU(),
            ...Array.from({ length: layers - 2 }, () => [
              new Linear(hiddenDim, hiddenDim),
              new GELU(),
            ]).flat(),
            new Linear(hiddenDim, bottleneckDim),
          ];
    this.mlp = this.addModule("mlp", new Sequential(modules));
    for (const layer of modules) {
      if (layer instanceof Linear) {
        init.truncNormal_(layer.weight, 0.02);
        if (layer.bias) init.constant_(layer.bias, 0);
      }
    }
    this.lastLayer = this.addModule("last_layer", new WeightNormLinear(bottleneckDim, config.outDim));
    noGrad(() => this.lastLayer.weightG.fill_(1));
    if (config.normLastLayer) this.lastLayer.weightG.requiresGrad_(false);
  }

  /** Drops the last layer's gradients, so the optimiser leaves it as it is this step. */
  cancelLastLayerGradients(): void {
    for (const parameter of this.lastLayer.parameters()) parameter.grad = null;
  }

  forward(features: Tensor): Tensor {
    using projected = this.mlp.forward(features);
    using normalized = F.normalize(projected, 2, -1);
    return this.lastLayer.forward(normalized);
  }
}

// A ViT as a dense encoder: the patch tokens (after the final norm) laid back on their
// grid, then a light upsampling decoder to 1/4 of the input resolution:
//   proj:     1x1 conv (embedDim -> width) + BN + ReLU             at 1/patch
//   stages:   log2(patch / 4) x [3x3 conv + BN + ReLU, 2x bilinear]  -> 1/4
//   predictor: 1x1 conv to D, then x / ||x|| over channels.
// Patch 16 gives two stages, patch 8 one, patch 4 none. The last resize lands on
// ceil(H/4) x ceil(W/4), the ResNet encoders' grid, whatever the input size.
import { BatchNorm2d, Conv2d, Module, ModuleList, ReLU, Sequential } from "../nn/index.ts";
import { F, type Tensor } from "../torch/index.ts";
import { kaimingNormalFanOut_ } from "./conv_init.ts";
import { DenseEncoder, type DenseEncoding, denseOutputSize } from "./dense_encoder.ts";
import type { VisionTransformer } from "./vit.ts";

export interface VitDecoderOptions {
  /** The ViT's embedding width. */
  inChannels: number;
  /** The ViT's patch size: a power of two >= 4. */
  patchSize: number;
  /** Channels of the decoder. Default 256. */
  width?: number;
  /** D, channels of the output embeddings. Default 128. */
  embeddingDim?: number;
}

function convBnRelu(inChannels: number, outChannels: number, kernelSize: number): Sequential {
  const conv = new Conv2d(inChannels, outChannels, kernelSize, {
    padding: (kernelSize - 1) / 2,
    bias: false,
  });
  return new Sequential([kaimingNormalFanOut_(conv), new BatchNorm2d(outChannels), new ReLU()]);
}

export class VitDenseDecoder extends Module {
  readonly proj: Sequential;
  readonly stages: ModuleList<Sequential>;
  readonly predictor: Conv2d;
  readonly embeddingDim: number;

  constructor(options: VitDecoderOptions) {
    super();
    const { patchSize, inChannels } = options;
    const width = options.width ?? 256;
    this.embeddingDim = options.embeddingDim ?? 128;
    const upsamplings = Math.log2(patchSize / 4);
    if (!Number.isInteger(upsamplings) || upsamplings < 0) {
      throw new Error(
        `the ViT dense decoder needs a patch size that is a power of two >= 4, got ${patchSize}`,
      );
    }
    for (const [name, value] of Object.entries({ width, embeddingDim: this.embeddingDim })) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number >= 1`);
    }
    this.proj = this.addModule("proj", convBnRelu(inChannels, width, 1));
    this.stages = this.addModule(
      "stages",
      new ModuleList(Array.from({ length: upsamplings }, () => convBnRelu(width, width, 3))),
    );
    this.predictor = this.addModule("predictor", new Conv2d(width, this.embeddingDim, 1));
  }

  /** Token grid [N, C, rows, cols] -> [N, D, outputSize], unit norm per pixel. */
  forward(grid: Tensor, outputSize: [number, number]): Tensor {
    let x = this.proj.forward(grid);
    for (const stage of this.stages) {
      using convolved = stage.forward(x);
      x.dispose();
      x = F.interpolate(convolved, { scaleFactor: 2, mode: "bilinear" });
    }
    if (x.size(2) !== outputSize[0] || x.size(3) !== outputSize[1]) {
      const resized = F.interpolate(x, { size: outputSize, mode: "bilinear" });
      x.dispose();
      x = resized;
    }
    using features = x;
    using projected = this.predictor.forward(features);
    return F.normalize(projected, 2, 1);
  }
}

/** A ViT with the upsampling decoder; the pooled feature is the [CLS] token. */
export class VitDenseEncoder extends DenseEncoder {
  readonly backbone: VisionTransformer;
  readonly decoder: VitDenseDecoder;

  constructor(
    backbone: VisionTransformer,
    options: Omit<VitDecoderOptions, "inChannels" | "patchSize"> = {},
  ) {
    super();
    this.backbone = this.addModule("backbone", backbone);
    this.decoder = this.addModule(
      "decoder",
      new VitDenseDecoder({
        ...options,
        inChannels: backbone.embedDim,
        patchSize: backbone.config.patchSize,
      }),
    );
  }

  get embeddingDim(): number {
    return this.decoder.embeddingDim;
  }

  get globalDim(): number {
    return this.backbone.embedDim;
  }

  encode(images: Tensor): DenseEncoding {
    const [batch, , height, width] = images.shape;
    const { patchSize } = this.backbone.config;
    const rows = Math.floor(height / patchSize);
    const cols = Math.floor(width / patchSize);
    const { cls, patchTokens } = this.backbone.forward(images);
    using channelsFirst = patchTokens.transpose(1, 2);
    patchTokens.dispose();
    using grid = channelsFirst.reshape(batch, this.backbone.embedDim, rows, cols);
    const embeddings = this.decoder.forward(grid, denseOutputSize(height, width));
    return { embeddings, pooled: cls };
  }

  globalFeatures(images: Tensor): Tensor {
    const { cls, patchTokens } = this.backbone.forward(images);
    patchTokens.dispose();
    return cls;
  }
}

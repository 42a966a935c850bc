// VADeR's dense decoder on a ResNet. The paper's decoder is a feature pyramid network
// (Lin et al., 2017) whose levels are merged into one map at 1/4 scale the way the
// semantic branch of Panoptic FPN (Kirillov et al., 2019) does it, ending in D = 128
// channels that the pixel-level contrastive loss compares after L2 normalisation.
//
// Details the paper leaves to those two designs, taken from their standard forms:
// - FPN: a 1x1 lateral conv per level C2..C5 to 256 channels, top-down nearest upsampling
//   to the finer level's size and sum, a 3x3 smoothing conv per level (P2..P5); weights
//   kaiming_uniform(a=1), biases 0. Layout and names are torchvision.ops.FeaturePyramidNetwork's
//   (fpn.inner_blocks.i.0, fpn.layer_blocks.i.0), so the two compute the same thing.
// - Merge: level Pk passes through max(1, k-2) stages of 3x3 conv (128 channels, no bias)
//   + GroupNorm(32) + ReLU, each followed by 2x bilinear upsampling (align_corners=False)
//   until 1/4 scale; the four maps are summed (detectron2's SemSegFPNHead). Head convs are
//   He-normal (fan_out).
// - Output: a 1x1 conv to D (PyTorch's default init; the normalisation that follows makes
//   its scale irrelevant to the forward pass), then x / ||x|| over channels.
// Upsampling goes to the next finer level's actual size, so inputs that are not multiples
// of 32 (e.g. 64x96 or 70x50) still line up; for multiples of 32 this is exactly 2x.
import { Conv2d, Module, ModuleList, ReLU, Sequential } from "../nn/index.ts";
import { F, type Tensor } from "../torch/index.ts";
import { kaimingNormalFanOut_, kaimingUniformUnitGain_ } from "./conv_init.ts";
import { DenseEncoder, type DenseEncoding } from "./dense_encoder.ts";
import { GroupNorm } from "../nn/index.ts";
import type { ResNet } from "./resnet.ts";

export interface FpnDecoderOptions {
  /** Channels of the backbone's maps, finest (stride 4) first. */
  inChannels: number[];
  /** Channels of the pyramid levels P2..P5. Default 256. */
  width?: number;
  /** Channels of the merging head. Default 128. */
  headWidth?: number;
  /** D, channels of the output embeddings. Default 128. */
  embeddingDim?: number;
  /** Groups of the head's GroupNorm. Default 32. */
  normGroups?: number;
}

/** Lateral 1x1 convs, top-down pathway and 3x3 smoothing: maps C2..C5 to P2..P5 of one width. */
export class FeaturePyramidNetwork extends Module {
  readonly innerBlocks: ModuleList<Sequential>;
  readonly layerBlocks: ModuleList<Sequential>;

  constructor(inChannels: number[], width: number) {
    super();
    const wrap = (conv: Conv2d) => new Sequential([kaimingUniformUnitGain_(conv)]);
    this.innerBlocks = this.addModule(
      "inner_blocks",
      new ModuleList(inChannels.map((channels) => wrap(new Conv2d(channels, width, 1)))),
    );
    this.layerBlocks = this.addModule(
      "layer_blocks",
      new ModuleList(inChannels.map(() => wrap(new Conv2d(width, width, 3, { padding: 1 })))),
    );
  }

  /** Maps finest first -> pyramid levels finest first, each `width` channels at its input's size. */
  forward(features: Tensor[]): Tensor[] {
    const levels = features.length;
    if (levels !== this.innerBlocks.length) {
      throw new Error(`the FPN takes ${this.innerBlocks.length} maps, got ${levels}`);
    }
    const outputs: Tensor[] = new Array(levels);
    let merged = this.innerBlocks.items[levels - 1].forward(features[levels - 1]);
    outputs[levels - 1] = this.layerBlocks.items[levels - 1].forward(merged);
    for (let index = levels - 2; index >= 0; index--) {
      const lateral = this.innerBlocks.items[index].forward(features[index]);
      using topDown = F.interpolate(merged, { size: [lateral.size(2), lateral.size(3)], mode: "nearest" });
      merged.dispose();
      merged = lateral.add_(topDown);
      outputs[index] = this.layerBlocks.items[index].forward(merged);
    }
    merged.dispose();
    return outputs;
  }
}

/** FPN + Panoptic-FPN-style merge to 1/4 scale + 1x1 projection to D, L2-normalised. */
export class FpnDecoder extends Module {
  readonly fpn: FeaturePyramidNetwork;
  /** scale_heads[k]: the conv-GN-ReLU stages of level P(k+2), finest first. */
  readonly scaleHeads: ModuleList<ModuleList<Sequential>>;
  readonly predictor: Conv2d;
  readonly embeddingDim: number;

  constructor(options: FpnDecoderOptions) {
    super();
    const width = options.width ?? 256;
    const headWidth = options.headWidth ?? 128;
    const groups = options.normGroups ?? 32;
    this.embeddingDim = options.embeddingDim ?? 128;
    for (const [name, value] of Object.entries({ width, headWidth, embeddingDim: this.embeddingDim })) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number >= 1`);
    }
    this.fpn = this.addModule("fpn", new FeaturePyramidNetwork(options.inChannels, width));
    const stage = (inChannels: number) =>
      new Sequential([
        kaimingNormalFanOut_(new Conv2d(inChannels, headWidth, 3, { padding: 1, bias: false })),
        new GroupNorm(groups, headWidth),
        new ReLU(),
      ]);
    this.scaleHeads = this.addModule(
      "scale_heads",
      new ModuleList(
        options.inChannels.map((_, level) => {
          const stages = Math.max(1, level);
          return new ModuleList(
            Array.from({ length: stages }, (_, index) => stage(index === 0 ? width : headWidth)),
          );
        }),
      ),
    );
    this.predictor = this.addModule("predictor", new Conv2d(headWidth, this.embeddingDim, 1));
  }

  /** Backbone maps, finest (stride 4) first -> [N, D, h2, w2] at the finest map's size, unit norm per pixel. */
  forward(features: Tensor[]): Tensor {
    const pyramid = this.fpn.forward(features);
    const sizes = pyramid.map((level) => [level.size(2), level.size(3)] as [number, number]);
    let sum: Tensor | null = null;
    this.scaleHeads.items.forEach((head, level) => {
      let x = pyramid[level];
      head.items.forEach((stage, index) => {
        const convolved = stage.forward(x);
        x.dispose();
        x = convolved;
        if (level > 0) {
          const upsampled = F.interpolate(x, { size: sizes[level - index - 1], mode: "bilinear" });
          x.dispose();
          x = upsampled;
        }
      });
      if (sum === null) sum = x;
      else {
        // Out of place: the first level's map is a ReLU output that autograd still needs.
        const total: Tensor = sum.add(x);
        sum.dispose();
        x.dispose();
        sum = total;
      }
    });
    using merged = sum!;
    using projected = this.predictor.forward(merged);
    return F.normalize(projected, 2, 1);
  }
}

/** A ResNet with VADeR's FPN decoder. */
export class ResNetDenseEncoder extends DenseEncoder {
  readonly backbone: ResNet;
  readonly decoder: FpnDecoder;

  constructor(backbone: ResNet, options: Omit<FpnDecoderOptions, "inChannels"> = {}) {
    super();
    this.backbone = this.addModule("backbone", backbone);
    this.decoder = this.addModule(
      "decoder",
      new FpnDecoder({ ...options, inChannels: [...backbone.featureChannels] }),
    );
  }

  get embeddingDim(): number {
    return this.decoder.embeddingDim;
  }

  get globalDim(): number {
    return this.backbone.globalDim;
  }

  encode(images: Tensor): DenseEncoding {
    const { c2, c3, c4, c5 } = this.backbone.forward(images);
    const pooled = this.backbone.pool(c5);
    const embeddings = this.decoder.forward([c2, c3, c4, c5]);
    for (const map of [c2, c3, c4, c5]) map.dispose();
    return { embeddings, pooled };
  }

  globalFeatures(images: Tensor): Tensor {
    return this.backbone.globalFeatures(images);
  }
}

// ResNet (He et al., 2016) as torchvision builds it — "v1.5", the stride of a bottleneck
// on its 3x3 convolution — with torchvision's parameter and buffer names (conv1, bn1,
// layer1.0.conv1, layer1.0.downsample.0, ..., fc), so torchvision state dicts load as they
// are and ours load in torchvision. The forward pass returns the maps of the four stages,
// C2..C5 (strides 4, 8, 16, 32), for a dense decoder; the pooled C5 is the image feature.
import { BatchNorm2d, Conv2d, init, Linear, Module, Sequential } from "../nn/index.ts";
import { callOp, F, type Tensor } from "../torch/index.ts";
import { kaimingNormalFanOut_ } from "./conv_init.ts";

export const resnetArchitectures = {
  resnet18: { block: "basic", blocks: [2, 2, 2, 2] },
  resnet34: { block: "basic", blocks: [3, 4, 6, 3] },
  resnet50: { block: "bottleneck", blocks: [3, 4, 6, 3] },
  resnet101: { block: "bottleneck", blocks: [3, 4, 23, 3] },
} as const;

export type ResNetArchitecture = keyof typeof resnetArchitectures;

export interface ResNetOptions {
  /** Width of the classifier `fc` on the pooled feature; 0 (the default) leaves it out, as a backbone. */
  numClasses: number;
  /** Starts each residual branch at zero: the last BN of every block gets weight 0 (Goyal et al.). */
  zeroInitResidual: boolean;
}

/** The maps of the four stages; C2 has stride 4, C5 stride 32 (sizes round up: ceil(H/4), ...). */
export interface ResNetFeatures {
  c2: Tensor;
  c3: Tensor;
  c4: Tensor;
  c5: Tensor;
}

/** relu in place, as torchvision's ReLU(inplace=True); returns its argument. */
function reluInPlace(input: Tensor): Tensor {
  callOp("aten::relu_", input);
  return input;
}

function conv(inChannels: number, outChannels: number, kernelSize: number, stride = 1): Conv2d {
  return new Conv2d(inChannels, outChannels, kernelSize, {
    stride,
    padding: (kernelSize - 1) / 2,
    bias: false,
  });
}

/** The shortcut of a block that changes resolution or width: a strided 1x1 conv and a BN. */
function projection(inChannels: number, outChannels: number, stride: number): Sequential {
  return new Sequential([conv(inChannels, outChannels, 1, stride), new BatchNorm2d(outChannels)]);
}

abstract class ResidualBlock extends Module {
  abstract readonly downsample: Sequential | null;
  /** The BN closing the residual branch (zeroed by zeroInitResidual). */
  abstract readonly lastNorm: BatchNorm2d;

  /** The residual branch, before the sum. */
  protected abstract branch(input: Tensor): Tensor;

  forward(input: Tensor): Tensor {
    const output = this.branch(input);
    if (this.downsample) {
      using shortcut = this.downsample.forward(input);
      output.add_(shortcut);
    } else {
      output.add_(input);
    }
    return reluInPlace(output);
  }
}

/** Two 3x3 convolutions (ResNet-18/34). */
class BasicBlock extends ResidualBlock {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inChannels: number, channels: number, stride: number) {
    super();
    this.conv1 = this.addModule("conv1", conv(inChannels, channels, 3, stride));
    this.bn1 = this.addModule("bn1", new BatchNorm2d(channels));
    this.conv2 = this.addModule("conv2", conv(channels, channels, 3));
    this.bn2 = this.addModule("bn2", new BatchNorm2d(channels));
    this.downsample =
      stride !== 1 || inChannels !== channels
        ? this.addModule("downsample", projection(inChannels, channels, stride))
        : null;
  }

  get lastNorm(): BatchNorm2d {
    return this.bn2;
  }

  protected branch(input: Tensor): Tensor {
    using convolved1 = this.conv1.forward(input);
    using hidden = reluInPlace(this.bn1.forward(convolved1));
    using convolved2 = this.conv2.forward(hidden);
    return this.bn2.forward(convolved2);
  }
}

/** 1x1 reduce, 3x3 (strided), 1x1 expand by 4 (ResNet-50/101). */
class Bottleneck extends ResidualBlock {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inChannels: number, channels: number, stride: number) {
    super();
    const outChannels = channels * Bottleneck.expansion;
    this.conv1 = this.addModule("conv1", conv(inChannels, channels, 1));
    this.bn1 = this.addModule("bn1", new BatchNorm2d(channels));
    this.conv2 = this.addModule("conv2", conv(channels, channels, 3, stride));
    this.bn2 = this.addModule("bn2", new BatchNorm2d(channels));
    this.conv3 = this.addModule("conv3", conv(channels, outChannels, 1));
    this.bn3 = this.addModule("bn3", new BatchNorm2d(outChannels));
    this.downsample =
      stride !== 1 || inChannels !== outChannels
        ? this.addModule("downsample", projection(inChannels, outChannels, stride))
        : null;
  }

  get lastNorm(): BatchNorm2d {
    return this.bn3;
  }

  protected branch(input: Tensor): Tensor {
    using convolved1 = this.conv1.forward(input);
    using hidden1 = reluInPlace(this.bn1.forward(convolved1));
    using convolved2 = this.conv2.forward(hidden1);
    using hidden2 = reluInPlace(this.bn2.forward(convolved2));
    using convolved3 = this.conv3.forward(hidden2);
    return this.bn3.forward(convolved3);
  }
}

export class ResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly fc: Linear | null;
  /** Channels of C2..C5. */
  readonly featureChannels: [number, number, number, number];
  readonly #blocks: ResidualBlock[] = [];

  constructor(
    readonly architecture: ResNetArchitecture,
    options: Partial<ResNetOptions> = {},
  ) {
    super();
    const shape = resnetArchitectures[architecture];
    if (!shape) {
      throw new Error(
        `unknown ResNet '${architecture}'; choose one of ${Object.keys(resnetArchitectures).join(", ")}`,
      );
    }
    const numClasses = options.numClasses ?? 0;
    if (!Number.isInteger(numClasses) || numClasses < 0) {
      throw new Error(`numClasses must be a whole number >= 0 (0: no classifier), got ${numClasses}`);
    }
    const Block = shape.block === "basic" ? BasicBlock : Bottleneck;
    this.conv1 = this.addModule("conv1", conv(3, 64, 7, 2));
    this.bn1 = this.addModule("bn1", new BatchNorm2d(64));
    let inChannels = 64;
    const stage = (name: string, channels: number, count: number, stride: number): Sequential => {
      const blocks: ResidualBlock[] = [];
      for (let index = 0; index < count; index++) {
        blocks.push(new Block(inChannels, channels, index === 0 ? stride : 1));
        inChannels = channels * Block.expansion;
      }
      this.#blocks.push(...blocks);
      return this.addModule(name, new Sequential(blocks));
    };
    this.layer1 = stage("layer1", 64, shape.blocks[0], 1);
    this.layer2 = stage("layer2", 128, shape.blocks[1], 2);
    this.layer3 = stage("layer3", 256, shape.blocks[2], 2);
    this.layer4 = stage("layer4", 512, shape.blocks[3], 2);
    const expansion = Block.expansion;
    this.featureChannels = [64 * expansion, 128 * expansion, 256 * expansion, 512 * expansion];
    this.fc = numClasses > 0 ? this.addModule("fc", new Linear(this.globalDim, numClasses)) : null;

    // torchvision's initialisation: He-normal (fan_out) convolutions, BN weight 1 and bias 0
    // (BatchNorm2d's own defaults), the classifier left at Linear's default.
    for (const [, module] of this.namedModules()) {
      if (module instanceof Conv2d) kaimingNormalFanOut_(module);
    }
    if (options.zeroInitResidual) {
      for (const block of this.#blocks) init.constant_(block.lastNorm.weight, 0);
    }
  }

  /** Width of the pooled feature (C5's channels): 512 for ResNet-18/34, 2048 for ResNet-50/101. */
  get globalDim(): number {
    return this.featureChannels[3];
  }

  /** [N, 3, H, W] -> the maps C2..C5. */
  forward(images: Tensor): ResNetFeatures {
    using convolved = this.conv1.forward(images);
    using stem = reluInPlace(this.bn1.forward(convolved));
    using pooled = F.maxPool2d(stem, 3, 2, 1);
    const c2 = this.layer1.forward(pooled);
    const c3 = this.layer2.forward(c2);
    const c4 = this.layer3.forward(c3);
    const c5 = this.layer4.forward(c4);
    return { c2, c3, c4, c5 };
  }

  /** Global average of a C5 map: [N, C, h, w] -> [N, C] (torchvision's avgpool + flatten). */
  pool(c5: Tensor): Tensor {
    using averaged = F.adaptiveAvgPool2d(c5, 1);
    return averaged.flatten(1);
  }

  /** The image-level feature: pooled C5, [N, globalDim]. */
  globalFeatures(images: Tensor): Tensor {
    const { c2, c3, c4, c5 } = this.forward(images);
    for (const map of [c2, c3, c4]) map.dispose();
    using last = c5;
    return this.pool(last);
  }

  /** Class scores from `fc` on the pooled feature, as torchvision's forward. */
  classify(images: Tensor): Tensor {
    if (!this.fc)
      throw new Error(`this ${this.architecture} has no classifier; build it with numClasses > 0`);
    using features = this.globalFeatures(images);
    return this.fc.forward(features);
  }
}

/** Builds a ResNet by name, e.g. createResNet("resnet50") (a backbone, no fc). */
export function createResNet(architecture: ResNetArchitecture, options: Partial<ResNetOptions> = {}): ResNet {
  return new ResNet(architecture, options);
}

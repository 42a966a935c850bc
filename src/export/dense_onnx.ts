// VADeR's dense encoder (a torchvision ResNet with the FPN decoder) as an ONNX graph, the same
// computation as ResNetDenseEncoder.encode in evaluation mode: input a float32 NCHW batch of
// normalised images of a side fixed at export (a multiple of 32, so that every pyramid level
// is twice the next), outputs the unit-norm per-pixel embeddings [batch, D, N/4, N/4] and the
// pooled C5 feature [batch, C5]. Batch norm uses its running statistics; GroupNorm is written
// out in opset 17's operators (GroupNormalization arrived later).
import type { FpnDecoder, ResNetDenseEncoder } from "../models/fpn.ts";
import type { ResNet } from "../models/resnet.ts";
import type { BatchNorm2d, Conv2d, GroupNorm, Sequential } from "../nn/index.ts";
import type { Tensor } from "../torch/index.ts";
import { OnnxGraph } from "./onnx_graph.ts";

export const denseOnnxOpset = 17;

const floats = (tensor: Tensor) =>
  Float32Array.from(tensor.detach().float().contiguous().data() as Float32Array);

class DenseGraph {
  readonly g = new OnnxGraph();
  private weights = 0;

  private weight(tensor: Tensor, shape: readonly number[] = tensor.shape): string {
    return this.g.initializer(`w${this.weights++}`, floats(tensor), shape);
  }

  conv(x: string, conv: Conv2d): string {
    const { stride = 1, padding = 0, dilation = 1, groups = 1 } = conv.options;
    const inputs = [x, this.weight(conv.weight), ...(conv.bias ? [this.weight(conv.bias)] : [])];
    return this.g.node("Conv", inputs, {
      kernel_shape: [conv.kernelSize, conv.kernelSize],
      strides: [stride, stride],
      pads: [padding, padding, padding, padding],
      dilations: [dilation, dilation],
      group: groups,
    });
  }

  batchNorm(x: string, bn: BatchNorm2d): string {
    const inputs = [bn.weight, bn.bias, bn.runningMean, bn.runningVar].map((t) => this.weight(t));
    return this.g.node("BatchNormalization", [x, ...inputs], { epsilon: { float: bn.eps } });
  }

  relu(x: string): string {
    return this.g.node("Relu", [x]);
  }

  /** GroupNorm: each group's mean and variance over its channels and pixels, then a per-channel affine. */
  groupNorm(x: string, norm: GroupNorm, channels: number, size: number): string {
    const grouped = this.g.node("Reshape", [x, this.g.ints([0, norm.numGroups, -1], "shape")]);
    const mean = this.g.node("ReduceMean", [grouped], { axes: [2], keepdims: 1 });
    const centred = this.g.node("Sub", [grouped, mean]);
    const variance = this.g.node("ReduceMean", [this.g.node("Mul", [centred, centred])], {
      axes: [2],
      keepdims: 1,
    });
    const scaled = this.g.node("Div", [
      centred,
      this.g.node("Sqrt", [this.g.node("Add", [variance, this.g.float(norm.eps, "eps")])]),
    ]);
    const back = this.g.node("Reshape", [scaled, this.g.ints([0, channels, size, size], "shape")]);
    const weight = this.weight(norm.weight, [channels, 1, 1]);
    return this.g.node("Add", [this.g.node("Mul", [back, weight]), this.weight(norm.bias, [channels, 1, 1])]);
  }

  /** F.interpolate to side x side: nearest (asymmetric, floor) or bilinear (half pixel, align_corners false). */
  resize(x: string, side: number, mode: "nearest" | "bilinear"): string {
    const batchAndChannels = this.g.node("Slice", [
      this.g.node("Shape", [x]),
      this.g.ints([0]),
      this.g.ints([2]),
    ]);
    const sizes = this.g.node("Concat", [batchAndChannels, this.g.ints([side, side])], { axis: 0 });
    return this.g.node(
      "Resize",
      [x, "", "", sizes],
      mode === "nearest"
        ? { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" }
        : { mode: "linear", coordinate_transformation_mode: "pytorch_half_pixel" },
    );
  }

  resnet(images: string, resnet: ResNet): string[] {
    let x = this.g.node("MaxPool", [this.relu(this.batchNorm(this.conv(images, resnet.conv1), resnet.bn1))], {
      kernel_shape: [3, 3],
      strides: [2, 2],
      pads: [1, 1, 1, 1],
    });
    const maps: string[] = [];
    for (const layer of [resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4]) {
      for (const block of layer.items as unknown as ResNetBlock[]) x = this.block(x, block);
      maps.push(x);
    }
    return maps;
  }

  private block(x: string, block: ResNetBlock): string {
    const pairs: [Conv2d, BatchNorm2d][] = [
      [block.conv1, block.bn1],
      [block.conv2, block.bn2],
      ...(block.conv3 && block.bn3 ? [[block.conv3, block.bn3] as [Conv2d, BatchNorm2d]] : []),
    ];
    let branch = x;
    pairs.forEach(([conv, bn], index) => {
      branch = this.batchNorm(this.conv(branch, conv), bn);
      if (index < pairs.length - 1) branch = this.relu(branch);
    });
    const [shortcutConv, shortcutNorm] = (block.downsample?.items ?? []) as [Conv2d?, BatchNorm2d?];
    const shortcut =
      shortcutConv && shortcutNorm ? this.batchNorm(this.conv(x, shortcutConv), shortcutNorm) : x;
    return this.relu(this.g.node("Add", [branch, shortcut]));
  }

  decoder(maps: string[], decoder: FpnDecoder, sides: number[]): string {
    const { fpn } = decoder;
    const levels = maps.length;
    const convOf = (sequential: Sequential) => sequential.items[0] as unknown as Conv2d;
    // The pyramid: lateral 1x1s, the top-down sum (nearest upsampling), 3x3 smoothing.
    const pyramid: string[] = new Array(levels);
    let merged = this.conv(maps[levels - 1], convOf(fpn.innerBlocks.items[levels - 1]));
    pyramid[levels - 1] = this.conv(merged, convOf(fpn.layerBlocks.items[levels - 1]));
    for (let level = levels - 2; level >= 0; level--) {
      const lateral = this.conv(maps[level], convOf(fpn.innerBlocks.items[level]));
      merged = this.g.node("Add", [lateral, this.resize(merged, sides[level], "nearest")]);
      pyramid[level] = this.conv(merged, convOf(fpn.layerBlocks.items[level]));
    }
    // Each level's conv-GN-ReLU stages, upsampled level by level to the finest, summed.
    let sum = "";
    decoder.scaleHeads.items.forEach((head, level) => {
      let x = pyramid[level];
      head.items.forEach((stage, index) => {
        const [conv, norm] = stage.items as unknown as [Conv2d, GroupNorm];
        const side = sides[level - index];
        x = this.relu(this.groupNorm(this.conv(x, conv), norm, conv.outChannels, side));
        if (level > 0) x = this.resize(x, sides[level - index - 1], "bilinear");
      });
      sum = sum === "" ? x : this.g.node("Add", [sum, x]);
    });
    const projected = this.conv(sum, decoder.predictor);
    // F.normalize over the channels: x / max(||x||, 1e-12).
    const norm = this.g.node("ReduceL2", [projected], { axes: [1], keepdims: 1 });
    return this.g.node("Div", [projected, this.g.node("Max", [norm, this.g.float(1e-12, "tiny")])]);
  }
}

interface ResNetBlock {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3?: Conv2d;
  bn3?: BatchNorm2d;
  downsample: Sequential | null;
}

export interface DenseOnnxOptions {
  imageSize: number;
  producerVersion: string;
  docString: string;
}

export function denseToOnnx(encoder: ResNetDenseEncoder, options: DenseOnnxOptions): Uint8Array {
  const side = options.imageSize;
  if (side % 32 !== 0) throw new Error(`image size ${side} is not a multiple of 32`);
  const graph = new DenseGraph();
  const { g } = graph;
  const images = g.input("images", ["batch", 3, side, side]);
  const maps = graph.resnet(images, encoder.backbone);
  const sides = [4, 8, 16, 32].map((stride) => side / stride);
  const embeddings = graph.decoder(maps, encoder.decoder, sides);
  g.output("embeddings", embeddings, ["batch", encoder.embeddingDim, sides[0], sides[0]]);
  const pooled = g.node("Flatten", [g.node("GlobalAveragePool", [maps[3]])], { axis: 1 });
  g.output("pooled", pooled, ["batch", encoder.globalDim]);
  return g.model({
    name: "onevideo_dense",
    opset: denseOnnxOpset,
    producerVersion: options.producerVersion,
    docString: options.docString,
  });
}

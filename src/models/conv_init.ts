// Weight initialisers of the convolutional models, as torchvision and detectron2 apply them.
import type { Conv2d } from "../nn/index.ts";
import { noGrad } from "../torch/index.ts";

/** Fan-in and fan-out of a conv weight [out, in/groups, kh, kw], as torch.nn.init computes them. */
function fans(conv: Conv2d): { fanIn: number; fanOut: number } {
  const [outChannels, inPerGroup, kernelH, kernelW] = conv.weight.shape;
  const field = kernelH * kernelW;
  return { fanIn: inPerGroup * field, fanOut: outChannels * field };
}

/**
 * kaiming_normal_(mode="fan_out", nonlinearity="relu"): N(0, 2 / fan_out); the bias, if any, 0.
 * torchvision's ResNet initialises its convolutions so (detectron2's "c2_msra_fill").
 */
export function kaimingNormalFanOut_(conv: Conv2d): Conv2d {
  const std = Math.sqrt(2 / fans(conv).fanOut);
  noGrad(() => {
    conv.weight.normal_(0, std);
    conv.bias?.zero_();
  });
  return conv;
}

/**
 * kaiming_uniform_(a=1): U(-b, b) with b = sqrt(3 / fan_in); the bias, if any, 0.
 * torchvision's FeaturePyramidNetwork initialises its convolutions so ("c2_xavier_fill").
 */
export function kaimingUniformUnitGain_(conv: Conv2d): Conv2d {
  const bound = Math.sqrt(3 / fans(conv).fanIn);
  noGrad(() => {
    conv.weight.uniform_(-bound, bound);
    conv.bias?.zero_();
  });
  return conv;
}

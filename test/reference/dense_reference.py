"""Reference for onevideo's dense encoders, assembled in python3-torch from torchvision's own
parts where they exist: torchvision.models.resnet* for the backbone and
torchvision.ops.FeaturePyramidNetwork for the pyramid; the merge to 1/4 scale is Panoptic FPN's
semantic branch (detectron2's SemSegFPNHead: conv-GN-ReLU stages, each followed by 2x bilinear
upsampling), written here. Module names match onevideo's, so its state dict loads strictly."""
from collections import OrderedDict

import torch.nn as nn
import torch.nn.functional as F
import torchvision


def resnet_stages(model, x):
    """The maps C2..C5 of a torchvision ResNet."""
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    c2 = model.layer1(x)
    c3 = model.layer2(c2)
    c4 = model.layer3(c3)
    c5 = model.layer4(c4)
    return [c2, c3, c4, c5]


class FpnDecoder(nn.Module):
    def __init__(self, in_channels, width=256, head_width=128, dim=128, groups=32):
        super().__init__()
        self.fpn = torchvision.ops.FeaturePyramidNetwork(in_channels, width)
        self.scale_heads = nn.ModuleList()
        for level in range(len(in_channels)):
            stages = nn.ModuleList()
            for index in range(max(1, level)):
                stages.append(nn.Sequential(
                    nn.Conv2d(width if index == 0 else head_width, head_width, 3, padding=1, bias=False),
                    nn.GroupNorm(groups, head_width),
                    nn.ReLU(),
                ))
            self.scale_heads.append(stages)
        self.predictor = nn.Conv2d(head_width, dim, 1)

    def forward(self, features):
        pyramid = list(self.fpn(OrderedDict((str(i), f) for i, f in enumerate(features))).values())
        total = 0
        for level, stages in enumerate(self.scale_heads):
            x = pyramid[level]
            for stage in stages:
                x = stage(x)
                if level > 0:
                    x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            total = total + x
        return F.normalize(self.predictor(total), dim=1)


class ResNetDenseEncoder(nn.Module):
    def __init__(self, architecture, **decoder_options):
        super().__init__()
        self.backbone = getattr(torchvision.models, architecture)()
        del self.backbone.fc  # the dense encoder's backbone has no classifier
        expansion = 4 if architecture in ("resnet50", "resnet101") else 1
        self.decoder = FpnDecoder([c * expansion for c in (64, 128, 256, 512)], **decoder_options)

    def forward(self, x):
        features = resnet_stages(self.backbone, x)
        pooled = self.backbone.avgpool(features[-1]).flatten(1)
        return self.decoder(features), pooled

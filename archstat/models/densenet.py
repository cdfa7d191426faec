"""DenseNet-BC (Huang et al. 2016, "Densely Connected Convolutional Networks", arXiv:1608.06993).

The ImageNet networks of the paper's table 1 in torchvision's layout: ``features`` holds the
stem (conv0, norm0, relu0, pool0), ``denseblock1``…``denseblock4`` of ``denselayerN`` units
and ``transition1``…``transition3``, then ``norm5``; ``classifier`` is the linear layer.

Each dense layer is BN-ReLU-conv1×1 (to ``bn_size · k`` channels) then BN-ReLU-conv3×3 (to
``k`` channels), and its output is concatenated to its input, so a block of L layers adds
``L · k`` channels. A transition is BN-ReLU-conv1×1 (halving the channels, compression 0.5)
and a 2×2 average pool.

Deviations shared by every builder:

- the final ReLU and the global average pool are modules at the top level (``relu``,
  ``avgpool``) where torchvision calls them as functions; they hold no parameters, so the
  state dict keys are torchvision's.
- the transition is BN-ReLU-conv (torchvision and the authors' code); the paper's text says
  "batch normalization layer and a 1×1 convolutional layer".
- no dropout (the paper uses dropout 0.2 only on the CIFAR/SVHN networks without augmentation).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

from archstat.registry import register_model

PAPER = "Huang et al. 2016, arXiv:1608.06993"


class DenseLayer(nn.Module):
    """BN-ReLU-conv1×1 (bottleneck to ``bn_size · growth_rate``), BN-ReLU-conv3×3 (``growth_rate``)."""

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int) -> None:
        super().__init__()
        width = bn_size * growth_rate
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(width)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, growth_rate, kernel_size=3, padding=1, bias=False)

    def forward(self, features: list[Tensor]) -> Tensor:
        x = torch.cat(features, 1)  # N x in_channels x H x W
        x = self.conv1(self.relu1(self.norm1(x)))  # N x bn_size·k x H x W
        return self.conv2(self.relu2(self.norm2(x)))  # N x k x H x W


class DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers, each fed the concatenation of all earlier outputs."""

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)  # N x (in + L·k) x H x W


class Transition(nn.Sequential):
    """BN-ReLU-conv1×1 to ``out_channels``, 2×2 average pool."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            OrderedDict(
                norm=nn.BatchNorm2d(in_channels),
                relu=nn.ReLU(inplace=True),
                conv=nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False),
                pool=nn.AvgPool2d(kernel_size=2, stride=2),
            )
        )


class DenseNet(nn.Module):
    """DenseNet-BC for ImageNet: 7×7 stem, four dense blocks, three transitions, fc."""

    def __init__(
        self,
        growth_rate: int,
        block_config: tuple[int, int, int, int],
        num_init_features: int,
        *,
        bn_size: int = 4,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        self.features = nn.Sequential(
            OrderedDict(
                conv0=nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False),
                norm0=nn.BatchNorm2d(num_init_features),
                relu0=nn.ReLU(inplace=True),
                pool0=nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
            )
        )
        channels = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module(
                f"denseblock{i + 1}", DenseBlock(num_layers, channels, growth_rate, bn_size)
            )
            channels += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", Transition(channels, channels // 2))
                channels //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        # 224 input: stem -> N x c0 x 56 x 56; blocks at 56, 28, 14, 7 -> N x C x 7 x 7
        x = self.relu(self.features(x))
        x = self.avgpool(x)  # N x C x 1 x 1
        return self.classifier(x.flatten(1))  # N x num_classes


# name -> (growth rate k, layers per dense block, stem channels)
DENSENETS: dict[str, tuple[int, tuple[int, int, int, int], int]] = {
    "densenet121": (32, (6, 12, 24, 16), 64),
    "densenet161": (48, (6, 12, 36, 24), 96),
    "densenet169": (32, (6, 12, 32, 32), 64),
    "densenet201": (32, (6, 12, 48, 32), 64),
}


def _densenet(name: str, num_classes: int) -> DenseNet:
    growth_rate, block_config, num_init_features = DENSENETS[name]
    return DenseNet(growth_rate, block_config, num_init_features, num_classes=num_classes)


@register_model(paper=PAPER, year=2016, variant="DenseNet-121 (k = 32)", top1=74.434, params=7_978_856)
def densenet121(*, num_classes: int = 1000) -> DenseNet:
    """DenseNet-121 (paper table 1, k = 32), torchvision layout; see the module's deviations."""
    return _densenet("densenet121", num_classes)


@register_model(paper=PAPER, year=2016, variant="DenseNet-161 (k = 48)", top1=77.138, params=28_681_000)
def densenet161(*, num_classes: int = 1000) -> DenseNet:
    """DenseNet-161 (k = 48, 96 stem channels), torchvision layout.

    Deviation: the paper's table 1 lists only k = 32 networks; DenseNet-161 (k = 48,
    blocks 6-12-36-24) appears in the paper's ImageNet results and the authors' released models.
    """
    return _densenet("densenet161", num_classes)


@register_model(paper=PAPER, year=2016, variant="DenseNet-169 (k = 32)", top1=75.600, params=14_149_480)
def densenet169(*, num_classes: int = 1000) -> DenseNet:
    """DenseNet-169 (paper table 1, k = 32), torchvision layout; see the module's deviations."""
    return _densenet("densenet169", num_classes)


@register_model(paper=PAPER, year=2016, variant="DenseNet-201 (k = 32)", top1=76.896, params=20_013_928)
def densenet201(*, num_classes: int = 1000) -> DenseNet:
    """DenseNet-201 (paper table 1, k = 32), torchvision layout; see the module's deviations."""
    return _densenet("densenet201", num_classes)

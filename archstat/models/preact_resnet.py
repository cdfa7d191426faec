"""Pre-activation ResNet (He et al. 2016, "Identity Mappings in Deep Residual Networks", arXiv:1603.05027).

Each residual unit computes BN-ReLU-conv (paper figure 1(b) and 4(e)); nothing follows the
addition, so the shortcut path is a clean identity. The ImageNet networks reuse the depths of
the original ResNet (``archstat.models.resnet``) and its stage and shortcut helpers.

Layout, following the paper's appendix (and, for the shortcut, the authors' released code):

- stem: conv1 7×7/2, bn1, relu, maxpool. The paper adopts "the first activation right after
  conv1 and before splitting into two paths", so the first unit of ``layer1`` has no
  pre-activation of its own (its ``bn1``/``relu1`` are ``nn.Identity``).
- a unit whose shortcut is not a plain identity (a projection, or type A's zero padding)
  applies its pre-activation before splitting, so the shortcut reads the normalised input;
  a projection is therefore a bare 1×1 conv without BN.
- after the last unit: ``final_bn``, ``final_relu`` ("an extra activation right after its
  element-wise addition"), global average pooling, ``fc``.

Deviations: the paper gives ImageNet results only for ResNet-152 and ResNet-200; the depths
18–101 here are this layout applied to the original paper's table 1. The names of the extra
modules (``final_bn``/``final_relu``, ``relu1``…``relu3`` in the units) are archstat's own.
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor, nn

from archstat.models.resnet import ResidualBlock, Shortcut, conv1x1, conv3x3, make_stage
from archstat.registry import register_model

PAPER = "He et al. 2016, arXiv:1603.05027"


class _PreActUnit(ResidualBlock):
    """Shared forward: pre-activate, split into shortcut and residual, add."""

    shortcut_norm: ClassVar[bool] = False
    bn1: nn.Module
    relu1: nn.Module
    downsample: nn.Module | None

    def _preactivation(self, inplanes: int, preactivate: bool) -> None:
        self.bn1 = nn.BatchNorm2d(inplanes) if preactivate else nn.Identity()
        self.relu1 = nn.ReLU(inplace=True) if preactivate else nn.Identity()

    def residual(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        if self.downsample is None:
            # Identity shortcut: keep the raw x, so pre-activate out of place.
            return self.residual(self.relu1(self.bn1(x))) + x
        x = self.relu1(self.bn1(x))
        return self.residual(x) + self.downsample(x)


class PreActBasicBlock(_PreActUnit):
    """BN-ReLU-conv3×3, BN-ReLU-conv3×3."""

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        *,
        preactivate: bool = True,
    ) -> None:
        super().__init__(inplanes, planes, stride, downsample)
        self._preactivation(inplanes, preactivate)
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.downsample = downsample
        self.stride = stride

    def residual(self, x: Tensor) -> Tensor:
        out = self.conv1(x)  # N x planes x H/s x W/s
        return self.conv2(self.relu2(self.bn2(out)))


class PreActBottleneck(_PreActUnit):
    """BN-ReLU-conv1×1, BN-ReLU-conv3×3, BN-ReLU-conv1×1; the stride is on the 3×3 (as ``resnet50``)."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        *,
        preactivate: bool = True,
    ) -> None:
        super().__init__(inplanes, planes, stride, downsample)
        self._preactivation(inplanes, preactivate)
        self.conv1 = conv1x1(inplanes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn3 = nn.BatchNorm2d(planes)
        self.relu3 = nn.ReLU(inplace=True)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.downsample = downsample
        self.stride = stride

    def residual(self, x: Tensor) -> Tensor:
        out = self.conv1(x)  # N x planes x H x W
        out = self.conv2(self.relu2(self.bn2(out)))  # N x planes x H/s x W/s
        return self.conv3(self.relu3(self.bn3(out)))  # N x 4·planes x H/s x W/s


class PreActResNet(nn.Module):
    """ImageNet pre-activation ResNet: stem with BN-ReLU, four stages, final BN-ReLU, fc."""

    def __init__(
        self,
        block: type[PreActBasicBlock] | type[PreActBottleneck],
        layers: tuple[int, int, int, int],
        *,
        num_classes: int = 1000,
        shortcut: Shortcut = "B",
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = 64
        stages = []
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers, strict=True)):
            first = {"preactivate": False} if i == 0 else None
            stages.append(
                make_stage(
                    block, inplanes, planes, blocks,
                    stride=1 if i == 0 else 2, shortcut=shortcut, first_block_kwargs=first,
                )
            )
            inplanes = planes * block.expansion
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.final_bn = nn.BatchNorm2d(inplanes)
        self.final_relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # N x 64 x 112 x 112
        x = self.maxpool(x)  # N x 64 x 56 x 56
        x = self.layer1(x)  # N x 64·e x 56 x 56  (e = 1 or 4)
        x = self.layer2(x)  # N x 128·e x 28 x 28
        x = self.layer3(x)  # N x 256·e x 14 x 14
        x = self.layer4(x)  # N x 512·e x 7 x 7
        x = self.final_relu(self.final_bn(x))
        x = self.avgpool(x)  # N x 512·e x 1 x 1
        return self.fc(x.flatten(1))  # N x num_classes


PREACT_RESNETS: dict[
    str, tuple[type[PreActBasicBlock] | type[PreActBottleneck], tuple[int, int, int, int]]
] = {
    "preact_resnet18": (PreActBasicBlock, (2, 2, 2, 2)),
    "preact_resnet34": (PreActBasicBlock, (3, 4, 6, 3)),
    "preact_resnet50": (PreActBottleneck, (3, 4, 6, 3)),
    "preact_resnet101": (PreActBottleneck, (3, 4, 23, 3)),
    "preact_resnet152": (PreActBottleneck, (3, 8, 36, 3)),
}


def _preact(name: str, num_classes: int, shortcut: Shortcut) -> PreActResNet:
    block, layers = PREACT_RESNETS[name]
    return PreActResNet(block, layers, num_classes=num_classes, shortcut=shortcut)


@register_model(paper=PAPER, year=2016, variant="pre-act ResNet-18", params=11_687_720)
def preact_resnet18(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> PreActResNet:
    """Pre-activation ResNet-18; a depth the paper does not train (see the module's notes)."""
    return _preact("preact_resnet18", num_classes, shortcut)


@register_model(paper=PAPER, year=2016, variant="pre-act ResNet-34", params=21_795_880)
def preact_resnet34(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> PreActResNet:
    """Pre-activation ResNet-34; a depth the paper does not train (see the module's notes)."""
    return _preact("preact_resnet34", num_classes, shortcut)


@register_model(paper=PAPER, year=2016, variant="pre-act ResNet-50", params=25_549_352)
def preact_resnet50(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> PreActResNet:
    """Pre-activation ResNet-50; a depth the paper does not train (see the module's notes)."""
    return _preact("preact_resnet50", num_classes, shortcut)


@register_model(paper=PAPER, year=2016, variant="pre-act ResNet-101", params=44_541_480)
def preact_resnet101(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> PreActResNet:
    """Pre-activation ResNet-101; a depth the paper does not train (see the module's notes)."""
    return _preact("preact_resnet101", num_classes, shortcut)


@register_model(paper=PAPER, year=2016, variant="pre-act ResNet-152", params=60_185_128)
def preact_resnet152(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> PreActResNet:
    """Pre-activation ResNet-152 (paper table 5's ImageNet network; stride on the 3×3 conv)."""
    return _preact("preact_resnet152", num_classes, shortcut)

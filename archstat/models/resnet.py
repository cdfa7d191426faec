"""ResNet (He et al. 2015, "Deep Residual Learning for Image Recognition", arXiv:1512.03385).

The ImageNet networks of the paper's table 1, in torchvision's layout and module names.
The block classes and the shortcut factory here are shared with ``preact_resnet`` and
``cifar_resnet``.

Shortcut types (paper, section 4.1, table 3):

- ``"A"``: identity everywhere; where the shape changes the input is subsampled by taking every
  ``stride``-th pixel and the new channels are zeros. Parameter-free.
- ``"B"`` (default): identity, and a 1×1 projection (conv + BN) only where the shape changes.
- ``"C"``: every shortcut is a 1×1 projection (conv + BN).

Deviations from the paper shared by every builder here:

- BN sits after each convolution and before the ReLU (paper section 3.4), the convolutions have
  no bias, and the projection shortcut is conv + BN (the paper does not say whether its
  projections are normalised; torchvision's are).
- The classifier is global average pooling + one linear layer without softmax (the loss applies
  it).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch.nn.functional as F
from torch import Tensor, nn

from archstat.registry import register_model

Shortcut = Literal["A", "B", "C"]

PAPER = "He et al. 2015, arXiv:1512.03385"


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """3×3 convolution with padding 1 and no bias (a BN follows)."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """1×1 convolution without bias (a BN follows)."""
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


class ZeroPadShortcut(nn.Module):
    """Type-A shortcut: subsample by ``stride`` and append zero channels; no parameters."""

    def __init__(self, extra_channels: int, stride: int) -> None:
        super().__init__()
        self.extra_channels = extra_channels
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, :, :: self.stride, :: self.stride]  # N x C x H/s x W/s
        return F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))  # N x (C + extra) x H/s x W/s

    def extra_repr(self) -> str:
        return f"extra_channels={self.extra_channels}, stride={self.stride}"


def make_shortcut(
    kind: Shortcut, in_channels: int, out_channels: int, stride: int, *, norm: bool = True
) -> nn.Module | None:
    """The shortcut of one residual unit, or None for a plain identity."""
    if kind not in ("A", "B", "C"):
        raise ValueError(f"shortcut must be 'A', 'B' or 'C', not {kind!r}")
    reshapes = stride != 1 or in_channels != out_channels
    if kind == "A":
        if not reshapes:
            return None
        if out_channels < in_channels:
            raise ValueError("a type-A shortcut can only add channels")
        return ZeroPadShortcut(out_channels - in_channels, stride)
    if kind == "B" and not reshapes:
        return None
    projection: list[nn.Module] = [conv1x1(in_channels, out_channels, stride)]
    if norm:
        projection.append(nn.BatchNorm2d(out_channels))
    return nn.Sequential(*projection)


class ResidualBlock(nn.Module):
    """Common constructor signature of every residual unit; ``expansion`` = out / planes."""

    expansion: ClassVar[int] = 1
    # Whether a projection shortcut carries its own BN (pre-activation units feed it a
    # normalised input instead).
    shortcut_norm: ClassVar[bool] = True

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()


class BasicBlock(ResidualBlock):
    """Two 3×3 convolutions (paper figure 5, left): ResNet-18/34 and the CIFAR networks."""

    expansion = 1

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__(inplanes, planes, stride, downsample)
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))  # N x planes x H/s x W/s
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class Bottleneck(ResidualBlock):
    """1×1 reduce, 3×3, 1×1 restore ×4 (paper figure 5, right): ResNet-50/101/152.

    ``stride_in_1x1=False`` puts the stride on the 3×3 conv (torchvision's "v1.5");
    ``True`` puts it on the first 1×1 conv as the paper's original implementation does.
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        *,
        stride_in_1x1: bool = False,
    ) -> None:
        super().__init__(inplanes, planes, stride, downsample)
        s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = conv1x1(inplanes, planes, s1)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, s3)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))  # N x planes x H x W (v1: H/s x W/s)
        out = self.relu(self.bn2(self.conv2(out)))  # N x planes x H/s x W/s
        out = self.bn3(self.conv3(out))  # N x 4·planes x H/s x W/s
        out += identity
        return self.relu(out)


def make_stage(
    block: type[ResidualBlock],
    inplanes: int,
    planes: int,
    blocks: int,
    *,
    stride: int,
    shortcut: Shortcut,
    first_block_kwargs: dict[str, Any] | None = None,
    **block_kwargs: Any,
) -> nn.Sequential:
    """One stage (``layerN``): ``blocks`` units, the first with ``stride`` and a new width."""
    out_channels = planes * block.expansion
    units: list[nn.Module] = []
    for i in range(blocks):
        unit_stride = stride if i == 0 else 1
        downsample = make_shortcut(shortcut, inplanes, out_channels, unit_stride, norm=block.shortcut_norm)
        kwargs = {**block_kwargs, **(first_block_kwargs or {})} if i == 0 else block_kwargs
        units.append(block(inplanes, planes, unit_stride, downsample, **kwargs))
        inplanes = out_channels
    return nn.Sequential(*units)


class ResNet(nn.Module):
    """ImageNet ResNet: 7×7 stem, max-pool, four stages of widths 64–512, pooling, fc."""

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: tuple[int, int, int, int],
        *,
        num_classes: int = 1000,
        shortcut: Shortcut = "B",
        stride_in_1x1: bool = False,
    ) -> None:
        super().__init__()
        if stride_in_1x1 and block is not Bottleneck:
            raise ValueError("stride_in_1x1 only applies to bottleneck blocks")
        block_kwargs: dict[str, Any] = {"stride_in_1x1": True} if stride_in_1x1 else {}
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = 64
        stages = []
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers, strict=True)):
            stages.append(
                make_stage(
                    block, inplanes, planes, blocks,
                    stride=1 if i == 0 else 2, shortcut=shortcut, **block_kwargs,
                )
            )
            inplanes = planes * block.expansion
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # N x 64 x 112 x 112
        x = self.maxpool(x)  # N x 64 x 56 x 56
        x = self.layer1(x)  # N x 64·e x 56 x 56  (e = block expansion: 1 or 4)
        x = self.layer2(x)  # N x 128·e x 28 x 28
        x = self.layer3(x)  # N x 256·e x 14 x 14
        x = self.layer4(x)  # N x 512·e x 7 x 7
        x = self.avgpool(x)  # N x 512·e x 1 x 1
        return self.fc(x.flatten(1))  # N x num_classes


RESNETS: dict[str, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, int, int, int]]] = {
    "resnet18": (BasicBlock, (2, 2, 2, 2)),
    "resnet34": (BasicBlock, (3, 4, 6, 3)),
    "resnet50": (Bottleneck, (3, 4, 6, 3)),
    "resnet101": (Bottleneck, (3, 4, 23, 3)),
    "resnet152": (Bottleneck, (3, 8, 36, 3)),
}


def _resnet(name: str, num_classes: int, shortcut: Shortcut, *, stride_in_1x1: bool = False) -> ResNet:
    block, layers = RESNETS[name]
    return ResNet(block, layers, num_classes=num_classes, shortcut=shortcut, stride_in_1x1=stride_in_1x1)


@register_model(paper=PAPER, year=2015, variant="ResNet-18", top1=69.758, params=11_689_512)
def resnet18(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> ResNet:
    """ResNet-18 (paper table 1), torchvision layout; no deviation beyond the module's notes."""
    return _resnet("resnet18", num_classes, shortcut)


@register_model(paper=PAPER, year=2015, variant="ResNet-34", top1=73.314, params=21_797_672)
def resnet34(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> ResNet:
    """ResNet-34 (paper table 1), torchvision layout; no deviation beyond the module's notes."""
    return _resnet("resnet34", num_classes, shortcut)


@register_model(paper=PAPER, year=2015, variant="ResNet-50 (v1.5)", top1=76.130, params=25_557_032)
def resnet50(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> ResNet:
    """ResNet-50 (v1.5: stride on the 3×3 conv, as torchvision).

    Deviation: the paper strides the first 1×1 conv of each down-sampling bottleneck
    (see ``resnet50_v1``); same parameters, more MACs (4.09 G instead of 3.86 G).
    """
    return _resnet("resnet50", num_classes, shortcut)


@register_model(paper=PAPER, year=2015, variant="ResNet-101 (v1.5)", top1=77.374, params=44_549_160)
def resnet101(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> ResNet:
    """ResNet-101 (v1.5: stride on the 3×3 conv, as torchvision).

    Deviation: the paper strides the first 1×1 conv of each down-sampling bottleneck
    (see ``resnet101_v1``); same parameters, more MACs.
    """
    return _resnet("resnet101", num_classes, shortcut)


@register_model(paper=PAPER, year=2015, variant="ResNet-152 (v1.5)", top1=78.312, params=60_192_808)
def resnet152(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> ResNet:
    """ResNet-152 (v1.5: stride on the 3×3 conv, as torchvision).

    Deviation: the paper strides the first 1×1 conv of each down-sampling bottleneck
    (see ``resnet152_v1``); same parameters, more MACs.
    """
    return _resnet("resnet152", num_classes, shortcut)


@register_model(paper=PAPER, year=2015, variant="ResNet-50", params=25_557_032)
def resnet50_v1(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> ResNet:
    """ResNet-50 as in the paper: stride on the first 1×1 conv of a down-sampling bottleneck."""
    return _resnet("resnet50", num_classes, shortcut, stride_in_1x1=True)


@register_model(paper=PAPER, year=2015, variant="ResNet-101", params=44_549_160)
def resnet101_v1(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> ResNet:
    """ResNet-101 as in the paper: stride on the first 1×1 conv of a down-sampling bottleneck."""
    return _resnet("resnet101", num_classes, shortcut, stride_in_1x1=True)


@register_model(paper=PAPER, year=2015, variant="ResNet-152", params=60_192_808)
def resnet152_v1(*, num_classes: int = 1000, shortcut: Shortcut = "B") -> ResNet:
    """ResNet-152 as in the paper: stride on the first 1×1 conv of a down-sampling bottleneck."""
    return _resnet("resnet152", num_classes, shortcut, stride_in_1x1=True)

"""CIFAR-10 ResNets (He et al. 2015, arXiv:1512.03385, section 4.2).

6n + 2 weighted layers on a 32×32 input: a 3×3 conv with 16 filters, three stages of n basic
blocks with 16, 32 and 64 filters on 32×32, 16×16 and 8×8 maps (the first conv of stages 2 and
3 has stride 2), global average pooling and a 10-way fc. All shortcuts are type A (zero-padded
identity), so the networks have exactly as many parameters as their plain counterparts.

The blocks and shortcuts are those of ``archstat.models.resnet``. Deviation shared by every
builder: the zero channels of a type-A shortcut are appended after the input channels (the
paper does not say where they go; this does not change any count).
"""

from __future__ import annotations

from torch import Tensor, nn

from archstat.models.resnet import BasicBlock, Shortcut, conv3x3, make_stage
from archstat.registry import register_model

PAPER = "He et al. 2015, arXiv:1512.03385"

# name -> n, the number of basic blocks per stage (depth 6n + 2)
CIFAR_RESNETS: dict[str, int] = {
    "resnet20": 3,
    "resnet32": 5,
    "resnet44": 7,
    "resnet56": 9,
    "resnet110": 18,
}


class CifarResNet(nn.Module):
    """3×3 stem with 16 filters, three stages of ``n`` basic blocks (16/32/64), pooling, fc."""

    def __init__(self, n: int, *, num_classes: int = 10, shortcut: Shortcut = "A") -> None:
        super().__init__()
        self.conv1 = conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = make_stage(BasicBlock, 16, 16, n, stride=1, shortcut=shortcut)
        self.layer2 = make_stage(BasicBlock, 16, 32, n, stride=2, shortcut=shortcut)
        self.layer3 = make_stage(BasicBlock, 32, 64, n, stride=2, shortcut=shortcut)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # N x 16 x 32 x 32
        x = self.layer1(x)  # N x 16 x 32 x 32
        x = self.layer2(x)  # N x 32 x 16 x 16
        x = self.layer3(x)  # N x 64 x 8 x 8
        x = self.avgpool(x)  # N x 64 x 1 x 1
        return self.fc(x.flatten(1))  # N x num_classes


def _cifar(name: str, num_classes: int, shortcut: Shortcut) -> CifarResNet:
    return CifarResNet(CIFAR_RESNETS[name], num_classes=num_classes, shortcut=shortcut)


@register_model(paper=PAPER, year=2015, variant="ResNet-20 (CIFAR-10)", input_size=(3, 32, 32), params=269_722)
def resnet20(*, num_classes: int = 10, shortcut: Shortcut = "A") -> CifarResNet:
    """ResNet-20 for CIFAR-10 (paper section 4.2, n = 3); 0.27M parameters as in table 6."""
    return _cifar("resnet20", num_classes, shortcut)


@register_model(paper=PAPER, year=2015, variant="ResNet-32 (CIFAR-10)", input_size=(3, 32, 32), params=464_154)
def resnet32(*, num_classes: int = 10, shortcut: Shortcut = "A") -> CifarResNet:
    """ResNet-32 for CIFAR-10 (paper section 4.2, n = 5); 0.46M parameters as in table 6."""
    return _cifar("resnet32", num_classes, shortcut)


@register_model(paper=PAPER, year=2015, variant="ResNet-44 (CIFAR-10)", input_size=(3, 32, 32), params=658_586)
def resnet44(*, num_classes: int = 10, shortcut: Shortcut = "A") -> CifarResNet:
    """ResNet-44 for CIFAR-10 (paper section 4.2, n = 7); 0.66M parameters as in table 6."""
    return _cifar("resnet44", num_classes, shortcut)


@register_model(paper=PAPER, year=2015, variant="ResNet-56 (CIFAR-10)", input_size=(3, 32, 32), params=853_018)
def resnet56(*, num_classes: int = 10, shortcut: Shortcut = "A") -> CifarResNet:
    """ResNet-56 for CIFAR-10 (paper section 4.2, n = 9); 0.85M parameters as in table 6."""
    return _cifar("resnet56", num_classes, shortcut)


@register_model(paper=PAPER, year=2015, variant="ResNet-110 (CIFAR-10)", input_size=(3, 32, 32), params=1_727_962)
def resnet110(*, num_classes: int = 10, shortcut: Shortcut = "A") -> CifarResNet:
    """ResNet-110 for CIFAR-10 (paper section 4.2, n = 18); 1.7M parameters as in table 6."""
    return _cifar("resnet110", num_classes, shortcut)

"""Network in Network (Lin, Chen & Yan 2013): mlpconv blocks and a global-average-pooling head."""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn

from archstat.models._layers import ConvAct
from archstat.registry import register_model

PAPER = "Lin, Chen & Yan 2013, Network In Network, arXiv:1312.4400"

# The authors' ImageNet NIN (released with the paper as a Caffe model): per mlpconv block,
# (filters, kernel, stride, padding); both 1×1 convs keep the filter count, except that the
# very last one outputs one map per class.
NINS: dict[str, tuple[tuple[int, int, int, int], ...]] = {
    "nin": ((96, 11, 4, 0), (256, 5, 1, 2), (384, 3, 1, 1), (1024, 3, 1, 1)),
}


class MlpConv(nn.Sequential):
    """One mlpconv layer: a k×k conv and two 1×1 convs (the "micro network"), each with ReLU."""

    def __init__(
        self, in_channels: int, channels: int, kernel: int, stride: int, padding: int, out_channels: int
    ) -> None:
        super().__init__()
        self.conv = ConvAct(in_channels, channels, kernel, stride=stride, padding=padding)
        self.cccp1 = ConvAct(channels, channels, 1)
        self.cccp2 = ConvAct(channels, out_channels, 1)


class NiN(nn.Module):
    """Stacked mlpconv blocks with 3×3/2 max pools between; GAP over class maps instead of FC layers."""

    def __init__(self, name: str, *, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        blocks = NINS[name]
        layers: list[tuple[str, nn.Module]] = []
        channels = 3
        for i, (filters, kernel, stride, padding) in enumerate(blocks, start=1):
            out = num_classes if i == len(blocks) else filters
            layers.append((f"mlpconv{i}", MlpConv(channels, filters, kernel, stride, padding, out)))
            if i < len(blocks):
                layers.append((f"pool{i}", nn.MaxPool2d(3, stride=2, ceil_mode=True)))
            if i == len(blocks) - 1:
                layers.append(("dropout", nn.Dropout(dropout)))
            channels = out
        self.features = nn.Sequential(OrderedDict(layers))
        self.avgpool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)           # N x classes x 6 x 6
        return self.avgpool(x).flatten(1)


@register_model(paper=PAPER, year=2013, variant="NIN (ImageNet model)", params=7_595_176)
def nin(*, num_classes: int = 1000, dropout: float = 0.5) -> NiN:
    """NIN, the authors' 4-mlpconv ImageNet model: 96-256-384-1024 k×k convs, each with two 1×1s, GAP head.

    Maps at 224×224: 54 → 27 → 27 → 13 → 13 → 6 → 6, then the last 1×1 conv gives num_classes
    6×6 maps that AdaptiveAvgPool2d(1) averages into the logits (no FC layer).
    7,595,176 parameters.

    Deviations from the paper: the paper details only its CIFAR-10/100, SVHN and MNIST nets
    (three mlpconv layers); this is the ImageNet NIN the authors released in Caffe's model zoo.
    Its max pools round up (Caffe's ceil mode), hence ceil_mode=True (floor gives 26/12/5);
    like that model, a ReLU follows every conv, the last 1×1 (the class maps) included; dropout
    0.5 sits before the fourth mlpconv layer. The global pool is AdaptiveAvgPool2d(1)
    rather than the model's fixed 6×6 average pool (the same at 224×224).
    """
    return NiN("nin", num_classes=num_classes, dropout=dropout)

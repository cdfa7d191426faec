"""EfficientNet (Tan & Le 2019, arXiv:1905.11946).

"EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks".

The baseline network EfficientNet-B0 of the paper's table 1 in torchvision's layout:
``features`` is the stem (3×3/2 conv to 32), one ``nn.Sequential`` of MBConv blocks per stage
(stages 2–8 of table 1) and a 1×1 conv to 1280; ``classifier`` is dropout and a linear layer.
An MBConv block (MobileNetV2's inverted residual plus squeeze-and-excitation) expands with a
1×1 conv (skipped when the ratio is 1), filters with a k×k depthwise conv, rescales the
channels with a squeeze-and-excitation unit, and projects back with a linear 1×1 conv; it adds
its input, through stochastic depth, when the stride is 1 and the width does not change.
Convs have no bias and are followed by BatchNorm; the activation is Swish (``nn.SiLU``).

Deviations from the paper, all torchvision's (and the authors' released code's):
- the squeeze-and-excitation bottleneck is a quarter of the block's *input* width
  (``max(1, in // 4)``), not of the expanded width, as in the authors' code;
- stochastic depth (drop-connect) on every residual block, its probability growing linearly
  with the block's index: 0.2 · i / 16 for the 16 blocks of B0 (the paper mentions
  drop-connect 0.2 in section 5.2 without the schedule); identity in eval;
- BatchNorm with PyTorch's default eps 1e-5 and momentum 0.1 (TensorFlow's code: 1e-3, 0.01);
- the global average pool is a top-level ``avgpool`` module and the SE pool is a module
  inside each SE unit (no parameters: the same state dict as torchvision).
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from archstat.models._layers import StochasticDepth
from archstat.models.mobilenet import make_divisible
from archstat.registry import register_model

PAPER = "Tan & Le 2019, arXiv:1905.11946"

# the paper's table 1, stages 2–8: expansion ratio, kernel, first stride, output channels, layers
EFFICIENTNET_STAGES: list[tuple[int, int, int, int, int]] = [
    (1, 3, 1, 16, 1),   # 112 x 112
    (6, 3, 2, 24, 2),   # 56 x 56
    (6, 5, 2, 40, 2),   # 28 x 28
    (6, 3, 2, 80, 3),   # 14 x 14
    (6, 5, 1, 112, 3),  # 14 x 14
    (6, 5, 2, 192, 4),  # 7 x 7
    (6, 3, 1, 320, 1),  # 7 x 7
]

# public name -> (width multiplier, depth multiplier, dropout before the classifier); the
# compound-scaled B1–B7 would be further rows (their inputs also grow, 240 to 600).
EFFICIENTNETS: dict[str, tuple[float, float, float]] = {
    "efficientnet_b0": (1.0, 1.0, 0.2),
}


class ConvBNAct(nn.Sequential):
    """Conv (no bias, "same" padding), BN, optional activation: indices 0, 1, 2 as torchvision's."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, stride: int = 1,
                 groups: int = 1, activation: bool = True) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, groups=groups,
                      bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        if activation:
            layers.append(nn.SiLU(inplace=True))
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """Hu et al. 2018: global pool, 1×1 conv down (Swish), 1×1 conv up (sigmoid), scale the input."""

    def __init__(self, channels: int, squeeze_channels: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.activation = nn.SiLU(inplace=True)
        self.scale_activation = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        scale = self.avgpool(x)  # N x C x 1 x 1
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(scale))))
        return scale * x


class MBConv(nn.Module):
    """1×1 expand (skipped at ratio 1), k×k depthwise, SE, linear 1×1 project; residual if shapes match."""

    def __init__(self, in_channels: int, out_channels: int, expand_ratio: int, kernel_size: int, stride: int,
                 drop_prob: float) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and in_channels == out_channels
        hidden = make_divisible(in_channels * expand_ratio)
        layers: list[nn.Module] = []
        if hidden != in_channels:
            layers.append(ConvBNAct(in_channels, hidden))
        layers += [
            ConvBNAct(hidden, hidden, kernel_size, stride, groups=hidden),
            SqueezeExcitation(hidden, max(1, in_channels // 4)),
            ConvBNAct(hidden, out_channels, activation=False),
        ]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(drop_prob)
        self.out_channels = out_channels

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        if self.use_res_connect:
            out = self.stochastic_depth(out) + x
        return out


class EfficientNet(nn.Module):
    """Stem 3×3/2 conv to 32, MBConv stages per table 1, 1×1 conv to 4 × the last width, pool, classifier."""

    def __init__(self, *, width_mult: float = 1.0, depth_mult: float = 1.0, num_classes: int = 1000,
                 dropout: float = 0.2, stochastic_depth_prob: float = 0.2) -> None:
        super().__init__()
        stages = [(t, k, s, make_divisible(c * width_mult), math.ceil(n * depth_mult))
                  for t, k, s, c, n in EFFICIENTNET_STAGES]
        total_blocks = sum(n for *_, n in stages)
        in_channels = make_divisible(32 * width_mult)
        layers: list[nn.Module] = [ConvBNAct(3, in_channels, 3, stride=2)]  # N x 32 x 112 x 112
        index = 0
        for t, k, s, c, n in stages:
            blocks: list[nn.Module] = []
            for i in range(n):
                drop = stochastic_depth_prob * index / total_blocks
                blocks.append(MBConv(in_channels, c, t, k, s if i == 0 else 1, drop))
                in_channels = c
                index += 1
            layers.append(nn.Sequential(*blocks))
        # N x 320 x 7 x 7
        last_channels = 4 * in_channels
        layers.append(ConvBNAct(in_channels, last_channels))  # N x 1280 x 7 x 7
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_channels, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)  # N x 1280 x 7 x 7
        x = self.avgpool(x)  # N x 1280 x 1 x 1
        return self.classifier(x.flatten(1))  # N x num_classes


@register_model(paper=PAPER, year=2019, variant="EfficientNet-B0", top1=77.692, params=5_288_548)
def efficientnet_b0(*, num_classes: int = 1000, dropout: float | None = None,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B0 (paper table 1, 224×224), torchvision layout; deviations in the module's notes."""
    width, depth, default_dropout = EFFICIENTNETS["efficientnet_b0"]
    return EfficientNet(width_mult=width, depth_mult=depth, num_classes=num_classes,
                        dropout=default_dropout if dropout is None else dropout,
                        stochastic_depth_prob=stochastic_depth_prob)

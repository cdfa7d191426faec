"""MobileNetV2 (Sandler et al. 2018, arXiv:1801.04381).

"MobileNetV2: Inverted Residuals and Linear Bottlenecks".

The network of the paper's table 2 in torchvision's layout: ``features`` is a stem conv, the
17 inverted-residual blocks and a 1×1 conv to 1280 channels; ``classifier`` is dropout and a
linear layer. An inverted residual expands by ``t`` with a 1×1 conv, filters with a 3×3
depthwise conv, and projects back with a *linear* 1×1 conv (no ReLU after it); it adds its
input when the stride is 1 and the width does not change.
"""

from __future__ import annotations

from torch import Tensor, nn

from archstat.registry import register_model

PAPER = "Sandler et al. 2018, arXiv:1801.04381"

# the paper's table 2: expansion t, output channels c, repeats n, first stride s
MOBILENET_V2_BLOCKS: list[tuple[int, int, int, int]] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a width to the nearest multiple of ``divisor``, never dropping more than 10%."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class ConvBNReLU6(nn.Sequential):
    """Conv (no bias, "same" padding), BN, ReLU6: indices 0, 1, 2 as torchvision's."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, groups: int = 1
    ) -> None:
        padding = (kernel_size - 1) // 2
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU6(inplace=True),
        )


class InvertedResidual(nn.Module):
    """1×1 expand (skipped when t = 1), 3×3 depthwise, linear 1×1 project; residual if shapes match."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        self.stride = stride
        self.use_res_connect = stride == 1 and in_channels == out_channels
        hidden = round(in_channels * expand_ratio)
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBNReLU6(in_channels, hidden, kernel_size=1))
        layers += [
            ConvBNReLU6(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = out_channels

    def forward(self, x: Tensor) -> Tensor:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    """Stem conv 3×3/2 to 32, inverted residuals per table 2, 1×1 conv to 1280, pool, classifier."""

    def __init__(self, *, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2) -> None:
        super().__init__()
        in_channels = make_divisible(32 * width_mult)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult))
        layers: list[nn.Module] = [ConvBNReLU6(3, in_channels, stride=2)]  # N x 32 x 112 x 112
        for t, c, n, s in MOBILENET_V2_BLOCKS:
            out_channels = make_divisible(c * width_mult)
            for i in range(n):
                layers.append(InvertedResidual(in_channels, out_channels, s if i == 0 else 1, t))
                in_channels = out_channels
        # N x 320 x 7 x 7
        layers.append(ConvBNReLU6(in_channels, self.last_channel, kernel_size=1))  # N x 1280 x 7 x 7
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)  # N x 1280 x 7 x 7
        x = self.avgpool(x)  # N x 1280 x 1 x 1
        return self.classifier(x.flatten(1))  # N x num_classes


@register_model(paper=PAPER, year=2018, variant="MobileNetV2 1.0 (224)", top1=71.878, params=3_504_872)
def mobilenet_v2(*, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2) -> MobileNetV2:
    """MobileNetV2 (width 1.0, 224×224), torchvision layout.

    Deviations: the global average pool is a top-level ``avgpool`` module (torchvision calls
    it as a function; no parameters, same state dict); the classifier's dropout (0.2) is
    torchvision's, the paper's text does not list one; widths scaled by ``width_mult`` are
    rounded to multiples of 8 as in the authors' and torchvision's code, and the last conv
    is never narrowed below 1280 (paper section 4).
    """
    return MobileNetV2(num_classes=num_classes, width_mult=width_mult, dropout=dropout)

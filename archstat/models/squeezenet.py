"""SqueezeNet (Iandola et al. 2016, arXiv:1602.07360).

"SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size".

torchvision's layout: ``features`` is the stem conv, max-pools and Fire modules; ``classifier``
is dropout, a 1×1 conv to ``num_classes`` (``final_conv``), ReLU and a global average pool, so
the network has no fully connected layer. A Fire module squeezes with 1×1 convs and expands
with 1×1 and 3×3 convs whose outputs are concatenated.

Deviations shared by both builders: max-pools round up (``ceil_mode=True``, as Caffe, where the
network was defined); only the plain network is built, not the paper's simple or complex
bypass variants.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from archstat.registry import register_model

PAPER = "Iandola et al. 2016, arXiv:1602.07360"

# a Fire module as (squeeze 1×1, expand 1×1, expand 3×3) filters; "M" is a 3×3/2 max-pool
SqueezeConfig = list[tuple[int, int, int] | str]

SQUEEZENETS: dict[str, tuple[tuple[int, int, int], SqueezeConfig]] = {
    # stem conv (filters, kernel, stride), then the body
    "squeezenet1_0": (
        (96, 7, 2),
        ["M", (16, 64, 64), (16, 64, 64), (32, 128, 128), "M",
         (32, 128, 128), (48, 192, 192), (48, 192, 192), (64, 256, 256), "M", (64, 256, 256)],
    ),
    "squeezenet1_1": (
        (64, 3, 2),
        ["M", (16, 64, 64), (16, 64, 64), "M", (32, 128, 128), (32, 128, 128), "M",
         (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256)],
    ),
}


class Fire(nn.Module):
    """Squeeze 1×1 conv + ReLU, then parallel expand 1×1 and 3×3 convs + ReLU, concatenated."""

    def __init__(self, in_channels: int, squeeze: int, expand1x1: int, expand3x3: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(in_channels, squeeze, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self.squeeze_activation(self.squeeze(x))  # N x s x H x W
        return torch.cat(
            [
                self.expand1x1_activation(self.expand1x1(x)),
                self.expand3x3_activation(self.expand3x3(x)),
            ],
            1,
        )  # N x (e1 + e3) x H x W


class SqueezeNet(nn.Module):
    """Stem conv, Fire modules between max-pools, conv classifier with global average pooling."""

    def __init__(
        self,
        stem: tuple[int, int, int],
        body: SqueezeConfig,
        *,
        num_classes: int = 1000,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        channels, kernel_size, stride = stem
        layers: list[nn.Module] = [
            nn.Conv2d(3, channels, kernel_size=kernel_size, stride=stride),
            nn.ReLU(inplace=True),
        ]
        for item in body:
            if isinstance(item, str):
                layers.append(nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True))
            else:
                layers.append(Fire(channels, *item))
                channels = item[1] + item[2]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Conv2d(channels, num_classes, kernel_size=1),  # "final_conv" in torchvision
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)  # N x 512 x 13 x 13 at 224
        x = self.classifier(x)  # N x num_classes x 1 x 1
        return x.flatten(1)  # N x num_classes


@register_model(paper=PAPER, year=2016, variant="SqueezeNet (v1.0)", top1=58.092, params=1_248_424)
def squeezenet1_0(*, num_classes: int = 1000, dropout: float = 0.5) -> SqueezeNet:
    """SqueezeNet 1.0 (paper table 1), torchvision layout.

    Deviations: default input 224×224 (torchvision); the paper's table 1 sizes (conv1 111×111)
    imply a 227×227 input. The paper's dropout (0.5 after fire9) is kept.
    """
    stem, body = SQUEEZENETS["squeezenet1_0"]
    return SqueezeNet(stem, body, num_classes=num_classes, dropout=dropout)


@register_model(paper=PAPER, year=2016, variant="SqueezeNet v1.1 (not in the paper)", top1=58.178, params=1_235_496)
def squeezenet1_1(*, num_classes: int = 1000, dropout: float = 0.5) -> SqueezeNet:
    """SqueezeNet 1.1, torchvision layout: 2.4× fewer MACs than 1.0 at the same accuracy.

    Deviation: v1.1 is not in the paper; it comes from the authors' repository
    (DeepScale/SqueezeNet): a 3×3 stem conv with 64 filters and the max-pools moved earlier
    (after conv1, fire3 and fire5). Default input 224×224.
    """
    stem, body = SQUEEZENETS["squeezenet1_1"]
    return SqueezeNet(stem, body, num_classes=num_classes, dropout=dropout)

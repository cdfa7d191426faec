"""AlexNet (Krizhevsky et al. 2012) as published, torchvision's "one weird trick" AlexNet, and ZFNet."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from archstat.models._layers import lrn
from archstat.registry import register_model

ALEXNET_PAPER = "Krizhevsky, Sutskever & Hinton 2012, ImageNet Classification with Deep CNNs, NIPS"
OWT_PAPER = "Krizhevsky 2014, One weird trick for parallelizing CNNs, arXiv:1404.5997"
ZFNET_PAPER = "Zeiler & Fergus 2013, Visualizing and Understanding Convolutional Networks, arXiv:1311.2901"

Conv = tuple[int, int, int, int, int]  # out channels, kernel, stride, padding, groups
Layer = Conv | str                     # "L": local response norm, "M": 3×3/2 max pool


@dataclass(frozen=True, slots=True)
class AlexNetConfig:
    """One member of the family: its feature layers and the few layout choices that differ."""

    layers: tuple[Layer, ...]
    pool_ceil: bool = False            # ZFNet needs ceil_mode to get the paper's 55 and 13
    avgpool: bool = False              # torchvision's AdaptiveAvgPool2d((6, 6))
    dropout_before_fc: bool = False    # torchvision's order: Dropout, Linear, ReLU
    pool_out: int = 6                  # spatial size of the last feature map


ALEXNETS: dict[str, AlexNetConfig] = {
    # conv → ReLU → LRN → pool (section 3.5); groups=2 is the two-GPU split of conv2, conv4, conv5
    "alexnet": AlexNetConfig(layers=(
        (96, 11, 4, 0, 1), "L", "M",
        (256, 5, 1, 2, 2), "L", "M",
        (384, 3, 1, 1, 1),
        (384, 3, 1, 1, 2),
        (256, 3, 1, 1, 2), "M",
    )),
    "alexnet_owt": AlexNetConfig(layers=(
        (64, 11, 4, 2, 1), "M",
        (192, 5, 1, 2, 1), "M",
        (384, 3, 1, 1, 1),
        (256, 3, 1, 1, 1),
        (256, 3, 1, 1, 1), "M",
    ), avgpool=True, dropout_before_fc=True),
    # Fig. 3: conv → ReLU → pool → contrast norm in layers 1 and 2; dense (one-GPU) layers 3-5
    "zfnet": AlexNetConfig(layers=(
        (96, 7, 2, 1, 1), "M", "L",
        (256, 5, 2, 0, 1), "M", "L",
        (384, 3, 1, 1, 1),
        (384, 3, 1, 1, 1),
        (256, 3, 1, 1, 1), "M",
    ), pool_ceil=True),
}  # fmt: skip


class AlexNet(nn.Module):
    """Five convs with ReLU (plus LRN and max pools as configured), then FC 4096-4096-classes."""

    def __init__(self, config: AlexNetConfig, *, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for layer in config.layers:
            if layer == "L":
                layers.append(lrn())
            elif layer == "M":
                layers.append(nn.MaxPool2d(3, stride=2, ceil_mode=config.pool_ceil))
            else:
                assert isinstance(layer, tuple)
                out, kernel, stride, padding, groups = layer
                layers.append(nn.Conv2d(channels, out, kernel, stride=stride, padding=padding, groups=groups))
                layers.append(nn.ReLU(inplace=True))
                channels = out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((config.pool_out,) * 2) if config.avgpool else None
        fc_in = channels * config.pool_out**2
        if config.dropout_before_fc:
            self.classifier = nn.Sequential(
                nn.Dropout(dropout), nn.Linear(fc_in, 4096), nn.ReLU(inplace=True),
                nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
                nn.Linear(4096, num_classes),
            )  # fmt: skip
        else:
            self.classifier = nn.Sequential(
                nn.Linear(fc_in, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
                nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
                nn.Linear(4096, num_classes),
            )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)           # N x 256 x 6 x 6
        if self.avgpool is not None:
            x = self.avgpool(x)
        return self.classifier(x.flatten(1))


@register_model(paper=ALEXNET_PAPER, year=2012, variant="AlexNet", input_size=(3, 227, 227), params=60_965_224)
def alexnet(*, num_classes: int = 1000, dropout: float = 0.5) -> AlexNet:
    """AlexNet as published: 96/256/384/384/256 convs, two-GPU split as groups=2, LRN, FC 4096-4096-1000.

    60,965,224 parameters. Maps: 227 → 55 (conv1, 34,944 params) → 27 → 27 → 13 → 13 → 13 → 13 → 6.
    Layer order conv → ReLU → LRN → 3×3/2 max pool after conv1 and conv2; dropout on the outputs
    of FC6 and FC7.

    Deviations from the paper:
    - Input 227×227 (the paper says 224×224, which does not give its 55×55 maps without padding).
    - The two-GPU split is a single conv with groups=2 for conv2, conv4 and conv5 (same
      parameters and MACs); conv3 and the FC layers, which cross the GPUs, are full.
    - LRN uses PyTorch's α-divided-by-size convention with α = 1e-4 (as Caffe's reference
      model); the paper's formula corresponds to α = 5e-4 here.
    - No adaptive pooling: the classifier needs the 6×6 map a 227×227 input gives.
    """
    return AlexNet(ALEXNETS["alexnet"], num_classes=num_classes, dropout=dropout)


# torchvision's "alexnet" is this layout, hence its top-1; the zoo's `alexnet` (2012, LRN) has no published weights.
@register_model(paper=OWT_PAPER, year=2014, variant="one weird trick (torchvision)", top1=56.522, params=61_100_840)
def alexnet_owt(*, num_classes: int = 1000, dropout: float = 0.5) -> AlexNet:
    """torchvision's AlexNet, from the "one weird trick" paper: 64/192/384/256/256 convs, no LRN, no groups.

    Same layout and module indices as torchvision (61,100,840 params, 714,188,480 MACs at 224×224).

    Deviations from the paper it cites: the one-weird-trick paper's net has 64/192/384/384/256
    filters; torchvision (and so this) has 256 in conv4. 11×11/4 conv1 with padding 2,
    AdaptiveAvgPool2d((6, 6)) before the classifier and dropout before FC6 and FC7 are
    torchvision's choices too.
    """
    return AlexNet(ALEXNETS["alexnet_owt"], num_classes=num_classes, dropout=dropout)


@register_model(paper=ZFNET_PAPER, year=2013, variant="ZFNet (Fig. 3)", params=62_357_608)
def zfnet(*, num_classes: int = 1000, dropout: float = 0.5) -> AlexNet:
    """ZFNet: AlexNet with a 7×7/2 first layer, 5×5/2 second layer and dense (one-GPU) layers 3-5.

    Maps as in the paper's Fig. 3: 224 → 110 → 55 → 26 → 13 → 13 → 13 → 13 → 6.
    62,357,608 parameters.

    Deviations from the paper (which does not give padding or pooling arithmetic):
    - conv1 has padding 1 and conv2 padding 0, and the max pools use ceil_mode=True: the
      choice that reproduces Fig. 3's 110 → 55 and 26 → 13 (floor mode would give 54 and 12).
    - The "contrast normalisation across feature maps" after layers 1 and 2 is AlexNet's LRN
      (size 5, α = 1e-4, β = 0.75, k = 2), applied after the pool as Fig. 3 draws it.
    - Dropout 0.5 on FC6 and FC7 outputs, as in AlexNet.
    """
    return AlexNet(ALEXNETS["zfnet"], num_classes=num_classes, dropout=dropout)

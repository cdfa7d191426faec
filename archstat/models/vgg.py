"""VGG (Simonyan & Zisserman 2014), configurations A to E, in torchvision's layout."""

from __future__ import annotations

from torch import Tensor, nn

from archstat.models._layers import lrn
from archstat.registry import register_model

PAPER = (
    "Simonyan & Zisserman 2014, Very Deep Convolutional Networks for Large-Scale Image Recognition, "
    "arXiv:1409.1556"
)

# Table 1 of the paper. An int is a 3×3 conv (padding 1) with that many filters, (n, 1) a 1×1
# conv, "M" a 2×2/2 max pool, "LRN" local response normalisation.
Layer = int | tuple[int, int] | str

_A: list[Layer] = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
VGGS: dict[str, list[Layer]] = {
    "vgg11": _A,
    "vgg11_lrn": [64, "LRN", *_A[1:]],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16c": [64, 64, "M", 128, 128, "M", 256, 256, (256, 1), "M",
               512, 512, (512, 1), "M", 512, 512, (512, 1), "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
              512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}  # fmt: skip


def make_features(layers: list[Layer], *, batch_norm: bool) -> nn.Sequential:
    """The conv part as one flat Sequential, so module indices match torchvision's."""
    modules: list[nn.Module] = []
    channels = 3
    for layer in layers:
        if layer == "M":
            modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
        elif layer == "LRN":
            modules.append(lrn())
        else:
            out, kernel = layer if isinstance(layer, tuple) else (layer, 3)
            assert isinstance(out, int)
            modules.append(nn.Conv2d(channels, out, kernel_size=kernel, padding=kernel // 2))
            if batch_norm:
                modules.append(nn.BatchNorm2d(out))
            modules.append(nn.ReLU(inplace=True))
            channels = out
    return nn.Sequential(*modules)


class VGG(nn.Module):
    """features → AdaptiveAvgPool2d((7, 7)) → classifier FC 4096-4096-classes, as torchvision."""

    def __init__(self, features: nn.Sequential, *, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)           # N x 512 x 7 x 7
        x = self.avgpool(x)
        return self.classifier(x.flatten(1))


def _vgg(name: str, *, batch_norm: bool, num_classes: int, dropout: float) -> VGG:
    return VGG(make_features(VGGS[name], batch_norm=batch_norm), num_classes=num_classes, dropout=dropout)


@register_model(paper=PAPER, year=2014, variant="A", top1=69.020, params=132_863_336)
def vgg11(*, num_classes: int = 1000, dropout: float = 0.5) -> VGG:
    """VGG-11 (configuration A): 8 convs + 3 FC; 132,863,336 params, 7,609,090,048 MACs at 224.

    Deviation from the paper (torchvision's): AdaptiveAvgPool2d((7, 7)) before the classifier,
    the identity at 224×224 (the paper evaluates other sizes densely, FC layers as convs).
    """
    return _vgg("vgg11", batch_norm=False, num_classes=num_classes, dropout=dropout)


@register_model(paper=PAPER, year=2014, variant="A-LRN", params=132_863_336)
def vgg11_lrn(*, num_classes: int = 1000, dropout: float = 0.5) -> VGG:
    """VGG-11 with LRN (configuration A-LRN): A with local response normalisation after conv1.

    The paper gives no LRN hyper-parameters beyond citing Krizhevsky et al.; this uses AlexNet's
    (size 5, α = 1e-4 in PyTorch's convention, β = 0.75, k = 2), placed after conv1's ReLU
    (``features.2``), so every later index is one more than vgg11's.

    Deviation from the paper (torchvision's): AdaptiveAvgPool2d((7, 7)) before the classifier,
    the identity at 224×224 (the paper evaluates other sizes densely, FC layers as convs).
    """
    return _vgg("vgg11_lrn", batch_norm=False, num_classes=num_classes, dropout=dropout)


@register_model(paper=PAPER, year=2014, variant="B", top1=69.928, params=133_047_848)
def vgg13(*, num_classes: int = 1000, dropout: float = 0.5) -> VGG:
    """VGG-13 (configuration B): 10 convs + 3 FC; 133,047,848 params, 11,308,466,176 MACs at 224.

    Deviation from the paper (torchvision's): AdaptiveAvgPool2d((7, 7)) before the classifier,
    the identity at 224×224 (the paper evaluates other sizes densely, FC layers as convs).
    """
    return _vgg("vgg13", batch_norm=False, num_classes=num_classes, dropout=dropout)


@register_model(paper=PAPER, year=2014, variant="C", params=133_638_952)
def vgg16c(*, num_classes: int = 1000, dropout: float = 0.5) -> VGG:
    """VGG-16 configuration C: D with the third conv of blocks 3, 4 and 5 a 1×1 conv (padding 0).

    133,638,952 params (the paper's Table 2: 134 M). torchvision has no such model.

    Deviation from the paper (torchvision's): AdaptiveAvgPool2d((7, 7)) before the classifier,
    the identity at 224×224 (the paper evaluates other sizes densely, FC layers as convs).
    """
    return _vgg("vgg16c", batch_norm=False, num_classes=num_classes, dropout=dropout)


@register_model(paper=PAPER, year=2014, variant="D", top1=71.592, params=138_357_544)
def vgg16(*, num_classes: int = 1000, dropout: float = 0.5) -> VGG:
    """VGG-16 (configuration D): 13 convs + 3 FC; 138,357,544 params, 15,470,264,320 MACs at 224.

    Deviation from the paper (torchvision's): AdaptiveAvgPool2d((7, 7)) before the classifier,
    the identity at 224×224 (the paper evaluates other sizes densely, FC layers as convs).
    """
    return _vgg("vgg16", batch_norm=False, num_classes=num_classes, dropout=dropout)


@register_model(paper=PAPER, year=2014, variant="E", top1=72.376, params=143_667_240)
def vgg19(*, num_classes: int = 1000, dropout: float = 0.5) -> VGG:
    """VGG-19 (configuration E): 16 convs + 3 FC; 143,667,240 params, 19,632,062,464 MACs at 224.

    Deviation from the paper (torchvision's): AdaptiveAvgPool2d((7, 7)) before the classifier,
    the identity at 224×224 (the paper evaluates other sizes densely, FC layers as convs).
    """
    return _vgg("vgg19", batch_norm=False, num_classes=num_classes, dropout=dropout)


@register_model(paper=PAPER, year=2014, variant="A + BN", top1=70.370, params=132_868_840)
def vgg11_bn(*, num_classes: int = 1000, dropout: float = 0.5) -> VGG:
    """VGG-11 with batch norm after each conv (torchvision's vgg11_bn): 132,868,840 params.

    Deviations from the paper (torchvision's): BatchNorm2d after every conv, before its ReLU
    (batch norm postdates the paper); AdaptiveAvgPool2d((7, 7)) before the classifier, the
    identity at 224×224 (the paper evaluates other sizes densely, FC layers as convs).
    """
    return _vgg("vgg11", batch_norm=True, num_classes=num_classes, dropout=dropout)


@register_model(paper=PAPER, year=2014, variant="B + BN", top1=71.586, params=133_053_736)
def vgg13_bn(*, num_classes: int = 1000, dropout: float = 0.5) -> VGG:
    """VGG-13 with batch norm after each conv (torchvision's vgg13_bn): 133,053,736 params.

    Deviations from the paper (torchvision's): BatchNorm2d after every conv, before its ReLU
    (batch norm postdates the paper); AdaptiveAvgPool2d((7, 7)) before the classifier, the
    identity at 224×224 (the paper evaluates other sizes densely, FC layers as convs).
    """
    return _vgg("vgg13", batch_norm=True, num_classes=num_classes, dropout=dropout)


@register_model(paper=PAPER, year=2014, variant="D + BN", top1=73.360, params=138_365_992)
def vgg16_bn(*, num_classes: int = 1000, dropout: float = 0.5) -> VGG:
    """VGG-16 with batch norm after each conv (torchvision's vgg16_bn): 138,365,992 params.

    Deviations from the paper (torchvision's): BatchNorm2d after every conv, before its ReLU
    (batch norm postdates the paper); AdaptiveAvgPool2d((7, 7)) before the classifier, the
    identity at 224×224 (the paper evaluates other sizes densely, FC layers as convs).
    """
    return _vgg("vgg16", batch_norm=True, num_classes=num_classes, dropout=dropout)


@register_model(paper=PAPER, year=2014, variant="E + BN", top1=74.218, params=143_678_248)
def vgg19_bn(*, num_classes: int = 1000, dropout: float = 0.5) -> VGG:
    """VGG-19 with batch norm after each conv (torchvision's vgg19_bn): 143,678,248 params.

    Deviations from the paper (torchvision's): BatchNorm2d after every conv, before its ReLU
    (batch norm postdates the paper); AdaptiveAvgPool2d((7, 7)) before the classifier, the
    identity at 224×224 (the paper evaluates other sizes densely, FC layers as convs).
    """
    return _vgg("vgg19", batch_norm=True, num_classes=num_classes, dropout=dropout)


"""The lectures' building blocks, each registered on its own so it can be measured in isolation."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

from archstat.models._layers import BnReluConv, ConvAct
from archstat.models.densenet import Transition
from archstat.models.googlenet import Inception
from archstat.registry import register_model, with_input_size

VGG_PAPER = "Simonyan & Zisserman 2014, arXiv:1409.1556"
GOOGLENET_PAPER = "Szegedy et al. 2014, Going Deeper with Convolutions, arXiv:1409.4842"
RESNET_PAPER = "He et al. 2015, Deep Residual Learning for Image Recognition, arXiv:1512.03385"
DENSENET_PAPER = "Huang et al. 2016, Densely Connected Convolutional Networks, arXiv:1608.06993"
NIN_PAPER = "Lin, Chen & Yan 2013, Network In Network, arXiv:1312.4400"


@register_model(
    paper=VGG_PAPER, year=2014, variant="stacked k×k convs", input_size=(64, 56, 56), kind="block", params=110_592
)
def conv_stack(
    *, k: int = 3, n: int = 3, channels: int = 64, size: int = 56, bias: bool = False
) -> nn.Sequential:
    """n stacked k×k convs, channels → channels, "same" padding, each followed by ReLU.

    With the defaults, three 3×3 convs: 27·C² weights and a 7×7 receptive field, against 49·C²
    for one 7×7 conv (k=7, n=1); VGG's argument for small filters (section 2.3). ``size`` sets
    the default input archstat uses, (channels, size, size); the block works at any size. A ReLU
    follows every conv, the last included, so n convs bring n non-linearities.
    """
    stack = nn.Sequential(*(ConvAct(channels, channels, k, bias=bias) for _ in range(n)))
    return with_input_size(stack, channels, size, size)


@register_model(
    paper=GOOGLENET_PAPER,
    year=2014,
    variant="Inception, naive (Fig. 2a)",
    input_size=(192, 28, 28),
    kind="block",
    params=387_296,
)
def inception_naive(
    *, in_channels: int = 192, ch1x1: int = 64, ch3x3: int = 128, ch5x5: int = 32, size: int = 28
) -> Inception:
    """The naive Inception module: 1×1, 3×3, 5×5 convs and a 3×3 max pool on the same input, concatenated.

    Defaults are GoogLeNet 3a's filter counts; the pool branch passes all 192 input maps, so the
    output is 64 + 128 + 32 + 192 = 416 maps at 28×28 (387,296 parameters).
    """
    return with_input_size(Inception(in_channels, ch1x1, ch3x3, ch5x5), in_channels, size, size)


@register_model(
    paper=GOOGLENET_PAPER,
    year=2014,
    variant="Inception with dimension reductions (Fig. 2b)",
    input_size=(192, 28, 28),
    kind="block",
    params=163_696,
)
def inception_reduced(
    *,
    in_channels: int = 192,
    ch1x1: int = 64,
    ch3x3red: int = 96,
    ch3x3: int = 128,
    ch5x5red: int = 16,
    ch5x5: int = 32,
    pool_proj: int = 32,
    size: int = 28,
) -> Inception:
    """The Inception module GoogLeNet uses: 1×1 reductions before the 3×3 and 5×5, a 1×1 after the pool.

    Defaults are GoogLeNet 3a's (in 192; 64, 96→128, 16→32, pool proj 32): 256 maps at 28×28,
    163,696 parameters (163,328 weights, Table 1's 159K).
    """
    module = Inception(
        in_channels, ch1x1, ch3x3, ch5x5, ch3x3red=ch3x3red, ch5x5red=ch5x5red, pool_proj=pool_proj
    )
    return with_input_size(module, in_channels, size, size)


class Residual(nn.Module):
    """y = ReLU(body(x) + x): a ResNet block with an identity shortcut."""

    def __init__(self, body: nn.Sequential) -> None:
        super().__init__()
        self.body = body
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.body(x) + x)


@register_model(
    paper=RESNET_PAPER,
    year=2015,
    variant="basic block (Fig. 5 left)",
    input_size=(256, 56, 56),
    kind="block",
    params=1_180_672,
)
def resnet_basic_block(*, channels: int = 256, width: int = 256, size: int = 56) -> Residual:
    """ResNet basic block: 3×3 conv-BN-ReLU, 3×3 conv-BN, identity shortcut, ReLU after the add.

    At the default 256 channels: two 3×3 256→256 convs, 1,180,672 parameters (1,024 of them BN).
    Deviation: the paper's Fig. 5 draws it at 64 channels; 256 makes it comparable with the
    bottleneck block below, as in the lecture.
    """
    block = Residual(nn.Sequential(OrderedDict([
        ("conv1", ConvAct(channels, width, 3, bias=False, bn=True)),
        ("conv2", ConvAct(width, channels, 3, bias=False, bn=True, relu=False)),
    ])))  # fmt: skip
    return with_input_size(block, channels, size, size)


@register_model(
    paper=RESNET_PAPER,
    year=2015,
    variant="bottleneck block (Fig. 5 right)",
    input_size=(256, 56, 56),
    kind="block",
    params=70_400,
)
def resnet_bottleneck_block(*, channels: int = 256, width: int = 64, size: int = 56) -> Residual:
    """ResNet bottleneck block: 1×1 reduce, 3×3, 1×1 restore (256 → 64 → 64 → 256), BN, identity shortcut.

    70,400 parameters at the defaults (768 of them BN), against the basic block's 1,180,672.
    """
    block = Residual(nn.Sequential(OrderedDict([
        ("conv1", ConvAct(channels, width, 1, bias=False, bn=True)),
        ("conv2", ConvAct(width, width, 3, bias=False, bn=True)),
        ("conv3", ConvAct(width, channels, 1, bias=False, bn=True, relu=False)),
    ])))  # fmt: skip
    return with_input_size(block, channels, size, size)


class DenseLayer(nn.Module):
    """BN-ReLU-1×1 conv to 4k (if ``bottleneck``), BN-ReLU-3×3 conv to k; concatenated to the input."""

    def __init__(self, in_channels: int, growth_rate: int, *, bottleneck: bool) -> None:
        super().__init__()
        inner = 4 * growth_rate if bottleneck else in_channels
        self.reduce = BnReluConv(in_channels, inner, 1) if bottleneck else None
        self.conv = BnReluConv(inner, growth_rate, 3)

    def forward(self, x: Tensor) -> Tensor:
        y = x if self.reduce is None else self.reduce(x)
        return torch.cat([x, self.conv(y)], dim=1)


@register_model(
    paper=DENSENET_PAPER,
    year=2016,
    variant="dense block + transition (DenseNet-BC)",
    input_size=(64, 56, 56),
    kind="block",
    params=368_320,
)
def dense_block(
    *, layers: int = 6, growth_rate: int = 32, in_channels: int = 64, bottleneck: bool = True,
    size: int = 56,
) -> nn.Sequential:
    """A DenseNet dense block and its transition layer (BN, ReLU, 1×1 conv halving the maps, 2×2 avg pool).

    Defaults are DenseNet-121's first block: 6 layers, k = 32, 64 → 256 maps at 56×56, then the
    transition to 128 maps at 28×28; 368,320 parameters. ``bottleneck=False`` drops the 1×1
    (plain DenseNet instead of DenseNet-B) for the lecture's comparison.

    Deviation: the transition's compression (θ = 0.5, halving the maps) is DenseNet-BC's; the
    paper's plain transition keeps the channel count.
    """
    block: list[tuple[str, nn.Module]] = []
    channels = in_channels
    for i in range(1, layers + 1):
        block.append((f"denselayer{i}", DenseLayer(channels, growth_rate, bottleneck=bottleneck)))
        channels += growth_rate
    module = nn.Sequential(OrderedDict([
        ("denseblock", nn.Sequential(OrderedDict(block))),        # N x 256 x 56 x 56
        ("transition", Transition(channels, channels // 2)),     # N x 128 x 28 x 28
    ]))  # fmt: skip
    return with_input_size(module, in_channels, size, size)


@register_model(
    paper=NIN_PAPER, year=2013, variant="global average pooling head", input_size=(512, 7, 7), kind="block",
    params=513_000,
)
def gap_head(*, channels: int = 512, size: int = 7, num_classes: int = 1000) -> nn.Sequential:
    """Classifier head: global average pool, then one linear layer (512 → 1000: 513,000 parameters).

    Deviation: NIN's own GAP head has no linear layer (its last conv emits the class maps);
    the linear layer here is the form ResNet/GoogLeNet use. ``size`` sets the default input.
    """
    head = nn.Sequential(OrderedDict([
        ("pool", nn.AdaptiveAvgPool2d(1)),
        ("flatten", nn.Flatten(1)),
        ("fc", nn.Linear(channels, num_classes)),
    ]))  # fmt: skip
    return with_input_size(head, channels, size, size)


@register_model(paper=VGG_PAPER, year=2014, variant="flatten + FC head", input_size=(512, 7, 7), kind="block",
                params=25_089_000)
def fc_head(*, channels: int = 512, size: int = 7, num_classes: int = 1000) -> nn.Sequential:
    """Classifier head: flatten the map, then one linear layer (25,088 → 1000: 25,089,000 parameters).

    A single-layer stand-in for VGG's FC stack (whose FC6 alone is 25,088 → 4,096), to compare
    with the GAP head on the same input.
    """
    head = nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten(1)),
        ("fc", nn.Linear(channels * size * size, num_classes)),
    ]))  # fmt: skip
    return with_input_size(head, channels, size, size)

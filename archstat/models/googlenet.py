"""GoogLeNet (Szegedy et al. 2014) as published in Table 1, and its Inception module."""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

import torch
from torch import Tensor, nn

from archstat.models._layers import ConvAct, lrn
from archstat.registry import register_model

PAPER = "Szegedy et al. 2014, Going Deeper with Convolutions, arXiv:1409.4842"

# Table 1: #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj; "M" is a 3×3/2 max pool.
INCEPTIONS: dict[str, tuple[int, int, int, int, int, int] | str] = {
    "inception3a": (64, 96, 128, 16, 32, 32),
    "inception3b": (128, 128, 192, 32, 96, 64),
    "maxpool3": "M",
    "inception4a": (192, 96, 208, 16, 48, 64),
    "inception4b": (160, 112, 224, 24, 64, 64),
    "inception4c": (128, 128, 256, 24, 64, 64),
    "inception4d": (112, 144, 288, 32, 64, 64),
    "inception4e": (256, 160, 320, 32, 128, 128),
    "maxpool4": "M",
    "inception5a": (256, 160, 320, 32, 128, 128),
    "inception5b": (384, 192, 384, 48, 128, 128),
}
AUX_AFTER = {"inception4a": "aux1", "inception4d": "aux2"}


class Inception(nn.Module):
    """Inception module: 1×1, 3×3 and 5×5 conv branches and a 3×3 max-pool branch, concatenated.

    With ``ch3x3red``, ``ch5x5red`` and ``pool_proj`` given, 1×1 convs reduce the input of the 3×3
    and 5×5 branches and project the pool branch (the module GoogLeNet uses); left as None, the
    branches are the paper's "naive" module and the pool branch passes all input maps through.
    Every conv is biased and followed by ReLU.
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3: int,
        ch5x5: int,
        *,
        ch3x3red: int | None = None,
        ch5x5red: int | None = None,
        pool_proj: int | None = None,
    ) -> None:
        super().__init__()
        self.branch1x1 = ConvAct(in_channels, ch1x1, 1)
        self.branch3x3 = _branch(in_channels, ch3x3red, ch3x3, 3)
        self.branch5x5 = _branch(in_channels, ch5x5red, ch5x5, 5)
        pool: list[tuple[str, nn.Module]] = [("pool", nn.MaxPool2d(3, stride=1, padding=1))]
        if pool_proj is not None:
            pool.append(("proj", ConvAct(in_channels, pool_proj, 1)))
        self.branch_pool = nn.Sequential(OrderedDict(pool))
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + (in_channels if pool_proj is None else pool_proj)

    def forward(self, x: Tensor) -> Tensor:
        branches = (self.branch1x1, self.branch3x3, self.branch5x5, self.branch_pool)
        return torch.cat([branch(x) for branch in branches], dim=1)


def _branch(in_channels: int, reduce: int | None, out: int, kernel: int) -> nn.Sequential:
    layers: list[tuple[str, nn.Module]] = []
    if reduce is not None:
        layers.append(("reduce", ConvAct(in_channels, reduce, 1)))
    layers.append(("conv", ConvAct(in_channels if reduce is None else reduce, out, kernel)))
    return nn.Sequential(OrderedDict(layers))


class InceptionAux(nn.Module):
    """Auxiliary classifier: 5×5/3 avg pool, 1×1 conv 128 + ReLU, FC 1024 + ReLU, dropout 0.7, linear."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.avgpool = nn.AvgPool2d(5, stride=3)
        self.conv = ConvAct(in_channels, 128, 1)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(0.7)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(self.avgpool(x))  # N x 128 x 4 x 4
        x = self.dropout(self.relu(self.fc1(x.flatten(1))))
        return self.fc2(x)


class GoogLeNetOutputs(NamedTuple):
    """What a training-mode forward returns when the auxiliary classifiers are on."""

    logits: Tensor
    aux2: Tensor
    aux1: Tensor


class GoogLeNet(nn.Module):
    """GoogLeNet: stem, nine Inception modules, 7×7 average pool, dropout, linear (plus two aux heads)."""

    def __init__(self, *, num_classes: int = 1000, aux_logits: bool = True, dropout: float = 0.4) -> None:
        super().__init__()
        self.conv1 = ConvAct(3, 64, 7, stride=2)                # N x 64 x 112 x 112
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # N x 64 x 56 x 56
        self.norm1 = lrn(k=1.0)
        self.conv2 = ConvAct(64, 64, 1)                          # the 3×3's 1×1 reduce
        self.conv3 = ConvAct(64, 192, 3)                         # N x 192 x 56 x 56
        self.norm2 = lrn(k=1.0)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # N x 192 x 28 x 28
        self.aux_logits = aux_logits
        channels = 192
        self.stages: list[str] = []
        for name, spec in INCEPTIONS.items():
            if spec == "M":
                self.add_module(name, nn.MaxPool2d(3, stride=2, ceil_mode=True))
            else:
                assert isinstance(spec, tuple)
                ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj = spec
                block = Inception(
                    channels, ch1x1, ch3x3, ch5x5, ch3x3red=ch3x3red, ch5x5red=ch5x5red, pool_proj=pool_proj
                )
                self.add_module(name, block)
                channels = block.out_channels
            self.stages.append(name)
            if aux_logits and name in AUX_AFTER:
                self.add_module(AUX_AFTER[name], InceptionAux(channels, num_classes))
        self.avgpool = nn.AvgPool2d(7, stride=1)                  # N x 1024 x 1 x 1
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: Tensor) -> Tensor | GoogLeNetOutputs:
        x = self.maxpool1(self.conv1(x))
        x = self.norm1(x)
        x = self.conv3(self.conv2(x))
        x = self.maxpool2(self.norm2(x))
        aux: dict[str, Tensor] = {}
        for name in self.stages:
            x = self.get_submodule(name)(x)                       # N x 832 x 7 x 7 after maxpool4
            if self.training and self.aux_logits and name in AUX_AFTER:
                aux[AUX_AFTER[name]] = self.get_submodule(AUX_AFTER[name])(x)
        x = self.dropout(self.avgpool(x).flatten(1))             # N x 1024
        logits = self.fc(x)
        if aux:
            return GoogLeNetOutputs(logits, aux["aux2"], aux["aux1"])
        return logits


@register_model(paper=PAPER, year=2014, variant="GoogLeNet (Table 1)", params=13_378_280)
def googlenet(*, num_classes: int = 1000, aux_logits: bool = True, dropout: float = 0.4) -> GoogLeNet:
    """GoogLeNet as in the paper's Table 1: true 5×5 branches, LRN, biased convs with ReLU, no BN.

    6,998,552 parameters without the auxiliary classifiers, 13,378,280 with them (aux1
    3,188,840; aux2 3,190,888). At 224×224 the maps are 112 → 56 → 28 → 14 → 7 and an eval
    forward costs 1,582,671,872 MACs (1,591,044,096 in training mode with the aux heads).

    Check against Table 1 (weights only, no biases; "K" = 1,024, "M" = 10^6 MACs):

    ======  ==============  ===========  ===========  ==========
    layer   Table 1 params  this model   Table 1 ops  this model
    ======  ==============  ===========  ===========  ==========
    conv1   2.7K            9.2K         34M          118.0M
    conv2   112K            112.0K       360M         359.7M
    3a      159K            159.5K       128M         128.0M
    3b      380K            379.0K       304M         304.3M
    4a      364K            366.8K       73M          73.6M
    4b      437K            438.0K       88M          87.9M
    4c      463K            497.5K       100M         99.9M
    4d      580K            590.5K       119M         118.5M
    4e      840K            847.0K       170M         170.0M
    5a      1072K           1018.0K      54M          51.1M
    5b      1388K           1409.0K      71M          70.7M
    linear  1000K           1000.0K      1M           1.0M
    ======  ==============  ===========  ===========  ==========

    The ops column matches except conv1 and 5a; the params column is off by up to 7% (4c: the
    paper's own 100M ops imply 509K weights at 14×14, as here). conv1's row (2.7K, 34M) fits
    no 7×7 conv on 3 input channels; this model has the real 7×7×3×64 conv.

    The auxiliary classifiers (``aux1`` after 4a, ``aux2`` after 4d) run only in training
    mode: ``model.train()`` forwards return ``GoogLeNetOutputs(logits, aux2, aux1)`` (the order
    torchvision uses), ``model.eval()`` forwards return the main logits only. With
    ``aux_logits=False`` they are not built at all.

    Deviations from the paper:
    - The paper gives no LRN hyper-parameters; these are Caffe's reference GoogLeNet's (size 5,
      α = 1e-4 in PyTorch's/Caffe's convention, β = 0.75, k = 1).
    - Max pools use ceil_mode=True (as that Caffe model) to get Table 1's 56/28/14/7 maps.
    - The paper's "conv 3×3, depth 2" stem layer is two modules: ``conv2`` (1×1, 64) and
      ``conv3`` (3×3, 192), torchvision's names.
    - The aux heads' FC input is 128·4·4 = 2,048, which holds for 224×224 inputs only.
    """
    return GoogLeNet(num_classes=num_classes, aux_logits=aux_logits, dropout=dropout)

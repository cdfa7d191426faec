"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998) as published, and a modern re-reading of it."""

from __future__ import annotations

import itertools
from collections import OrderedDict

import torch
from torch import Tensor, nn

from archstat.registry import register_model

PAPER = "LeCun et al. 1998, Gradient-Based Learning Applied to Document Recognition, Proc. IEEE 86(11)"

# Table I of the paper: the S2 maps that each of the 16 C3 maps reads. Maps 0-5 read three
# contiguous maps, 6-11 four contiguous maps, 12-14 four discontinuous maps, 15 all six.
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip


class ScaledTanh(nn.Module):
    """The paper's squashing function f(a) = A·tanh(S·a), A = 1.7159, S = 2/3 (Appendix A)."""

    def __init__(self, amplitude: float = 1.7159, slope: float = 2.0 / 3.0) -> None:
        super().__init__()
        self.amplitude = amplitude
        self.slope = slope

    def forward(self, x: Tensor) -> Tensor:
        return self.amplitude * torch.tanh(self.slope * x)

    def extra_repr(self) -> str:
        return f"amplitude={self.amplitude}, slope={self.slope:.4f}"


class Subsampling(nn.Module):
    """S2/S4: each map sums its 2×2 windows, times one trainable coefficient, plus one trainable bias."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(2, divisor_override=1)  # a 2×2 sum, not a mean
        self.weight = nn.Parameter(torch.ones(channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(x) * self.weight + self.bias


class PartialConv(nn.Module):
    """C3: 5×5 convs where each output map reads only the input maps its ``table`` row lists.

    Consecutive output maps with the same fan-in share one grouped conv over their gathered
    inputs, so parameters and MACs are exactly those of the sparse connection scheme.
    """

    def __init__(self, table: tuple[tuple[int, ...], ...], kernel_size: int = 5) -> None:
        super().__init__()
        groups = [(fan_in, len(list(rows))) for fan_in, rows in itertools.groupby(table, key=len)]
        self.convs = nn.ModuleList(
            nn.Conv2d(outs * fan_in, outs, kernel_size, groups=outs) for fan_in, outs in groups
        )
        self.splits = [outs * fan_in for fan_in, outs in groups]
        # a plain list, not a buffer: it stays valid through to_empty() and device moves
        self.gather = [i for row in table for i in row]

    def forward(self, x: Tensor) -> Tensor:
        index = torch.tensor(self.gather, device=x.device)
        picked = torch.index_select(x, 1, index)  # N x 60 x 14 x 14 (C3)
        parts = torch.split(picked, self.splits, dim=1)
        return torch.cat([conv(p) for conv, p in zip(self.convs, parts, strict=True)], dim=1)


class EuclideanRBF(nn.Module):
    """Output layer: y_i = Σ_j (x_j − w_ij)², one unit per class, with fixed (untrained) centres."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(_pm1_code(out_features, in_features)), requires_grad=False)

    def forward(self, x: Tensor) -> Tensor:
        return (x.unsqueeze(1) - self.weight).pow(2).sum(dim=-1)  # N x classes


def _pm1_code(rows: int, cols: int) -> list[list[float]]:
    # A fixed, reproducible ±1 code (a small LCG) standing in for the paper's 7×12 bitmaps.
    state, code = 12345, []
    for _ in range(rows):
        row = []
        for _ in range(cols):
            state = (1103515245 * state + 12345) % 2**31
            row.append(1.0 if state >> 30 else -1.0)
        code.append(row)
    return code


class LeNet5(nn.Module):
    """LeNet-5: C1-S2-C3-S4-C5-F6 feature extractor plus an output layer; ``modern`` swaps the parts."""

    def __init__(self, *, num_classes: int = 10, modern: bool = False) -> None:
        super().__init__()

        def act() -> nn.Module:
            return nn.ReLU(inplace=True) if modern else ScaledTanh()

        def sub(channels: int) -> nn.Module:
            return nn.MaxPool2d(2) if modern else Subsampling(channels)

        # the paper squashes every layer up to F6, the subsampling layers included
        self.features = nn.Sequential(OrderedDict([
            ("c1", nn.Conv2d(1, 6, 5)), ("act1", act()),                            # N x 6 x 28 x 28
            ("s2", sub(6)), *([] if modern else [("act2", act())]),                # N x 6 x 14 x 14
            ("c3", nn.Conv2d(6, 16, 5) if modern else PartialConv(C3_TABLE)),
            ("act3", act()),                                                        # N x 16 x 10 x 10
            ("s4", sub(16)), *([] if modern else [("act4", act())]),               # N x 16 x 5 x 5
            ("c5", nn.Conv2d(16, 120, 5)), ("act5", act()),                          # N x 120 x 1 x 1
        ]))  # fmt: skip
        self.classifier = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten(1)),                                             # N x 120
            ("f6", nn.Linear(120, 84)), ("act6", act()),                            # N x 84
            ("output", nn.Linear(84, num_classes) if modern else EuclideanRBF(84, num_classes)),
        ]))  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


@register_model(paper=PAPER, year=1998, variant="LeNet-5", input_size=(1, 32, 32), params=60_840,
                trainable_params=60_000)
def lenet5(*, num_classes: int = 10) -> LeNet5:
    """LeNet-5 as published: sparse C3 (Table I), trainable subsampling, scaled tanh, Euclidean RBF output.

    60,000 trainable parameters (the paper's figure) plus the RBF layer's 840 fixed ones (60,840
    in all); 340,908 connections, of which 325,680 are conv/linear multiply-accumulates (the rest
    are biases, subsampling and the RBF layer). Every layer up to F6 is squashed by
    1.7159·tanh(2a/3), the subsampling layers included, as in the paper (section II-B).

    Deviations from the paper:
    - The RBF centres are a fixed pseudo-random ±1 code, not the paper's stylised 7×12 ASCII
      bitmaps (the parameter count and cost are the same; the values are not).
    - S2/S4 are an ``AvgPool2d(2, divisor_override=1)`` (a 2×2 sum) followed by a per-map
      coefficient and bias, so the pooling shows up as a pooling layer.
    - C3's 16 sparse maps are three grouped convs (fan-in 3, 4 and 6) over gathered inputs.
    - The RBF output is computed element-wise, so a MAC counter that only counts conv/linear
      layers does not see its 840 multiply-adds.
    - The loss (the paper's MAP criterion) and the input scaling (−0.1 / 1.175) are not part of it.
    """
    return LeNet5(num_classes=num_classes)


@register_model(paper=PAPER, year=1998, variant="LeNet-5 (modern)", input_size=(1, 32, 32), params=61_706)
def lenet5_modern(*, num_classes: int = 10) -> LeNet5:
    """LeNet-5 as usually re-implemented today: ReLU, 2×2 max pools, full C3, linear output.

    Deviations from the paper (all deliberate, this is the textbook re-reading): ReLU instead
    of the scaled tanh; parameter-free 2×2 max pooling instead of trainable subsampling (no
    squashing after it); C3 connects all 6 S2 maps to all 16 maps (2,416 params, not 1,516);
    the RBF output is an ordinary ``nn.Linear(84, num_classes)`` (850 trainable params).
    61,706 parameters in all, all trainable.
    """
    return LeNet5(num_classes=num_classes, modern=True)

"""Inception-v4 (Szegedy et al. 2016, arXiv:1602.07261, Figs. 3–9).

Every Inception block here is a :class:`Concat` of named branches, and every branch is a plain
``nn.Sequential`` of :class:`~archstat.models.inception_v3.BasicConv2d` and pooling layers, so
layer paths read like the paper's figures: ``inception_b.3.branch_7x7dbl.2.conv``.

Convolutions marked "V" in the paper are valid (unpadded); all others are same-padded.
Spatial sizes below are for the default 299×299 input.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from archstat.models.inception_v3 import BasicConv2d, conv1x3, conv1x7, conv3x1, conv7x1
from archstat.registry import register_model

PAPER = (
    "Szegedy et al. 2016, 'Inception-v4, Inception-ResNet and the Impact of Residual Connections "
    "on Learning', arXiv:1602.07261"
)


class Concat(nn.ModuleDict):
    """Runs each named branch on the same input and concatenates the results along channels."""

    def __init__(self, **branches: nn.Module) -> None:
        super().__init__(branches)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([branch(x) for branch in self.values()], 1)


def conv1x1(in_channels: int, out_channels: int) -> BasicConv2d:
    """A 1×1 BasicConv2d."""
    return BasicConv2d(in_channels, out_channels, 1)


def conv3x3(in_channels: int, out_channels: int, *, stride: int = 1, valid: bool = False) -> BasicConv2d:
    """A 3×3 BasicConv2d, same-padded unless ``valid`` (the paper's "V")."""
    return BasicConv2d(in_channels, out_channels, 3, stride=stride, padding=0 if valid else 1)


def max_pool_3x3_s2() -> nn.MaxPool2d:
    """The valid 3×3/2 max pool of the stem and the reduction blocks."""
    return nn.MaxPool2d(kernel_size=3, stride=2)


def avg_pool_3x3() -> nn.AvgPool2d:
    """Same-padded 3×3/1 average pool; padding is left out of the average, as TF's "SAME"."""
    return nn.AvgPool2d(kernel_size=3, stride=1, padding=1, count_include_pad=False)


def stem() -> nn.Sequential:
    """The stem of paper Fig. 3 (Inception-v4; Inception-ResNet-v2 in the paper): 299² × 3 → 35² × 384."""
    return nn.Sequential(
        conv3x3(3, 32, stride=2, valid=True),  # N x 32 x 149 x 149
        conv3x3(32, 32, valid=True),  # N x 32 x 147 x 147
        conv3x3(32, 64),  # N x 64 x 147 x 147
        Concat(  # N x 160 x 73 x 73
            branch_pool=max_pool_3x3_s2(),
            branch_3x3=conv3x3(64, 96, stride=2, valid=True),
        ),
        Concat(  # N x 192 x 71 x 71
            branch_3x3=nn.Sequential(conv1x1(160, 64), conv3x3(64, 96, valid=True)),
            branch_7x7=nn.Sequential(
                conv1x1(160, 64), conv7x1(64, 64), conv1x7(64, 64), conv3x3(64, 96, valid=True)
            ),
        ),
        Concat(  # N x 384 x 35 x 35
            branch_3x3=conv3x3(192, 192, stride=2, valid=True),
            branch_pool=max_pool_3x3_s2(),
        ),
    )


def inception_a(in_channels: int = 384) -> Concat:
    """Inception-A, the 35×35 block (paper Fig. 4): 384 → 384 channels."""
    return Concat(
        branch_pool=nn.Sequential(avg_pool_3x3(), conv1x1(in_channels, 96)),
        branch_1x1=conv1x1(in_channels, 96),
        branch_3x3=nn.Sequential(conv1x1(in_channels, 64), conv3x3(64, 96)),
        branch_3x3dbl=nn.Sequential(conv1x1(in_channels, 64), conv3x3(64, 96), conv3x3(96, 96)),
    )


def reduction_a(in_channels: int, k: int, l: int, m: int, n: int) -> Concat:  # noqa: E741 (paper's name)
    """Reduction-A, 35 → 17 (paper Fig. 7, filter counts k, l, m, n from Table 1)."""
    return Concat(
        branch_pool=max_pool_3x3_s2(),
        branch_3x3=conv3x3(in_channels, n, stride=2, valid=True),
        branch_3x3dbl=nn.Sequential(
            conv1x1(in_channels, k), conv3x3(k, l), conv3x3(l, m, stride=2, valid=True)
        ),
    )


def inception_b(in_channels: int = 1024) -> Concat:
    """Inception-B, the 17×17 block with factorised 7×7s (paper Fig. 5): 1024 → 1024 channels."""
    return Concat(
        branch_pool=nn.Sequential(avg_pool_3x3(), conv1x1(in_channels, 128)),
        branch_1x1=conv1x1(in_channels, 384),
        branch_7x7=nn.Sequential(conv1x1(in_channels, 192), conv1x7(192, 224), conv7x1(224, 256)),
        branch_7x7dbl=nn.Sequential(
            conv1x1(in_channels, 192),
            conv1x7(192, 192),
            conv7x1(192, 224),
            conv1x7(224, 224),
            conv7x1(224, 256),
        ),
    )


def reduction_b(in_channels: int = 1024) -> Concat:
    """Reduction-B, 17 → 8 (paper Fig. 8): 1024 → 1536 channels."""
    return Concat(
        branch_pool=max_pool_3x3_s2(),
        branch_3x3=nn.Sequential(conv1x1(in_channels, 192), conv3x3(192, 192, stride=2, valid=True)),
        branch_7x7x3=nn.Sequential(
            conv1x1(in_channels, 256),
            conv1x7(256, 256),
            conv7x1(256, 320),
            conv3x3(320, 320, stride=2, valid=True),
        ),
    )


def split_1x3_3x1(in_channels: int, out_channels: int) -> Concat:
    """The parallel 1×3 and 3×1 convs that end two branches of Inception-C."""
    return Concat(
        branch_1x3=conv1x3(in_channels, out_channels),
        branch_3x1=conv3x1(in_channels, out_channels),
    )


def inception_c(in_channels: int = 1536) -> Concat:
    """Inception-C, the 8×8 block (paper Fig. 6): 1536 → 1536 channels."""
    return Concat(
        branch_pool=nn.Sequential(avg_pool_3x3(), conv1x1(in_channels, 256)),
        branch_1x1=conv1x1(in_channels, 256),
        branch_3x3=nn.Sequential(conv1x1(in_channels, 384), split_1x3_3x1(384, 256)),
        branch_3x3dbl=nn.Sequential(
            conv1x1(in_channels, 384), conv1x3(384, 448), conv3x1(448, 512), split_1x3_3x1(512, 256)
        ),
    )


class InceptionV4(nn.Module):
    """Inception-v4 (paper Fig. 9): stem, 4 × A, Reduction-A, 7 × B, Reduction-B, 3 × C, head."""

    def __init__(self, *, num_classes: int = 1000, dropout: float = 0.2) -> None:
        super().__init__()
        self.stem = stem()
        self.inception_a = nn.Sequential(*(inception_a() for _ in range(4)))
        self.reduction_a = reduction_a(384, k=192, l=224, m=256, n=384)
        self.inception_b = nn.Sequential(*(inception_b() for _ in range(7)))
        self.reduction_b = reduction_b()
        self.inception_c = nn.Sequential(*(inception_c() for _ in range(3)))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1536, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        # N x 3 x 299 x 299
        x = self.stem(x)  # N x 384 x 35 x 35
        x = self.inception_a(x)  # N x 384 x 35 x 35
        x = self.reduction_a(x)  # N x 1024 x 17 x 17
        x = self.inception_b(x)  # N x 1024 x 17 x 17
        x = self.reduction_b(x)  # N x 1536 x 8 x 8
        x = self.inception_c(x)  # N x 1536 x 8 x 8
        x = self.avgpool(x)  # N x 1536 x 1 x 1
        x = self.dropout(torch.flatten(x, 1))  # N x 1536
        return self.fc(x)  # N x num_classes


@register_model(paper=PAPER, year=2016, variant="Inception-v4", input_size=(3, 299, 299), params=42_679_816)
def inception_v4(*, num_classes: int = 1000, dropout: float = 0.2) -> InceptionV4:
    """Inception-v4 at 299×299 (paper Figs. 3–9; Reduction-A with k=192, l=224, m=256, n=384).

    Deviations from the paper and notes:

    - Every conv is followed by BatchNorm (eps 0.001, with a learned scale γ and shift β) and
      ReLU; the paper says BN is used but not where. TF-slim's release learns β only (no γ,
      31,584 fewer parameters) and has 1001 classes (background first, 1,537 more). With
      ``num_classes=1000`` this model has 42,679,816 parameters, the usual PyTorch count for
      this architecture; TF-slim's trainable count would be 42,649,769.
    - Dropout keeps 0.8 of the activations (p = 0.2), as the paper's Fig. 9.
    - The 8×8 average pool is an adaptive pool to 1×1, so other input sizes also work; at
      299×299 it is the paper's 8×8 pool.
    - Average pools exclude the padding from the average (TF "SAME" semantics); this changes
      no parameter or MAC.
    - The order of the 1×7 / 7×1 convs follows the paper's figures; TF-slim swaps some of them
      (e.g. its stem and Inception-B double branch start with 7×1). Same parameters and MACs.
    - No auxiliary classifier: the paper does not describe one for Inception-v4.
    """
    return InceptionV4(num_classes=num_classes, dropout=dropout)

"""Inception-ResNet-v2 (Szegedy et al. 2016, arXiv:1602.07261, Figs. 7, 15–19).

Built from the same parts as Inception-v4 (:class:`~archstat.models.inception_v4.Concat` of
``nn.Sequential`` branches of :class:`~archstat.models.inception_v3.BasicConv2d`). Each residual
block adds its scaled, linearly projected branches back onto its input (paper section 3.3).
Spatial sizes below are for the default 299×299 input.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from archstat.models.inception_v3 import BasicConv2d, conv1x3, conv1x7, conv3x1, conv7x1
from archstat.models.inception_v4 import (
    PAPER,
    Concat,
    avg_pool_3x3,
    conv1x1,
    conv3x3,
    max_pool_3x3_s2,
    reduction_a,
)
from archstat.registry import register_model


class InceptionResNetBlock(nn.Module):
    """``act(x + scale · up(concat(branches(x))))``; ``up`` is a linear 1×1 conv (with bias, no BN)."""

    def __init__(
        self, branches: Concat, concat_channels: int, channels: int, *, scale: float, activate: bool = True
    ) -> None:
        super().__init__()
        self.branches = branches
        self.up = nn.Conv2d(concat_channels, channels, 1)
        self.scale = scale
        self.activate = activate

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.scale * self.up(self.branches(x))
        return F.relu(x) if self.activate else x

    def extra_repr(self) -> str:
        return f"scale={self.scale}, activate={self.activate}"


def stem() -> nn.Sequential:
    """The released model's stem: Inception-v3's stem plus a 35×35 mixed block (299×299×3 → 35×35×320)."""
    return nn.Sequential(
        conv3x3(3, 32, stride=2, valid=True),  # N x 32 x 149 x 149
        conv3x3(32, 32, valid=True),  # N x 32 x 147 x 147
        conv3x3(32, 64),  # N x 64 x 147 x 147
        max_pool_3x3_s2(),  # N x 64 x 73 x 73
        conv1x1(64, 80),  # N x 80 x 73 x 73
        conv3x3(80, 192, valid=True),  # N x 192 x 71 x 71
        max_pool_3x3_s2(),  # N x 192 x 35 x 35
        Concat(  # N x 320 x 35 x 35
            branch_1x1=conv1x1(192, 96),
            branch_5x5=nn.Sequential(conv1x1(192, 48), BasicConv2d(48, 64, 5, padding=2)),
            branch_3x3dbl=nn.Sequential(conv1x1(192, 64), conv3x3(64, 96), conv3x3(96, 96)),
            branch_pool=nn.Sequential(avg_pool_3x3(), conv1x1(192, 64)),
        ),
    )


def inception_resnet_a(channels: int = 320, *, scale: float = 0.17) -> InceptionResNetBlock:
    """Inception-ResNet-A, the 35×35 residual block (paper Fig. 16)."""
    branches = Concat(
        branch_1x1=conv1x1(channels, 32),
        branch_3x3=nn.Sequential(conv1x1(channels, 32), conv3x3(32, 32)),
        branch_3x3dbl=nn.Sequential(conv1x1(channels, 32), conv3x3(32, 48), conv3x3(48, 64)),
    )
    return InceptionResNetBlock(branches, 32 + 32 + 64, channels, scale=scale)


def inception_resnet_b(channels: int = 1088, *, scale: float = 0.10) -> InceptionResNetBlock:
    """Inception-ResNet-B, the 17×17 residual block with a factorised 7×7 (paper Fig. 17)."""
    branches = Concat(
        branch_1x1=conv1x1(channels, 192),
        branch_7x7=nn.Sequential(conv1x1(channels, 128), conv1x7(128, 160), conv7x1(160, 192)),
    )
    return InceptionResNetBlock(branches, 192 + 192, channels, scale=scale)


def inception_resnet_c(
    channels: int = 2080, *, scale: float = 0.20, activate: bool = True
) -> InceptionResNetBlock:
    """Inception-ResNet-C, the 8×8 residual block with a factorised 3×3 (paper Fig. 19)."""
    branches = Concat(
        branch_1x1=conv1x1(channels, 192),
        branch_3x3=nn.Sequential(conv1x1(channels, 192), conv1x3(192, 224), conv3x1(224, 256)),
    )
    return InceptionResNetBlock(branches, 192 + 256, channels, scale=scale, activate=activate)


def reduction_b(in_channels: int = 1088) -> Concat:
    """Reduction-B of Inception-ResNet-v2, 17 → 8 (paper Fig. 18): 1088 → 2080 channels."""
    return Concat(
        branch_pool=max_pool_3x3_s2(),
        branch_3x3a=nn.Sequential(conv1x1(in_channels, 256), conv3x3(256, 384, stride=2, valid=True)),
        branch_3x3b=nn.Sequential(conv1x1(in_channels, 256), conv3x3(256, 288, stride=2, valid=True)),
        branch_3x3dbl=nn.Sequential(
            conv1x1(in_channels, 256), conv3x3(256, 288), conv3x3(288, 320, stride=2, valid=True)
        ),
    )


class InceptionResNetV2(nn.Module):
    """Inception-ResNet-v2 as released: stem, 10 × A, Reduction-A, 20 × B, Reduction-B, 10 × C, head."""

    def __init__(self, *, num_classes: int = 1000, dropout: float = 0.2) -> None:
        super().__init__()
        self.stem = stem()
        self.inception_resnet_a = nn.Sequential(*(inception_resnet_a() for _ in range(10)))
        self.reduction_a = reduction_a(320, k=256, l=256, m=384, n=384)
        self.inception_resnet_b = nn.Sequential(*(inception_resnet_b() for _ in range(20)))
        self.reduction_b = reduction_b()
        self.inception_resnet_c = nn.Sequential(
            *(inception_resnet_c() for _ in range(9)),
            inception_resnet_c(scale=1.0, activate=False),
        )
        self.conv_7b = conv1x1(2080, 1536)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1536, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        # N x 3 x 299 x 299
        x = self.stem(x)  # N x 320 x 35 x 35
        x = self.inception_resnet_a(x)  # N x 320 x 35 x 35
        x = self.reduction_a(x)  # N x 1088 x 17 x 17
        x = self.inception_resnet_b(x)  # N x 1088 x 17 x 17
        x = self.reduction_b(x)  # N x 2080 x 8 x 8
        x = self.inception_resnet_c(x)  # N x 2080 x 8 x 8
        x = self.conv_7b(x)  # N x 1536 x 8 x 8
        x = self.avgpool(x)  # N x 1536 x 1 x 1
        x = self.dropout(torch.flatten(x, 1))  # N x 1536
        return self.fc(x)  # N x num_classes


@register_model(paper=PAPER, year=2016, variant="Inception-ResNet-v2", input_size=(3, 299, 299), params=55_843_464)
def inception_resnet_v2(*, num_classes: int = 1000, dropout: float = 0.2) -> InceptionResNetV2:
    """Inception-ResNet-v2 at 299×299 in the layout of Google's released checkpoint.

    The paper's figures cannot be built literally: Fig. 17's residual projection outputs 1154
    channels and Fig. 19's 2048, while the blocks they are added to carry 1152 and 2144
    (Reduction-A with Table 1's k=256, l=256, m=384, n=384 on Fig. 3's 384-channel stem gives
    1152; Fig. 18's Reduction-B then gives 2144). This model therefore follows the released
    network (TF-slim ``inception_resnet_v2``, the one behind the ~55.8M parameters quoted
    everywhere). Deviations from the paper:

    - Stem: not Fig. 3 but Inception-v3's stem (convs 32, 32, 64, max pool, 1×1 80, 3×3 192,
      max pool) followed by a mixed 35×35 block (1×1 96; 1×1 48 → 5×5 64; 1×1 64 → 3×3 96 →
      3×3 96; avg pool → 1×1 64), giving 320 channels instead of 384.
    - Block counts 10 / 20 / 10 instead of Fig. 15's 5 / 10 / 5.
    - Widths: the residual streams are 320, 1088 (= 320 + 384 + 384 after Reduction-A) and
      2080 (= 1088 + 384 + 288 + 320 after Reduction-B); each block's linear 1×1 projection
      outputs that width. The branch widths themselves are exactly Figs. 16, 17, 18 and 19.
    - Residual scales 0.17 / 0.10 / 0.20 (section 3.3 suggests 0.1–0.3; these are the
      released values). The last C block has scale 1.0 and no ReLU, as released.
    - A 1×1 conv 2080 → 1536 (with BN and ReLU) before the average pool, not in Fig. 15.
    - BN (eps 0.001, learned scale and shift) follows every conv except the residual
      projections, which are plain convs with bias (the paper: BN "only on top of the
      traditional layers, but not on top of the summations"). TF-slim learns BN's shift only.
    - Dropout keeps 0.8 (p = 0.2); the final pool is adaptive (8×8 at 299×299); average pools
      exclude padding (TF "SAME"); the classifier has ``num_classes`` outputs (1000, not
      TF-slim's 1001).
    """
    return InceptionResNetV2(num_classes=num_classes, dropout=dropout)

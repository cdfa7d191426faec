"""Inception-v3 in torchvision's layout (Szegedy et al. 2015, arXiv:1512.00567).

Module names follow torchvision (``Conv2d_1a_3x3`` … ``Mixed_7c``, ``AuxLogits``, ``fc``) so
that per-layer reports line up with torchvision's and with its pretrained checkpoints. The
shared :class:`BasicConv2d` (conv without bias → BN → ReLU) is also used by Inception-v4 and
Inception-ResNet-v2.

Spatial sizes below are for the default 299×299 input.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from archstat.registry import register_model

IntOrPair = int | tuple[int, int]


class BasicConv2d(nn.Module):
    """Conv (no bias) → BatchNorm (eps 0.001, as TF's Inception checkpoints) → ReLU."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrPair,
        *,
        stride: IntOrPair = 1,
        padding: IntOrPair = 0,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


def conv1x7(in_channels: int, out_channels: int) -> BasicConv2d:
    """A same-padded 1×7 conv: one half of a factorised 7×7 (paper section 3.2, Fig. 6)."""
    return BasicConv2d(in_channels, out_channels, (1, 7), padding=(0, 3))


def conv7x1(in_channels: int, out_channels: int) -> BasicConv2d:
    """A same-padded 7×1 conv: the other half of a factorised 7×7."""
    return BasicConv2d(in_channels, out_channels, (7, 1), padding=(3, 0))


def conv1x3(in_channels: int, out_channels: int) -> BasicConv2d:
    """A same-padded 1×3 conv (the expanded filter bank of paper Fig. 7)."""
    return BasicConv2d(in_channels, out_channels, (1, 3), padding=(0, 1))


def conv3x1(in_channels: int, out_channels: int) -> BasicConv2d:
    """A same-padded 3×1 conv (the expanded filter bank of paper Fig. 7)."""
    return BasicConv2d(in_channels, out_channels, (3, 1), padding=(1, 0))


def avg_pool_3x3(x: Tensor) -> Tensor:
    """The same-padded 3×3/1 average pool in front of every Inception pool projection."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)


class InceptionA(nn.Module):
    """35×35 module (paper Fig. 5): the 5×5 of Inception-v1 kept as torchvision does (see model)."""

    def __init__(self, in_channels: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 64, 1)
        self.branch5x5_1 = BasicConv2d(in_channels, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(in_channels, pool_features, 1)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(avg_pool_3x3(x))
        return torch.cat([b1, b5, b3, bp], 1)  # N x (224 + pool_features) x 35 x 35


class InceptionB(nn.Module):
    """Grid reduction 35 → 17 (paper Fig. 10): stride-2 convs beside a stride-2 max pool."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(in_channels, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3(x)
        b3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, b3dbl, bp], 1)  # N x (480 + in_channels) x 17 x 17


class InceptionC(nn.Module):
    """17×17 module with 7×7 convs factorised into 1×7 and 7×1 (paper Fig. 6, n = 7)."""

    def __init__(self, in_channels: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(in_channels, 192, 1)
        self.branch7x7_1 = BasicConv2d(in_channels, c7, 1)
        self.branch7x7_2 = conv1x7(c7, c7)
        self.branch7x7_3 = conv7x1(c7, 192)
        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, 1)
        self.branch7x7dbl_2 = conv7x1(c7, c7)
        self.branch7x7dbl_3 = conv1x7(c7, c7)
        self.branch7x7dbl_4 = conv7x1(c7, c7)
        self.branch7x7dbl_5 = conv1x7(c7, 192)
        self.branch_pool = BasicConv2d(in_channels, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b7dbl = self.branch7x7dbl_1(x)
        for conv in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            b7dbl = conv(b7dbl)
        bp = self.branch_pool(avg_pool_3x3(x))
        return torch.cat([b1, b7, b7dbl, bp], 1)  # N x 768 x 17 x 17


class InceptionD(nn.Module):
    """Grid reduction 17 → 8: stride-2 3×3 convs (one after a factorised 7×7) and a max pool."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_channels, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_channels, 192, 1)
        self.branch7x7x3_2 = conv1x7(192, 192)
        self.branch7x7x3_3 = conv7x1(192, 192)
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for conv in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = conv(b7)
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, b7, bp], 1)  # N x 1280 x 8 x 8


class InceptionE(nn.Module):
    """8×8 module with expanded 1×3 / 3×1 filter banks (paper Fig. 7)."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 320, 1)
        self.branch3x3_1 = BasicConv2d(in_channels, 384, 1)
        self.branch3x3_2a = conv1x3(384, 384)
        self.branch3x3_2b = conv3x1(384, 384)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = conv1x3(384, 384)
        self.branch3x3dbl_3b = conv3x1(384, 384)
        self.branch_pool = BasicConv2d(in_channels, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        b3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        b3dbl = torch.cat([self.branch3x3dbl_3a(b3dbl), self.branch3x3dbl_3b(b3dbl)], 1)
        bp = self.branch_pool(avg_pool_3x3(x))
        return torch.cat([b1, b3, b3dbl, bp], 1)  # N x 2048 x 8 x 8


class InceptionAux(nn.Module):
    """Auxiliary classifier on the 17×17 grid (paper section 4 and Fig. 8)."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.conv0 = BasicConv2d(in_channels, 128, 1)
        self.conv1 = BasicConv2d(128, 768, 5)
        self.fc = nn.Linear(768, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = F.avg_pool2d(x, kernel_size=5, stride=3)  # N x 768 x 5 x 5
        x = self.conv1(self.conv0(x))  # N x 768 x 1 x 1
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))  # N x num_classes


class InceptionOutputs(NamedTuple):
    """What a training-mode forward returns when the auxiliary classifier is built."""

    logits: Tensor
    aux_logits: Tensor


class Inception3(nn.Module):
    """Inception-v3 (paper Table 1) with torchvision's module names."""

    def __init__(self, *, num_classes: int = 1000, aux_logits: bool = True, dropout: float = 0.5) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.AuxLogits: InceptionAux | None = InceptionAux(768, num_classes) if aux_logits else None
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x: Tensor) -> Tensor | InceptionOutputs:
        # N x 3 x 299 x 299
        x = self.Conv2d_1a_3x3(x)  # N x 32 x 149 x 149
        x = self.Conv2d_2a_3x3(x)  # N x 32 x 147 x 147
        x = self.Conv2d_2b_3x3(x)  # N x 64 x 147 x 147
        x = self.maxpool1(x)  # N x 64 x 73 x 73
        x = self.Conv2d_3b_1x1(x)  # N x 80 x 73 x 73
        x = self.Conv2d_4a_3x3(x)  # N x 192 x 71 x 71
        x = self.maxpool2(x)  # N x 192 x 35 x 35
        x = self.Mixed_5b(x)  # N x 256 x 35 x 35
        x = self.Mixed_5c(x)  # N x 288 x 35 x 35
        x = self.Mixed_5d(x)  # N x 288 x 35 x 35
        x = self.Mixed_6a(x)  # N x 768 x 17 x 17
        x = self.Mixed_6b(x)  # N x 768 x 17 x 17
        x = self.Mixed_6c(x)  # N x 768 x 17 x 17
        x = self.Mixed_6d(x)  # N x 768 x 17 x 17
        x = self.Mixed_6e(x)  # N x 768 x 17 x 17
        aux = self.AuxLogits(x) if self.AuxLogits is not None and self.training else None
        x = self.Mixed_7a(x)  # N x 1280 x 8 x 8
        x = self.Mixed_7b(x)  # N x 2048 x 8 x 8
        x = self.Mixed_7c(x)  # N x 2048 x 8 x 8
        x = self.avgpool(x)  # N x 2048 x 1 x 1
        x = self.dropout(torch.flatten(x, 1))  # N x 2048
        x = self.fc(x)  # N x num_classes
        return x if aux is None else InceptionOutputs(x, aux)


@register_model(
    paper="Szegedy et al. 2015, 'Rethinking the Inception Architecture for Computer Vision', "
    "arXiv:1512.00567",
    year=2015,
    variant="Inception-v3",
    input_size=(3, 299, 299),
    top1=77.294,
    params=27_161_264,
)
def inception_v3(*, num_classes: int = 1000, aux_logits: bool = True, dropout: float = 0.5) -> Inception3:
    """Inception-v3 at 299×299 in torchvision's layout, with the auxiliary classifier on 17×17.

    Deviations from the paper, all shared with torchvision (whose counts this model matches):

    - The 35×35 modules keep a 1×1 → 5×5 branch (48 → 64) beside the double 3×3 branch; the
      paper (Fig. 5) replaces every 5×5 by two 3×3s. Their pool projections are 32/64/64.
    - Stem: paper Table 1 ends the stem with three 3×3 convs (→ 80, → 192 stride 2, → 288)
      so the first 35×35 module sees 288 channels; this model (Google's released graph) uses
      a 1×1 conv to 80, a valid 3×3 conv to 192 and a 3×3/2 max pool, so ``Mixed_5b`` sees 192.
    - Table 1 lists 3 / 5 / 2 modules on the 35 / 17 / 8 grids; here the 17×17 stage is the
      reduction ``Mixed_6a`` followed by four modules ``Mixed_6b``–``Mixed_6e`` (widths of the
      7×7 bottleneck 128, 160, 160, 192), and the 8×8 stage is ``Mixed_7a`` then two modules.
    - The 17 → 8 reduction (``Mixed_7a``) uses a 1×1 → 3×3/2 branch and a 1×1 → 1×7 → 7×1 →
      3×3/2 branch plus max pool, as the released model; the paper only sketches Fig. 10.
    - The auxiliary head is avg pool 5×5/3 → 1×1 conv 128 → 5×5 conv 768 → linear, the convs with BN
      (the paper's "BN-auxiliary"); it runs only in training mode, where the forward returns
      ``InceptionOutputs(logits, aux_logits)``. In eval mode the forward returns the logits
      only, so eval-mode MACs exclude the head while parameter counts include it.
    - Dropout before the classifier is p = 0.5 (keep 0.5, torchvision's choice; the paper
      does not give a rate for v3). BN uses eps = 0.001.
    - torchvision's ``transform_input`` (re-normalising ImageNet inputs to [-1, 1]) and
      ``init_weights`` options are omitted: they cost no parameters and no MACs. Weights use
      PyTorch's default initialisation, not a truncated normal.
    - Label smoothing and RMSProp (paper sections 7–8) are training choices, not architecture.
    """
    return Inception3(num_classes=num_classes, aux_logits=aux_logits, dropout=dropout)

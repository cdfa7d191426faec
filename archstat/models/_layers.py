"""Small layer helpers shared by the classic zoo families (not a zoo module: no registrations)."""

from __future__ import annotations

from torch import nn


def lrn(*, k: float = 2.0) -> nn.LocalResponseNorm:
    """AlexNet's local response normalisation across 5 maps (α = 1e-4, β = 0.75, k = 2 by default).

    PyTorch, like Caffe, divides α by the window size inside the sum; α = 1e-4 is the value
    of Caffe's reference AlexNet/GoogLeNet models. The paper's formula has no such division,
    so its exact numerics would need α = 5e-4 here (shapes, parameters and MACs are unaffected).
    """
    return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=k)


class ConvAct(nn.Sequential):
    """Conv2d, optional BatchNorm2d, optional ReLU: children named ``conv``, ``bn``, ``relu``.

    ``padding`` defaults to ``kernel_size // 2`` ("same" for odd kernels at stride 1).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        stride: int = 1,
        padding: int | None = None,
        bias: bool = True,
        bn: bool = False,
        relu: bool = True,
    ) -> None:
        super().__init__()
        pad = kernel_size // 2 if padding is None else padding
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=pad, bias=bias)
        if bn:
            self.bn = nn.BatchNorm2d(out_channels)
        if relu:
            self.relu = nn.ReLU(inplace=True)


class BnReluConv(nn.Sequential):
    """Pre-activation unit (DenseNet): BatchNorm2d, ReLU, bias-free conv (``norm``, ``relu``, ``conv``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False)

"""Small layer helpers shared by the classic zoo families (not a zoo module: no registrations)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


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


class StochasticDepth(nn.Module):
    """Stochastic depth per sample ("row" mode, Huang et al. 2016): in training, drop a residual
    branch's output for each sample with probability ``p`` and scale the survivors by 1 / (1 − p);
    in eval, the identity. No parameters, so it changes no count."""

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"drop probability must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        keep = torch.empty((x.shape[0],) + (1,) * (x.dim() - 1), dtype=x.dtype, device=x.device)
        keep.bernoulli_(survival)
        return x * (keep / survival if survival > 0.0 else keep)

    def extra_repr(self) -> str:
        return f"p={self.p}"

"""The model of the growth and memory benchmarks: a plain stack of residual blocks, built on meta."""

from __future__ import annotations

import torch
from torch import Tensor, nn

CHANNELS = 64
INPUT = (1, CHANNELS, 32, 32)


class Block(nn.Module):
    """conv-BN-ReLU, conv-BN, identity shortcut, ReLU: four leaf modules and an add per conv pair."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu2 = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.relu2(self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x))))) + x)


def residual_stack(blocks: int, channels: int = CHANNELS) -> nn.Sequential:
    """`blocks` residual blocks in a Sequential, on the meta device (3,000 blocks would hold 0.9 GB
    of float32 weights on the cpu; the analysis runs on meta either way)."""
    with torch.device("meta"):
        return nn.Sequential(*(Block(channels) for _ in range(blocks)))


def module_count(model: nn.Module) -> int:
    """Modules in the model, itself included (the rows of its analysis)."""
    return sum(1 for _ in model.modules())

"""ConvNeXt (Liu et al. 2022, arXiv:2201.03545).

"A ConvNet for the 2020s".

ConvNeXt-T in torchvision's layout: ``features`` alternates stages and down-sampling layers:
the "patchify" stem (4×4/4 conv + LayerNorm), stage 1, down-sample (LayerNorm + 2×2/2 conv),
stage 2, ..., stage 4; ``classifier`` is LayerNorm, flatten and a linear layer after a global
average pool. A block is a 7×7 depthwise conv, LayerNorm, a 4× inverted bottleneck of two
pointwise layers with GELU between, a learnt per-channel scale (layer scale) and stochastic
depth on the residual branch. The pointwise layers are ``nn.Linear`` on a channels-last view
(``Permute``), as in the authors' code, so the parameters are those of 1×1 convs with bias.

Deviations from the paper's figure 4 / section 2, all torchvision's (and the authors' code's):
- ``LayerNorm2d`` (channels-first LayerNorm: permute to NHWC, normalise over C, permute back)
  in the stem, the down-sampling layers and the head, and a channels-last ``nn.LayerNorm`` in
  the blocks; every LayerNorm has eps 1e-6;
- layer scale initialised to 1e-6 (the paper's appendix A.1 setting);
- stochastic depth 0.1 for ConvNeXt-T (appendix A.1), its probability growing linearly from 0
  at the first block to 0.1 at the last (identity in eval);
- the head's LayerNorm runs after the pool, on N × C × 1 × 1 (the authors normalise the pooled
  vector: the same numbers); weights keep PyTorch's default initialisation (the authors' code
  uses a truncated normal, std 0.02, which changes no count).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from archstat.models._layers import StochasticDepth
from archstat.registry import register_model

PAPER = "Liu et al. 2022, arXiv:2201.03545"

# public name -> (channels per stage, blocks per stage, stochastic depth); the paper's section 2.6
CONVNEXTS: dict[str, tuple[tuple[int, ...], tuple[int, ...], float]] = {
    "convnext_tiny": ((96, 192, 384, 768), (3, 3, 9, 3), 0.1),
}


class Permute(nn.Module):
    """``x.permute(*dims)`` as a module (the NCHW ↔ NHWC switches inside a block)."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(*self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an N × C × H × W map (per pixel), through an NHWC view."""

    def forward(self, x: Tensor) -> Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """7×7 depthwise conv, LN, linear to 4C, GELU, linear to C, layer scale; residual via stochastic depth."""

    def __init__(self, channels: int, layer_scale: float, drop_prob: float) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size=7, padding=3, groups=channels),  # N x C x H x W
            Permute((0, 2, 3, 1)),  # N x H x W x C
            nn.LayerNorm(channels, eps=1e-6),
            nn.Linear(channels, 4 * channels),  # N x H x W x 4C
            nn.GELU(),
            nn.Linear(4 * channels, channels),
            Permute((0, 3, 1, 2)),  # N x C x H x W
        )
        self.layer_scale = nn.Parameter(torch.full((channels, 1, 1), layer_scale))
        self.stochastic_depth = StochasticDepth(drop_prob)

    def forward(self, x: Tensor) -> Tensor:
        return self.stochastic_depth(self.layer_scale * self.block(x)) + x


class ConvNeXt(nn.Module):
    """Patchify stem, four stages of CNBlocks with LN + 2×2/2 conv between them, pool, LN, linear."""

    def __init__(self, widths: tuple[int, ...], depths: tuple[int, ...], *, num_classes: int = 1000,
                 stochastic_depth_prob: float = 0.1, layer_scale: float = 1e-6) -> None:
        super().__init__()
        stem = nn.Sequential(nn.Conv2d(3, widths[0], kernel_size=4, stride=4),  # N x 96 x 56 x 56
                             LayerNorm2d(widths[0], eps=1e-6))
        layers: list[nn.Module] = [stem]
        total_blocks, index = sum(depths), 0
        for stage, (width, depth) in enumerate(zip(widths, depths, strict=True)):
            blocks = []
            for _ in range(depth):
                drop = stochastic_depth_prob * index / (total_blocks - 1.0)
                blocks.append(CNBlock(width, layer_scale, drop))
                index += 1
            layers.append(nn.Sequential(*blocks))
            if stage + 1 < len(widths):  # halve the map, double the width
                layers.append(nn.Sequential(LayerNorm2d(width, eps=1e-6),
                                            nn.Conv2d(width, widths[stage + 1], kernel_size=2, stride=2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(LayerNorm2d(widths[-1], eps=1e-6), nn.Flatten(1),
                                        nn.Linear(widths[-1], num_classes))

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)  # N x 768 x 7 x 7
        x = self.avgpool(x)  # N x 768 x 1 x 1
        return self.classifier(x)  # N x num_classes


@register_model(paper=PAPER, year=2022, variant="ConvNeXt-T", top1=82.520, params=28_589_128)
def convnext_tiny(*, num_classes: int = 1000, stochastic_depth_prob: float | None = None) -> ConvNeXt:
    """ConvNeXt-T (paper section 2.6, 224×224), torchvision layout; deviations in the module's notes."""
    widths, depths, drop = CONVNEXTS["convnext_tiny"]
    return ConvNeXt(widths, depths, num_classes=num_classes,
                    stochastic_depth_prob=drop if stochastic_depth_prob is None else stochastic_depth_prob)

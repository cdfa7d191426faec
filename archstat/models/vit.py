"""Vision Transformer (Dosovitskiy et al. 2020, arXiv:2010.11929).

"An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale".

ViT-B/16 in torchvision's layout: ``conv_proj`` embeds each 16×16 patch (a 16×16/16 conv, the
paper's linear projection of flattened patches), a learnt ``class_token`` is prepended, the
``encoder`` adds a learnt 1-D position embedding and runs 12 pre-norm blocks (LayerNorm,
multi-head self-attention, residual; LayerNorm, GELU MLP, residual) and a final LayerNorm;
``heads`` maps the class token to the classes (paper equations 1–4).

Self-attention is written out here (one fused q/k/v projection, then
``F.scaled_dot_product_attention``, then the output projection) instead of using
``nn.MultiheadAttention``, whose inference fast path is a single fused op that other counters
cannot see into; its parameters keep ``nn.MultiheadAttention``'s names and shapes
(``in_proj_weight``, ``in_proj_bias``, ``out_proj``), so the state dict is torchvision's.

Deviations from the paper, all torchvision's:
- no pre-logits layer: the head is one linear layer (the paper's fine-tuning setting; its
  pre-training head has a hidden layer);
- LayerNorm eps 1e-6; dropout and attention dropout 0 by default;
- the class token starts at zero and the position embedding from N(0, 0.02²); other weights
  keep PyTorch's default initialisation (torchvision zero-initialises the head), which changes
  no count;
- torchvision's weights were trained on ImageNet-1k alone with its own recipe, not pre-trained
  on ImageNet-21k or JFT as in the paper's headline results.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from archstat.registry import register_model, with_input_size

PAPER = "Dosovitskiy et al. 2020, arXiv:2010.11929"

# public name -> (patch size, layers, hidden width D, MLP width, heads); the paper's table 1
VITS: dict[str, tuple[int, int, int, int, int]] = {
    "vit_b_16": (16, 12, 768, 3072, 12),
}


class SelfAttention(nn.Module):
    """Multi-head self-attention with ``nn.MultiheadAttention``'s parameters (batch first, no mask)."""

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"width {dim} is not a multiple of {num_heads} heads")
        self.num_heads = num_heads
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: Tensor) -> Tensor:
        n, length, dim = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)  # N x L x 3D
        qkv = qkv.view(n, length, 3, self.num_heads, dim // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each N x heads x L x D/heads
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.out_proj(out.transpose(1, 2).reshape(n, length, dim))  # N x L x D


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: x + MSA(LN(x)), then x + MLP(LN(x)) (paper equations 2–3)."""

    def __init__(self, dim: int, mlp_dim: int, num_heads: int, dropout: float, attention_dropout: float) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim, eps=1e-6)
        self.self_attention = SelfAttention(dim, num_heads, attention_dropout)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(dim, eps=1e-6)
        # indices 0-4 as torchvision's MLPBlock
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp_dim, dim),
                                 nn.Dropout(dropout))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.dropout(self.self_attention(self.ln_1(x)))
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Position embedding, dropout, the blocks (``encoder_layer_0`` ...), final LayerNorm."""

    def __init__(self, seq_length: int, depth: int, dim: int, mlp_dim: int, num_heads: int, dropout: float,
                 attention_dropout: float) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, dim).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(dim, mlp_dim, num_heads, dropout, attention_dropout))
            for i in range(depth)
        ))
        self.ln = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x: Tensor) -> Tensor:
        return self.ln(self.layers(self.dropout(x + self.pos_embedding)))


class VisionTransformer(nn.Module):
    """Patch embedding, class token, transformer encoder, linear head on the class token."""

    def __init__(self, patch_size: int, depth: int, dim: int, mlp_dim: int, num_heads: int, *,
                 image_size: int = 224, num_classes: int = 1000, dropout: float = 0.0,
                 attention_dropout: float = 0.0) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"image size {image_size} is not a multiple of the patch size {patch_size}")
        self.patch_size = patch_size
        self.conv_proj = nn.Conv2d(3, dim, kernel_size=patch_size, stride=patch_size)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        seq_length = (image_size // patch_size) ** 2 + 1
        self.encoder = Encoder(seq_length, depth, dim, mlp_dim, num_heads, dropout, attention_dropout)
        self.heads = nn.Sequential(OrderedDict(head=nn.Linear(dim, num_classes)))

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv_proj(x)  # N x 768 x 14 x 14
        x = x.flatten(2).transpose(1, 2)  # N x 196 x 768
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)  # N x 197 x 768
        x = self.encoder(x)
        return self.heads(x[:, 0])  # N x num_classes


@register_model(paper=PAPER, year=2020, variant="ViT-B/16", top1=81.072, params=86_567_656)
def vit_b_16(*, num_classes: int = 1000, image_size: int = 224, dropout: float = 0.0,
             attention_dropout: float = 0.0) -> VisionTransformer:
    """ViT-B/16 (paper table 1, 224×224), torchvision layout; deviations in the module's notes.

    ``image_size`` fixes the length of the position embedding, so the model takes that input only.
    """
    model = VisionTransformer(*VITS["vit_b_16"], image_size=image_size, num_classes=num_classes, dropout=dropout,
                              attention_dropout=attention_dropout)
    return model if image_size == 224 else with_input_size(model, 3, image_size, image_size)

"""A small language model as an engineer would bring it: token ids and an attention mask in,
logits out; and a function that returns example inputs (for `archstat summary ... --inputs`).

TinyLM(vocab=1000, dim=64, ffn=256): embedding 64,000 + attention 4 x (64x64 + 64) = 16,640 +
feed-forward 64x256 + 256 + 256x64 + 64 = 33,088 + two layer norms 256 + head 64x1000 + 1000 =
65,000: 178,984 parameters.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class TinyLM(nn.Module):
    """Embedding, one pre-norm transformer block (one head) and a vocabulary head."""

    def __init__(self, vocab: int = 1000, dim: int = 64, ffn: int = 256) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn), nn.GELU(), nn.Linear(ffn, dim))
        self.head = nn.Linear(dim, vocab)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.embed(input_ids)                                   # N x T x dim
        x = self.norm1(h)
        q, k, v = self.q(x), self.k(x), self.v(x)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # N x T x T
        if attention_mask is not None:
            scores = scores + (1.0 - attention_mask[:, None, :].to(scores.dtype)) * -1e4
        h = h + self.o(scores.softmax(-1) @ v)
        h = h + self.ffn(self.norm2(h))
        return self.head(h)                                         # N x T x vocab


def example_inputs() -> dict[str, torch.Tensor]:
    """A batch of 2 sequences of 16 tokens, the second padded after 10 (keyword arguments)."""
    ids = torch.arange(32).reshape(2, 16) % 1000
    mask = torch.ones(2, 16, dtype=torch.int64)
    mask[1, 10:] = 0
    return {"input_ids": ids, "attention_mask": mask}

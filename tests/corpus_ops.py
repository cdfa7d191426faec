"""User-style models built from plain torch.nn, for the op-coverage tests (tests/test_ops_corpus.py).

Each model takes one float tensor (the shape beside it in `CORPUS`) and meets the cheap ops that
language, vision-transformer, segmentation and recurrent models use: comparisons and masks,
trigonometric functions, cumulative and sorting ops, gathers and scatters, embeddings,
interpolation, pixel shuffle, grid sampling, rolls and window partitions. Token ids are made
inside the model from positions, so the same model runs on meta and on cpu.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _ids(x: Tensor, vocab: int) -> Tensor:
    """Token ids 0, 1, ... along the sequence, one row per batch element (valid on any device)."""
    batch, length = x.shape[0], x.shape[1]
    return (torch.arange(length, device=x.device) % vocab).expand(batch, length)


class GPT2Like(nn.Module):
    """Token and position embeddings, pre-norm blocks with a causal mask buffer, tanh GELU, tied head."""

    def __init__(self, vocab: int = 50, dim: int = 32, heads: int = 4, layers: int = 2, context: int = 16) -> None:
        super().__init__()
        self.vocab, self.heads = vocab, heads
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(context, dim)
        self.register_buffer("causal", torch.tril(torch.ones(context, context)).view(1, 1, context, context))
        self.blocks = nn.ModuleList(nn.ModuleDict({
            "ln1": nn.LayerNorm(dim), "qkv": nn.Linear(dim, 3 * dim), "proj": nn.Linear(dim, dim),
            "ln2": nn.LayerNorm(dim), "fc": nn.Linear(dim, 4 * dim), "out": nn.Linear(4 * dim, dim),
        }) for _ in range(layers))
        self.ln = nn.LayerNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        ids = _ids(x, self.vocab)
        b, t = ids.shape
        h = self.tok(ids) + self.pos(torch.arange(t, device=x.device))
        for blk in self.blocks:
            q, k, v = blk["qkv"](blk["ln1"](h)).split(h.shape[-1], dim=2)
            q, k, v = (z.view(b, t, self.heads, -1).transpose(1, 2) for z in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.shape[-1]))
            att = att.masked_fill(self.causal[:, :, :t, :t] == 0, float("-inf")).softmax(dim=-1)
            h = h + blk["proj"]((att @ v).transpose(1, 2).contiguous().view(b, t, -1))
            h = h + blk["out"](F.gelu(blk["fc"](blk["ln2"](h)), approximate="tanh"))
        return self.ln(h) @ self.tok.weight.t()


class T5Like(nn.Module):
    """Relative-position buckets (abs, log, comparisons, where, min), RMS norm by hand, gated GELU."""

    def __init__(self, vocab: int = 50, dim: int = 32, heads: int = 4, buckets: int = 8) -> None:
        super().__init__()
        self.vocab, self.heads, self.buckets = vocab, heads, buckets
        self.embed = nn.Embedding(vocab, dim)
        self.bias = nn.Embedding(buckets, heads)
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim, bias=False) for _ in range(4))
        self.norm = nn.Parameter(torch.ones(dim))
        self.wi0, self.wi1 = nn.Linear(dim, 2 * dim, bias=False), nn.Linear(dim, 2 * dim, bias=False)
        self.wo = nn.Linear(2 * dim, dim, bias=False)

    def rms(self, h: Tensor) -> Tensor:
        return self.norm * (h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6))

    def bucket(self, length: int, device: torch.device) -> Tensor:
        pos = torch.arange(length, device=device)
        rel = pos[None, :] - pos[:, None]
        half = self.buckets // 2
        out = (rel > 0).to(torch.long) * half
        rel = torch.abs(rel)
        exact = half // 2
        is_small = rel < exact
        large = exact + (torch.log(rel.float() / exact) / math.log(16 / exact) * (half - exact)).to(torch.long)
        large = torch.min(large, torch.full_like(large, half - 1))
        return out + torch.where(is_small, rel, large)

    def forward(self, x: Tensor) -> Tensor:
        ids = _ids(x, self.vocab)
        b, t = ids.shape
        h = self.embed(ids)
        n = self.rms(h)
        q, k, v = (m(n).view(b, t, self.heads, -1).transpose(1, 2) for m in (self.q, self.k, self.v))
        bias = self.bias(self.bucket(t, x.device)).permute(2, 0, 1).unsqueeze(0)
        att = torch.softmax(q @ k.transpose(-1, -2) + bias, dim=-1)
        h = h + self.o((att @ v).transpose(1, 2).reshape(b, t, -1))
        n = self.rms(h)
        return h + self.wo(F.gelu(self.wi0(n)) * self.wi1(n))


class LlamaLike(nn.Module):
    """nn.RMSNorm, rotary embeddings (cos, sin), grouped-query SDPA with is_causal, SiLU-gated MLP."""

    def __init__(self, vocab: int = 50, dim: int = 32, heads: int = 4, kv_heads: int = 2) -> None:
        super().__init__()
        self.vocab, self.heads, self.kv_heads, self.head_dim = vocab, heads, kv_heads, dim // heads
        self.embed = nn.Embedding(vocab, dim)
        self.norm1, self.norm2 = nn.RMSNorm(dim), nn.RMSNorm(dim)
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(dim, 2 * kv_heads * self.head_dim, bias=False)
        self.o = nn.Linear(dim, dim, bias=False)
        self.gate, self.up = nn.Linear(dim, 64, bias=False), nn.Linear(dim, 64, bias=False)
        self.down = nn.Linear(64, dim, bias=False)

    def rotate(self, z: Tensor) -> Tensor:
        t, d = z.shape[-2], z.shape[-1]
        inv = 1.0 / (10000 ** (torch.arange(0, d, 2, device=z.device).float() / d))
        angles = torch.outer(torch.arange(t, device=z.device).float(), inv)
        cos, sin = torch.cat((angles, angles), -1).cos(), torch.cat((angles, angles), -1).sin()
        a, b = z.chunk(2, dim=-1)
        return z * cos + torch.cat((-b, a), dim=-1) * sin

    def forward(self, x: Tensor) -> Tensor:
        ids = _ids(x, self.vocab)
        bsz, t = ids.shape
        h = self.embed(ids)
        n = self.norm1(h)
        q = self.q(n).view(bsz, t, self.heads, -1).transpose(1, 2)
        k, v = self.kv(n).view(bsz, t, 2 * self.kv_heads, -1).transpose(1, 2).chunk(2, dim=1)
        q, k = self.rotate(q), self.rotate(k)
        repeat = self.heads // self.kv_heads
        k, v = k.repeat_interleave(repeat, dim=1), v.repeat_interleave(repeat, dim=1)
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        h = h + self.o(att.transpose(1, 2).reshape(bsz, t, -1))
        n = self.norm2(h)
        return h + self.down(F.silu(self.gate(n)) * self.up(n))


class SwinLike(nn.Module):
    """Patch embedding, cyclic shift (roll), window partition, shifted-window mask, relative bias."""

    def __init__(self, dim: int = 16, window: int = 4, heads: int = 2) -> None:
        super().__init__()
        self.window, self.heads, self.shift = window, heads, window // 2
        self.patch = nn.Conv2d(3, dim, 4, stride=4)
        self.norm = nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + window - 1
        self.register_buffer("index", rel[..., 0] * (2 * window - 1) + rel[..., 1])
        self.head = nn.Linear(dim, 10)

    def partition(self, h: Tensor) -> Tensor:
        b, hh, ww, c = h.shape
        w = self.window
        return h.view(b, hh // w, w, ww // w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, c)

    def mask(self, hh: int, ww: int, device: torch.device) -> Tensor:
        img = torch.zeros((1, hh, ww, 1), device=device)
        cuts = (slice(0, -self.window), slice(-self.window, -self.shift), slice(-self.shift, None))
        count = 0
        for hs in cuts:
            for ws in cuts:
                img[:, hs, ws, :] = count
                count += 1
        windows = self.partition(img).squeeze(-1)
        diff = windows.unsqueeze(1) - windows.unsqueeze(2)
        return diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)

    def forward(self, x: Tensor) -> Tensor:
        h = self.norm(self.patch(x).permute(0, 2, 3, 1))
        b, hh, ww, c = h.shape
        shifted = torch.roll(h, shifts=(-self.shift, -self.shift), dims=(1, 2))
        win = self.partition(shifted)
        q, k, v = self.qkv(win).reshape(win.shape[0], win.shape[1], 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        bias = self.table[self.index.view(-1)].view(self.window ** 2, self.window ** 2, -1).permute(2, 0, 1)
        att = (q @ k.transpose(-2, -1)) + bias.unsqueeze(0)
        nw = att.shape[0] // b
        att = att.view(b, nw, self.heads, *att.shape[-2:]) + self.mask(hh, ww, x.device).unsqueeze(1).unsqueeze(0)
        out = self.proj((att.view(-1, self.heads, *att.shape[-2:]).softmax(-1) @ v).transpose(1, 2).reshape(win.shape))
        out = out.view(b, hh // self.window, ww // self.window, self.window, self.window, c)
        out = out.permute(0, 1, 3, 2, 4, 5).reshape(b, hh, ww, c)
        out = torch.roll(out, shifts=(self.shift, self.shift), dims=(1, 2))
        return self.head((h + out).mean(dim=(1, 2)))


class Segmenter(nn.Module):
    """Encoder, bilinear and nearest upsampling back to the input size, pixel shuffle, argmax."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                                 nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.cls = nn.Conv2d(16, 4, 1)
        self.sub = nn.Conv2d(16, 4 * 4, 1)
        self.pool = nn.AdaptiveAvgPool2d((3, 3))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        f = self.enc(x)
        logits = F.interpolate(self.cls(f), size=x.shape[-2:], mode="bilinear", align_corners=False)
        shuffled = F.pixel_shuffle(self.sub(f), 2)
        near = F.interpolate(self.pool(f), scale_factor=2, mode="nearest")
        bicubic = F.interpolate(f[:, :2], scale_factor=2, mode="bicubic", align_corners=True)
        return logits.argmax(dim=1), shuffled + F.pixel_unshuffle(shuffled, 1), near, bicubic


class SpatialTransformer(nn.Module):
    """affine_grid + grid_sample, trilinear and linear interpolation, eye."""

    def __init__(self) -> None:
        super().__init__()
        self.loc = nn.Linear(3 * 8 * 8, 6)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        theta = self.loc(F.adaptive_avg_pool2d(x, 8).flatten(1)).view(-1, 2, 3)
        theta = theta + torch.eye(2, 3, device=x.device)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        warped = F.grid_sample(x, grid, align_corners=False)
        volume = F.interpolate(warped.unsqueeze(2), scale_factor=(2, 1, 1), mode="trilinear")
        line = F.interpolate(warped.flatten(2), scale_factor=2, mode="linear")
        return warped, volume, line


class Ranking(nn.Module):
    """Cumulative and sorting ops, gathers and scatters, embedding bag, comparisons, erf, trig."""

    def __init__(self, dim: int = 16, vocab: int = 40) -> None:
        super().__init__()
        self.vocab = vocab
        self.fc = nn.Linear(dim, dim)
        self.bag = nn.EmbeddingBag(vocab, dim, mode="mean")

    def forward(self, x: Tensor) -> Tensor:
        h = self.fc(x)                                             # B x N x D
        values, order = h.sort(dim=-1, descending=True)
        top, where = h.topk(4, dim=-1)
        picked = h.gather(-1, where) + top + values[..., :4]
        biggest, at = h.max(dim=-1)
        smallest, _ = h.min(dim=-1)
        arg = h.argmin(dim=-1) + h.argmax(dim=-1) + at + order[..., 0]
        run = h.cumsum(-1) + h.cumprod(-1) + torch.erf(h) + torch.sin(h) * torch.cos(h) + torch.exp(h).log()
        scattered = torch.zeros_like(h).scatter(-1, where, top).scatter_add(-1, where, top)
        scattered = scattered.index_add(1, torch.arange(2, device=x.device), h[:, :2])
        selected = h.index_select(1, arg[0] % h.shape[1])
        masks = (h > 0) & (h <= 1) | (h < -1) ^ (h >= 2) | ~(h == 0) & (h != 1)
        run = torch.where(masks.logical_and(h.ne(0)).logical_or(h.eq(2)), run, -run)
        ids = _ids(x.flatten(1), self.vocab)[:, : self.vocab]
        bag = self.bag(ids)
        tri = torch.tril(h) + torch.triu(h, diagonal=1) + h.pow(2).sqrt() + h.sigmoid().erfinv()
        out = run + scattered + selected + tri + torch.atan2(h, h + 1) + torch.sign(h) * h.tan()
        return out.sum(-1) + picked.sum(-1) + biggest + smallest + arg + bag.sum(-1, keepdim=True)


class SelfAttention(nn.Module):
    """nn.MultiheadAttention as self-attention, returning the averaged weights too (fast path on cpu in eval)."""

    def __init__(self, dim: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        out, weights = self.attn(x, x, x)
        return out, weights


class Seq2Seq(nn.Module):
    """nn.Transformer with a causal target mask; the target is the first 5 source positions."""

    def __init__(self, dim: int = 32) -> None:
        super().__init__()
        self.net = nn.Transformer(dim, 4, 1, 1, 64, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        tgt = x[:, :5]
        mask = nn.Transformer.generate_square_subsequent_mask(5, device=x.device)
        return self.net(x, tgt, tgt_mask=mask, tgt_is_causal=True)


class CausalEncoder(nn.Module):
    """A TransformerEncoder run with a causal mask."""

    def __init__(self, dim: int = 32) -> None:
        super().__init__()
        self.net = nn.TransformerEncoder(nn.TransformerEncoderLayer(dim, 4, 64, batch_first=True), 2,
                                         enable_nested_tensor=False)

    def forward(self, x: Tensor) -> Tensor:
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1], device=x.device)
        return self.net(x, mask=mask, is_causal=True)


class Recurrent(nn.Module):
    """An RNN module with an optional initial state made from zeros."""

    def __init__(self, rnn: nn.RNNBase, initial: bool) -> None:
        super().__init__()
        self.rnn, self.initial = rnn, initial

    def forward(self, x: Tensor) -> Tensor:
        if not self.initial:
            return self.rnn(x)[0]
        layers = self.rnn.num_layers * (2 if self.rnn.bidirectional else 1)
        batch = x.shape[0] if self.rnn.batch_first else x.shape[1]
        h0 = torch.zeros(layers, batch, self.rnn.hidden_size, device=x.device)
        state = (h0, torch.zeros_like(h0)) if isinstance(self.rnn, nn.LSTM) else h0
        return self.rnn(x, state)[0]


def recurrent(kind: type[nn.RNNBase], *, batch_first: bool = False, bidirectional: bool = False, layers: int = 1,
              initial: bool = False, bias: bool = True) -> Recurrent:
    """An RNN of `kind` with 10 inputs and 20 hidden units."""
    rnn = kind(10, 20, num_layers=layers, batch_first=batch_first, bidirectional=bidirectional, bias=bias)
    return Recurrent(rnn, initial)


class Pools(nn.Module):
    """Pools on an unbatched C x H x W map."""

    def __init__(self) -> None:
        super().__init__()
        self.adaptive, self.amax = nn.AdaptiveAvgPool2d((2, 3)), nn.AdaptiveMaxPool2d((2, 3))
        self.max, self.avg = nn.MaxPool2d(2), nn.AvgPool2d(2)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return self.adaptive(x), self.amax(x), self.max(x), self.avg(x)


# name -> (builder, input shape)
CORPUS: dict[str, tuple[type[nn.Module] | object, tuple[int, ...]]] = {
    "gpt2": (GPT2Like, (2, 16)),
    "t5": (T5Like, (2, 12)),
    "llama": (LlamaLike, (2, 12)),
    "swin": (SwinLike, (1, 3, 32, 32)),
    "segmenter": (Segmenter, (1, 3, 32, 32)),
    "spatial": (SpatialTransformer, (2, 3, 16, 16)),
    "ranking": (Ranking, (2, 5, 16)),
    "encoder": (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64, batch_first=True), 2), (2, 7, 32)),
    "causal_encoder": (CausalEncoder, (2, 7, 32)),
    "mha": (SelfAttention, (2, 7, 32)),
    "transformer": (Seq2Seq, (2, 7, 32)),
    "lstm": (lambda: recurrent(nn.LSTM, layers=2, bidirectional=True), (7, 3, 10)),
    "gru": (lambda: recurrent(nn.GRU, batch_first=True, initial=True), (3, 7, 10)),
    "rnn": (lambda: recurrent(nn.RNN, layers=2), (7, 3, 10)),
    "pools": (Pools, (4, 6, 9)),
}

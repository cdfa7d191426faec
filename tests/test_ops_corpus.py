"""Op coverage on user-style models (tests/corpus_ops.py): nothing partial, meta equal to cpu, fused
kernels (RNNs, MultiheadAttention's fast path, SDPA) counted as their decompositions."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils._python_dispatch import TorchDispatchMode

from archstat import analyze
from tests.corpus_ops import CORPUS, Pools, SelfAttention, recurrent


def _both(model: nn.Module, shape: tuple[int, ...]) -> tuple[Any, Any]:
    return analyze(model, shape, device="meta"), analyze(model, shape, device="cpu")


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_is_complete_and_meta_equals_cpu(name: str) -> None:
    build, shape = CORPUS[name]
    torch.manual_seed(0)
    meta, cpu = _both(build(), shape)  # type: ignore[operator]
    assert meta.unsupported == {} and not meta.totals.partial
    assert cpu.unsupported == {} and not cpu.totals.partial
    assert (meta.totals.macs, meta.totals.flops) == (cpu.totals.macs, cpu.totals.flops)
    assert meta.totals.macs > 0 or name == "pools"


class _Ops(TorchDispatchMode):
    """The op packets one forward runs."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[Any] = set()

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.seen.add(func.overloadpacket)
        return func(*args, **(kwargs or {}))


def _ops_on_cpu(model: nn.Module, x: torch.Tensor) -> set[Any]:
    with torch.no_grad(), _Ops() as ops:
        model.eval()(x)
    return ops.seen


# --- recurrent nets -----------------------------------------------------------------------------

_GATES = {nn.LSTM: 4, nn.GRU: 3, nn.RNN: 1}


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU, nn.RNN])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("initial", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_recurrent_macs_closed_form_and_meta_equals_cpu(kind: type[nn.RNNBase], batch_first: bool,
                                                        bidirectional: bool, layers: int, initial: bool,
                                                        bias: bool) -> None:
    steps, batch, inputs, hidden = 6, 3, 10, 20
    model = recurrent(kind, batch_first=batch_first, bidirectional=bidirectional, layers=layers,
                      initial=initial, bias=bias)
    shape = (batch, steps, inputs) if batch_first else (steps, batch, inputs)
    meta, cpu = _both(model, shape)
    directions = 2 if bidirectional else 1
    # Per layer, direction and step: gates × H × (I + H) MACs, I being H × directions above layer 0.
    expected = sum(
        directions * steps * batch * _GATES[kind] * hidden * ((inputs if layer == 0 else hidden * directions) + hidden)
        for layer in range(layers)
    )
    assert meta.totals.macs == cpu.totals.macs == expected
    assert meta.totals.flops == cpu.totals.flops
    assert not meta.totals.partial and not cpu.totals.partial


def test_lstm_on_cpu_runs_the_fused_kernel_and_counts_as_its_decomposition() -> None:
    model = recurrent(nn.LSTM, layers=2, bidirectional=True)
    assert torch.ops.aten.mkldnn_rnn_layer in _ops_on_cpu(model, torch.randn(5, 2, 10))
    meta, cpu = _both(model, (5, 2, 10))
    # Layer 0: 2 directions × 5 steps × 2 batch × 4 × 20 × (10 + 20); layer 1 reads 40 inputs.
    assert cpu.totals.macs == 2 * 5 * 2 * 4 * 20 * 30 + 2 * 5 * 2 * 4 * 20 * 60
    # FLOPs: 2 per MAC, each cell's elementwise work 13 + 8 bias adds per hidden unit and step.
    assert cpu.totals.flops == 2 * cpu.totals.macs + 2 * 2 * 5 * 2 * 20 * 21 == meta.totals.flops


# --- MultiheadAttention's fast path ------------------------------------------------------------


@contextmanager
def _slow_path() -> Iterator[None]:
    was = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(was)


@pytest.mark.parametrize("name", ["mha", "encoder", "causal_encoder"])
def test_multihead_fast_path_counts_as_the_slow_path(name: str) -> None:
    build, shape = CORPUS[name]
    model = build()  # type: ignore[operator]
    fast = analyze(model, shape, device="cpu")
    with _slow_path():
        slow = analyze(model, shape, device="cpu")
    if name == "mha":
        assert torch.ops.aten._native_multi_head_attention in _ops_on_cpu(model, torch.randn(shape))
        with _slow_path():
            assert torch.ops.aten._native_multi_head_attention not in _ops_on_cpu(model, torch.randn(shape))
    assert (fast.totals.macs, fast.totals.flops) == (slow.totals.macs, slow.totals.flops)
    assert not fast.totals.partial and not slow.totals.partial


def test_multihead_attention_closed_form() -> None:
    batch, length, dim, heads = 2, 7, 32, 4
    analysis = analyze(SelfAttention(dim, heads), (batch, length, dim), device="cpu")
    tokens, scores = batch * length, batch * heads * length * length
    # In-projection 3·E², out-projection E² per token; Q·Kᵀ and P·V E/heads per score each.
    macs = tokens * 4 * dim * dim + 2 * scores * (dim // heads)
    assert analysis.totals.macs == macs
    # Biases 4·E per token, q scaled once per element, softmax 3 and the head average 1 per score.
    assert analysis.totals.flops == 2 * macs + tokens * 4 * dim + tokens * dim + 3 * scores + scores


# --- scaled dot-product attention -------------------------------------------------------------


class _SDPA(nn.Module):
    def __init__(self, mask: str, kv_heads: int = 4) -> None:
        super().__init__()
        self.mask, self.kv_heads = mask, kv_heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = v = x[:, : self.kv_heads]
        length = x.shape[-2]
        if self.mask == "causal":
            return F.scaled_dot_product_attention(x, k, v, is_causal=True)
        if self.mask == "float":
            return F.scaled_dot_product_attention(x, k, v, attn_mask=torch.zeros(length, length, device=x.device))
        if self.mask == "bool":
            keep = torch.ones(length, length, dtype=torch.bool, device=x.device)
            return F.scaled_dot_product_attention(x, k, v, attn_mask=keep)
        return F.scaled_dot_product_attention(x, k, v, enable_gqa=self.kv_heads != x.shape[1])


@pytest.mark.parametrize("mask", ["none", "causal", "float", "bool", "gqa"])
def test_sdpa_fused_equals_math_on_meta_and_on_cpu(mask: str) -> None:
    batch, heads, length, dim = 2, 4, 6, 8
    model = _SDPA(mask, 2 if mask == "gqa" else heads)
    shape = (batch, heads, length, dim)
    meta, fused = _both(model, shape)
    with sdpa_kernel(SDPBackend.MATH):
        math_cpu = analyze(model, shape, device="cpu")
    counts = {(a.totals.macs, a.totals.flops) for a in (meta, fused, math_cpu)}
    assert len(counts) == 1 and not any(a.totals.partial for a in (meta, fused, math_cpu))
    scores = batch * heads * length * length
    macs = 2 * scores * dim
    # q and k scaled (k after group expansion), softmax 3 per score; a mask adds 1 per score, a
    # causal one is first made (1 per L·S), a boolean one converted (1 per L·S).
    extra = {"none": 0, "gqa": 0, "float": scores, "bool": scores + length * length,
             "causal": scores + length * length}[mask]
    assert fused.totals.macs == macs
    assert fused.totals.flops == 2 * macs + 2 * batch * heads * length * dim + 3 * scores + extra


# --- pools and resampling -------------------------------------------------------------------------


def test_unbatched_pools_count_every_spatial_axis() -> None:
    meta, cpu = _both(Pools(), (4, 6, 9))
    # Adaptive (2, 3) over 6 x 9: windows of 3 rows x 3 columns, 2 x 3 of them, per channel.
    adaptive = 4 * (2 * 3) * (3 * 3)
    # 2 x 2 windows, output 3 x 4 per channel.
    window = 4 * (3 * 4) * 4
    assert meta.totals.flops == cpu.totals.flops == 2 * adaptive + 2 * window


class _Resample(nn.Module):
    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "grid":
            theta = torch.eye(2, 3, device=x.device).expand(x.shape[0], 2, 3)
            return F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), align_corners=False)
        return F.interpolate(x, scale_factor=2, mode=self.mode)


@pytest.mark.parametrize(("mode", "shape", "per_output"), [
    ("linear", (1, 2, 5), 3), ("bilinear", (1, 2, 5, 4), 7), ("bicubic", (1, 2, 5, 4), 31),
    ("trilinear", (1, 2, 3, 5, 4), 15), ("nearest", (1, 2, 5, 4), 0),
])
def test_interpolation_weighs_its_taps(mode: str, shape: tuple[int, ...], per_output: int) -> None:
    meta, cpu = _both(_Resample(mode), shape)
    outputs = math.prod(shape[:2]) * math.prod(2 * s for s in shape[2:])
    assert meta.totals.flops == cpu.totals.flops == outputs * per_output
    assert not meta.totals.partial


def test_affine_grid_and_grid_sample() -> None:
    batch, channels, h, w = 2, 3, 5, 4
    meta, cpu = _both(_Resample("grid"), (batch, channels, h, w))
    # affine_grid: each of the H·W·2 coordinates is a row of θ times (x, y, 1).
    macs = batch * h * w * 2 * 3
    assert meta.totals.macs == cpu.totals.macs == macs
    # grid_sample bilinear: 4 multiplies + 3 adds per output element.
    assert meta.totals.flops == cpu.totals.flops == 2 * macs + batch * channels * h * w * 7

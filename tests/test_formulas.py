"""Per-op formulas against PyTorch's FlopCounterMode and closed forms, on random configurations."""

from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from archstat.analysis import analyze


def _flop_counter(model: nn.Module, x: torch.Tensor) -> int:
    mode = FlopCounterMode(display=False)
    with mode, torch.no_grad():
        model(x)
    return int(mode.get_total_flops())


@st.composite
def conv_configs(draw: st.DrawFn) -> tuple[nn.Module, tuple[int, ...]]:
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    bias = draw(st.booleans())
    transposed = draw(st.booleans())
    reach = [dilation[i] * (k[i] - 1) + 1 for i in range(2)]
    h = draw(st.integers(max(reach[0], 1), 13))
    w = draw(st.integers(max(reach[1], 1), 13))
    module: nn.Module
    if transposed:
        module = nn.ConvTranspose2d(c_in, c_out, k, stride, padding=0, dilation=dilation, groups=groups, bias=bias)
    else:
        module = nn.Conv2d(c_in, c_out, k, stride, padding, dilation, groups=groups, bias=bias)
    return module, (draw(st.integers(1, 2)), c_in, h, w)


@settings(max_examples=60, deadline=None)
@given(conv_configs())
def test_conv_macs_and_flops_match_flop_counter(config: tuple[nn.Module, tuple[int, ...]]) -> None:
    module, shape = config
    analysis = analyze(module, shape, device="cpu")
    expected = _flop_counter(module, torch.randn(shape))
    conv = analysis.totals.by_category["conv"]
    assert 2 * conv.macs == expected
    # FLOPs add one per output element for the bias.
    out = math.prod(analysis.layers[0].output_shape)
    assert conv.flops == expected + (out if module.bias is not None else 0)
    # The meta pass counts the same as the real one.
    assert analyze(module, shape).totals.macs == conv.macs


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 3), st.integers(1, 4), st.integers(1, 40), st.integers(1, 40), st.booleans()
)
def test_linear_and_batched_matmul_match_flop_counter(batch: int, seq: int, d_in: int, d_out: int,
                                                      bias: bool) -> None:
    module = nn.Linear(d_in, d_out, bias=bias)
    shape = (batch, seq, d_in)
    analysis = analyze(module, shape, device="cpu")
    assert 2 * analysis.totals.macs == _flop_counter(module, torch.randn(shape))
    assert analysis.totals.macs == batch * seq * d_in * d_out


class _MatMuls(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = torch.matmul(x, x.transpose(-1, -2))
        return scores @ x


class _Attention(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.scaled_dot_product_attention(x, x, x)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9), st.integers(1, 8))
def test_functional_matmul_and_attention_are_counted(batch: int, heads: int, length: int, dim: int) -> None:
    shape = (batch, heads, length, dim)
    matmuls = analyze(_MatMuls(), shape, device="cpu")
    assert 2 * matmuls.totals.macs == _flop_counter(_MatMuls(), torch.randn(shape))
    # x·xᵀ then scores·x: B·H·L·L·E MACs each.
    assert matmuls.totals.macs == 2 * batch * heads * length * length * dim
    # FlopCounterMode counts nothing for CPU's fused attention; archstat counts Q·Kᵀ and P·V,
    # the same whether the op runs fused (CPU) or decomposed into bmm (meta).
    fused = analyze(_Attention(), shape, device="cpu")
    decomposed = analyze(_Attention(), shape)
    assert fused.totals.macs == decomposed.totals.macs == 2 * batch * heads * length * length * dim
    assert not fused.totals.partial and not decomposed.totals.partial


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 4), st.integers(1, 3), st.integers(0, 1), st.booleans(), st.booleans(),
    st.integers(5, 17), st.integers(5, 17),
)
def test_pool_flops_are_window_size_per_output(k: int, stride: int, pad: int, ceil_mode: bool,
                                               use_max: bool, h: int, w: int) -> None:
    pad = min(pad, k // 2)
    pool: nn.Module = (
        nn.MaxPool2d(k, stride, pad, ceil_mode=ceil_mode) if use_max
        else nn.AvgPool2d(k, stride, pad, ceil_mode=ceil_mode)
    )
    shape = (1, 3, h, w)
    analysis = analyze(pool, shape)
    real = pool(torch.randn(shape))
    assert analysis.layers[0].output_shape == tuple(real.shape)
    assert analysis.totals.flops == real.numel() * k * k


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 20), st.integers(1, 20), st.integers(1, 7), st.integers(1, 7))
def test_adaptive_pool_counts_exact_windows(h: int, w: int, oh: int, ow: int) -> None:
    shape = (1, 2, h, w)
    analysis = analyze(nn.AdaptiveAvgPool2d((oh, ow)), shape)

    def windows(size_in: int, size_out: int) -> int:
        # Each output i averages input rows floor(i*in/out) .. ceil((i+1)*in/out) - 1.
        return sum(-((-(i + 1) * size_in) // size_out) - (i * size_in) // size_out for i in range(size_out))

    assert analysis.totals.flops == 2 * windows(h, oh) * windows(w, ow)
    assert analysis.totals.by_category["pool"].flops == analysis.totals.flops


def test_global_average_pool_through_mean_is_a_pool() -> None:
    analysis = analyze(nn.AdaptiveAvgPool2d(1), (2, 8, 7, 7))
    # As every average pool: one op per window element (n - 1 adds and the divide).
    assert analysis.totals.by_category["pool"].flops == 2 * 8 * 49


def test_batch_norm_and_activation_per_element() -> None:
    model = nn.Sequential(nn.BatchNorm2d(4), nn.ReLU(), nn.Sigmoid())
    analysis = analyze(model, (2, 4, 5, 5))
    n = 2 * 4 * 5 * 5
    assert analysis.totals.by_category["norm"].flops == 4 * n    # normalise 2 + scale/shift 2
    assert analysis.totals.by_category["activation"].flops == 2 * n
    assert analysis.totals.macs == 0

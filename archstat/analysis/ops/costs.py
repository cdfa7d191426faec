"""One small, shape-only cost formula per ATen op.

Each op has one registration (`@formula(category, *ops)`); the formula sees the op's first output
and its arguments by schema name, and returns a `Cost`: multiply-accumulates (MACs) and
floating-point operations (FLOPs). The conventions, stated once and printed with every table
(see `CONVENTIONS`):

- MACs count the multiply-accumulates of convolutions, linear layers, matrix products and
  attention, and nothing else.
- FLOPs count every floating-point operation, a multiply-add as 2. On top of 2 × MACs they add
  the bias of conv/linear (one add per output element), normalisation, activation, pooling and
  elementwise work per element, each with the formula written beside it below.

Ops that move or reshape data cost nothing (`FREE_OPS`); an op that is neither free nor in
`FORMULAS` is reported as unsupported and makes the totals partial.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeVar

import torch
from torch import Tensor

from archstat.analysis.ops.call import register, registering

aten = torch.ops.aten

Category = Literal["conv", "linear", "norm", "activation", "pool", "elementwise", "other"]
CATEGORIES: tuple[Category, ...] = ("conv", "linear", "norm", "activation", "pool", "elementwise", "other")


@dataclass(frozen=True, slots=True)
class Cost:
    """The arithmetic of one op; `bias_flops` is the part of `flops` spent adding a bias."""

    macs: int = 0
    flops: int = 0
    bias_flops: int = 0


# Called as formula(out, **arguments): the op's first output, then its arguments by schema name
# (see `archstat.analysis.ops.call`). Parameters carry the schema's names, `self` included (ATen's
# name for an op's main operand); `**_` takes the arguments a formula does not read.
Formula = Callable[..., Cost]
F = TypeVar("F", bound=Formula)

FORMULAS: dict[Any, tuple[Category, Formula]] = {}


def formula(category: Category, *ops: Any) -> Callable[[F], F]:
    """Register the decorated function as the cost of each op packet in `ops`, counted under `category`."""
    return registering(FORMULAS, ops, lambda fn: (category, fn))


def _numel(shape: Sequence[int]) -> int:
    return math.prod(shape)


# --- convolution and matrix products ------------------------------------------------------------


@formula("conv", aten.convolution, aten._convolution, aten.convolution_overrideable, aten.cudnn_convolution,
         aten.mkldnn_convolution)
def conv(out: Tensor, /, *, weight: Tensor, input: Tensor | None = None, self: Tensor | None = None,
         bias: Tensor | None = None, transposed: bool = False, **_: Any) -> Cost:
    """Convolution: MACs = output elements × (C_in / groups) × kernel elements.

    For a transposed conv every input element is scattered to (C_out / groups) × kernel outputs,
    so MACs = input elements × (C_out / groups) × kernel elements. Bias adds one FLOP per output.
    `cudnn_convolution` names its input `self` and has no bias or `transposed`.
    """
    x = input if input is not None else self
    assert x is not None
    spread = x.numel() if transposed else out.numel()
    macs = spread * weight.shape[1] * _numel(weight.shape[2:])
    bias_flops = out.numel() if bias is not None else 0
    return Cost(macs, 2 * macs + bias_flops, bias_flops)


formula("conv", aten.cudnn_convolution_transpose)(partial(conv, transposed=True))


@formula("linear", aten.mm, aten.bmm)
def matmul(out: Tensor, /, *, self: Tensor, **_: Any) -> Cost:
    """mm: (M×K)·(K×N) is M·K·N MACs; bmm: B·M·K·N."""
    macs = out.numel() * self.shape[-1]
    return Cost(macs, 2 * macs)


def _with_bias(out: Tensor, left: Tensor) -> Cost:
    """A product's MACs, plus one add per output element for the bias."""
    macs = out.numel() * left.shape[-1]
    bias = out.numel()
    return Cost(macs, 2 * macs + bias, bias)


@formula("linear", aten.addmm)
def addmm(out: Tensor, /, *, mat1: Tensor, **_: Any) -> Cost:
    """addmm: bias + (M×K)·(K×N)."""
    return _with_bias(out, mat1)


@formula("linear", aten.baddbmm)
def baddbmm(out: Tensor, /, *, batch1: Tensor, **_: Any) -> Cost:
    """baddbmm: bias + a batched product."""
    return _with_bias(out, batch1)


@formula("linear", aten._scaled_dot_product_flash_attention, aten._scaled_dot_product_flash_attention_for_cpu,
         aten._scaled_dot_product_efficient_attention, aten._scaled_dot_product_cudnn_attention)
def attention(out: Tensor, /, *, query: Tensor, key: Tensor, value: Tensor, **_: Any) -> Cost:
    """Fused attention: Q·Kᵀ and P·V are B·H·L·S·(E + E_v) MACs; softmax and scale 4 per score."""
    scores = _numel(query.shape[:-1]) * key.shape[-2]
    macs = scores * (query.shape[-1] + value.shape[-1])
    return Cost(macs, 2 * macs + 4 * scores)


# --- normalisation ------------------------------------------------------------------------------


@formula("norm", aten.native_batch_norm, aten._native_batch_norm_legit, aten._native_batch_norm_legit_no_training,
         aten._native_batch_norm_legit_functional, aten.cudnn_batch_norm)
def batch_norm(out: Tensor, /, *, input: Tensor, weight: Tensor | None, training: bool = False, **_: Any) -> Cost:
    """Batch norm: 2 per element to normalise (subtract mean, multiply by 1/std), 2 more for the
    affine scale and shift; in training 4 more per element to compute mean and variance.
    (`_native_batch_norm_legit_no_training` has no `training` argument: it is eval.)"""
    per_element = 2 + (2 if weight is not None else 0) + (4 if training else 0)
    return Cost(0, input.numel() * per_element)


@formula("norm", aten.native_layer_norm, aten.native_group_norm)
def layer_norm(out: Tensor, /, *, input: Tensor, weight: Tensor | None, **_: Any) -> Cost:
    """Layer/group norm: statistics 4 per element, normalise 2, affine 2 (when present)."""
    affine = 2 if weight is not None else 0
    return Cost(0, input.numel() * (6 + affine))


# --- activations, pooling, elementwise ----------------------------------------------------------


def per_output(flops_per_element: int) -> Formula:
    """A fixed number of FLOPs per output element."""

    def count(out: Tensor, /, **_: Any) -> Cost:
        return Cost(0, out.numel() * flops_per_element)

    return count


@formula("elementwise", aten.mean, aten.sum, aten.amax, aten.amin, aten.var)
def per_input(out: Tensor, /, *, self: Tensor, **_: Any) -> Cost:
    """Reductions (sum, mean, amax, ...): one op per input element (n - 1 adds and, for the
    mean, the divide), so a global average pool costs what an average pool of its window does."""
    return Cost(0, self.numel())


@formula("pool", aten.max_pool1d, aten.max_pool2d, aten.max_pool3d, aten.max_pool2d_with_indices,
         aten.max_pool3d_with_indices, aten.avg_pool1d, aten.avg_pool2d, aten.avg_pool3d)
def window_pool(out: Tensor, /, *, kernel_size: Sequence[int], **_: Any) -> Cost:
    """Max/avg pool: one op per window element per output (comparisons for max, adds and the
    final divide for average)."""
    window = _numel(kernel_size) if len(kernel_size) > 1 else kernel_size[0] ** (out.dim() - 2)
    return Cost(0, out.numel() * window)


def _adaptive_windows(size_in: int, size_out: int) -> int:
    """Total window length along one axis of an adaptive pool (windows may overlap)."""
    return sum(
        math.ceil((i + 1) * size_in / size_out) - (i * size_in) // size_out for i in range(size_out)
    )


@formula("pool", aten._adaptive_avg_pool2d, aten._adaptive_avg_pool3d, aten.adaptive_max_pool2d,
         aten.adaptive_max_pool3d)
def adaptive_pool(out: Tensor, /, *, self: Tensor, **_: Any) -> Cost:
    """Adaptive pool: one op per element of each (exactly computed) window."""
    spatial = out.dim() - 2 if out.dim() > 2 else out.dim() - 1
    lead = _numel(out.shape[:-spatial])
    windows = math.prod(
        _adaptive_windows(self.shape[-spatial + i], out.shape[-spatial + i]) for i in range(spatial)
    )
    return Cost(0, lead * windows)


register(FORMULAS, (aten._softmax, aten._log_softmax, aten._safe_softmax), ("activation", per_output(3)))
register(FORMULAS, (aten.addcmul, aten.addcdiv), ("elementwise", per_output(2)))
register(FORMULAS, (aten.native_dropout,), ("elementwise", per_output(1)))
# One FLOP per output element: activations (a transcendental counts as one op) ...
register(FORMULAS, (
    aten.relu, aten.relu_, aten.threshold, aten.hardtanh, aten.hardtanh_, aten.leaky_relu,
    aten.leaky_relu_, aten.gelu, aten.silu, aten.silu_, aten.sigmoid, aten.sigmoid_, aten.tanh,
    aten.tanh_, aten.elu, aten.elu_, aten.hardswish, aten.hardswish_, aten.hardsigmoid,
    aten.hardsigmoid_, aten.mish, aten.softplus, aten.prelu, aten._prelu_kernel, aten.clamp_min,
    aten.clamp_min_,
), ("activation", per_output(1)))
# ... and elementwise arithmetic, in place or not.
register(FORMULAS, (
    aten.add, aten.add_, aten.sub, aten.sub_, aten.mul, aten.mul_, aten.div, aten.div_,
    aten.pow, aten.pow_, aten.sqrt, aten.rsqrt, aten.exp, aten.log, aten.neg, aten.abs,
    aten.reciprocal, aten.square, aten.clamp, aten.clamp_, aten.clamp_max, aten.clamp_max_,
    aten.where, aten.maximum, aten.minimum, aten.rsub, aten.lerp,
), ("elementwise", per_output(1)))

# Ops that only create, move, view or reshape data: they cost no arithmetic.
FREE_OPS: frozenset[Any] = frozenset({
    aten.view, aten._unsafe_view, aten.reshape, aten.permute, aten.transpose, aten.t,
    aten.expand, aten.squeeze, aten.unsqueeze, aten.flatten, aten.slice, aten.select,
    aten.split, aten.split_with_sizes, aten.chunk, aten.unbind, aten.narrow, aten.cat,
    aten.stack, aten.clone, aten.copy_, aten.detach, aten.alias, aten.as_strided,
    aten.empty, aten.empty_like, aten.empty_strided, aten.zeros, aten.zeros_like, aten.ones,
    aten.ones_like, aten.full, aten.full_like, aten.fill_, aten.zero_, aten.new_zeros,
    aten.new_empty, aten.new_full, aten.new_ones, aten._to_copy, aten.constant_pad_nd,
    aten.lift_fresh, aten.lift_fresh_copy, aten.randn, aten.rand, aten.arange, aten.scalar_tensor,
    aten.index_select, aten.gather, aten.repeat, aten.roll, aten.contiguous, aten.expand_as,
    aten.view_as, aten.unfold, aten.masked_fill, aten.masked_fill_, aten.bernoulli_,
    aten.normal_, aten.uniform_, aten._reshape_alias, aten.index, aten.embedding,
    aten.upsample_nearest2d,
})

# The formulas as users read them; stored in every JSON and printed under every table.
CONVENTIONS: dict[str, str] = {
    "macs": "multiply-accumulates of conv, linear, matmul and attention only",
    "flops": "all floating-point operations, a multiply-add counted as 2 (FLOPs = 2 x MACs + the rest)",
    "conv": "MACs = out elements x C_in/groups x kernel elements (transposed: in elements x "
    "C_out/groups x kernel); bias +1 FLOP per output element",
    "linear": "MACs = M x K x N per (batched) product; bias +1 FLOP per output element; "
    "fused attention B x H x L x S x (E + E_v) MACs + 4 FLOPs per score",
    "norm": "batch norm 2 FLOPs/element to normalise + 2 for scale and shift (+4 in training for "
    "statistics); layer/group norm 6 + 2 affine",
    "activation": "1 FLOP per output element (ReLU, tanh, sigmoid, GELU, ...); softmax 3",
    "pool": "1 FLOP per window element per output (max: comparisons; avg: adds and the divide); "
    "adaptive pools use their exact windows",
    "elementwise": "1 FLOP per output element (add, mul, div, ...); reductions (sum, mean) 1 per input element",
    "free": "view, reshape, cat, copy, pad, nearest upsampling, dropout in eval: 0 FLOPs",
    "unsupported": "an op with no formula is listed and the totals are marked partial",
    "activation_bytes": "sum of layer outputs: the output of every leaf module and of every "
    "functional op called directly in a container, each tensor counted once (in-place ops and "
    "views are not counted again); the input is not included",
    "peak_activation_bytes": "largest total of live tensors during an inference forward, each "
    "freed after its last use; the input is included, parameters are not",
    "training_activation_bytes": "tensors autograd saves for backward in a training-mode "
    "forward, parameters excluded",
    "param_bytes": "parameters and buffers at the analysis dtype",
}

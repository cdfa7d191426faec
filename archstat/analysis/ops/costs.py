"""One small, shape-only cost formula per ATen op.

Every formula sees the op's arguments and outputs and returns a `Cost`: multiply-accumulates
(MACs) and floating-point operations (FLOPs). The conventions, stated once and printed with
every table (see `CONVENTIONS`):

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
from typing import Any, Literal

import torch

aten = torch.ops.aten

Category = Literal["conv", "linear", "norm", "activation", "pool", "elementwise", "other"]
CATEGORIES: tuple[Category, ...] = ("conv", "linear", "norm", "activation", "pool", "elementwise", "other")


@dataclass(frozen=True, slots=True)
class Cost:
    """The arithmetic of one op; `bias_flops` is the part of `flops` spent adding a bias."""

    macs: int = 0
    flops: int = 0
    bias_flops: int = 0


Formula = Callable[[Sequence[Any], Sequence[torch.Tensor]], Cost]


def _numel(shape: Sequence[int]) -> int:
    return math.prod(shape)


def _arg(args: Sequence[Any], index: int, default: Any = None) -> Any:
    return args[index] if len(args) > index else default


# --- convolution and matrix products ------------------------------------------------------------


def _conv(transposed_index: int | None, bias_index: int | None, always_transposed: bool = False) -> Formula:
    """Convolution: MACs = output elements × (C_in / groups) × kernel elements.

    For a transposed conv every input element is scattered to (C_out / groups) × kernel outputs,
    so MACs = input elements × (C_out / groups) × kernel elements. Bias adds one FLOP per output.
    """

    def formula(args: Sequence[Any], outs: Sequence[torch.Tensor]) -> Cost:
        x, weight = args[0], args[1]
        transposed = always_transposed or bool(
            transposed_index is not None and _arg(args, transposed_index, False)
        )
        kernel = _numel(weight.shape[2:])
        out = outs[0]
        spread = x.numel() if transposed else out.numel()
        macs = spread * weight.shape[1] * kernel
        has_bias = bias_index is not None and _arg(args, bias_index) is not None
        bias = out.numel() if has_bias else 0
        return Cost(macs, 2 * macs + bias, bias)

    return formula


def _mm(args: Sequence[Any], outs: Sequence[torch.Tensor]) -> Cost:
    """mm: (M×K)·(K×N) is M·K·N MACs."""
    a = args[0]
    macs = outs[0].numel() * a.shape[-1]
    return Cost(macs, 2 * macs)


def _addmm(args: Sequence[Any], outs: Sequence[torch.Tensor]) -> Cost:
    """addmm / baddbmm: the product's MACs, plus one add per output element for the bias."""
    a = args[1]
    macs = outs[0].numel() * a.shape[-1]
    bias = outs[0].numel()
    return Cost(macs, 2 * macs + bias, bias)


def _bmm(args: Sequence[Any], outs: Sequence[torch.Tensor]) -> Cost:
    """bmm: B·M·K·N MACs."""
    macs = outs[0].numel() * args[0].shape[-1]
    return Cost(macs, 2 * macs)


def _attention(args: Sequence[Any], outs: Sequence[torch.Tensor]) -> Cost:
    """Fused attention: Q·Kᵀ and P·V are B·H·L·S·(E + E_v) MACs; softmax and scale 4 per score."""
    q, k, v = args[0], args[1], args[2]
    scores = _numel(q.shape[:-1]) * k.shape[-2]
    macs = scores * (q.shape[-1] + v.shape[-1])
    return Cost(macs, 2 * macs + 4 * scores)


# --- normalisation ------------------------------------------------------------------------------


def _batch_norm(training_index: int | None, weight_index: int = 1) -> Formula:
    """Batch norm: 2 per element to normalise (subtract mean, multiply by 1/std), 2 more for the
    affine scale and shift; in training 4 more per element to compute mean and variance."""

    def formula(args: Sequence[Any], outs: Sequence[torch.Tensor]) -> Cost:
        n = args[0].numel()
        per_element = 2 + (2 if _arg(args, weight_index) is not None else 0)
        if training_index is not None and _arg(args, training_index, False):
            per_element += 4
        return Cost(0, n * per_element)

    return formula


def _batch_norm_no_training(args: Sequence[Any], outs: Sequence[torch.Tensor]) -> Cost:
    return _batch_norm(None)(args, outs)


def _layer_norm(weight_index: int) -> Formula:
    """Layer/group norm: statistics 4 per element, normalise 2, affine 2 (when present)."""

    def formula(args: Sequence[Any], outs: Sequence[torch.Tensor]) -> Cost:
        affine = 2 if _arg(args, weight_index) is not None else 0
        return Cost(0, args[0].numel() * (6 + affine))

    return formula


# --- activations, pooling, elementwise ----------------------------------------------------------


def _per_output(flops_per_element: int) -> Formula:
    def formula(args: Sequence[Any], outs: Sequence[torch.Tensor]) -> Cost:
        return Cost(0, outs[0].numel() * flops_per_element)

    return formula


def _per_input(args: Sequence[Any], outs: Sequence[torch.Tensor]) -> Cost:
    """Reductions (sum, mean, amax, ...): one op per input element (n - 1 adds and, for the
    mean, the divide), so a global average pool costs what an average pool of its window does."""
    return Cost(0, args[0].numel())


def _window_pool(args: Sequence[Any], outs: Sequence[torch.Tensor]) -> Cost:
    """Max/avg pool: one op per window element per output (comparisons for max, adds and the
    final divide for average)."""
    kernel = args[1]
    window = _numel(kernel) if len(kernel) > 1 else kernel[0] ** (outs[0].dim() - 2)
    return Cost(0, outs[0].numel() * window)


def _adaptive_windows(size_in: int, size_out: int) -> int:
    """Total window length along one axis of an adaptive pool (windows may overlap)."""
    return sum(
        math.ceil((i + 1) * size_in / size_out) - (i * size_in) // size_out for i in range(size_out)
    )


def _adaptive_pool(args: Sequence[Any], outs: Sequence[torch.Tensor]) -> Cost:
    """Adaptive pool: one op per element of each (exactly computed) window."""
    x, out = args[0], outs[0]
    spatial = out.dim() - 2 if out.dim() > 2 else out.dim() - 1
    lead = _numel(out.shape[:-spatial])
    windows = math.prod(
        _adaptive_windows(x.shape[-spatial + i], out.shape[-spatial + i]) for i in range(spatial)
    )
    return Cost(0, lead * windows)


# --- the table ----------------------------------------------------------------------------------

_CONV = _conv(transposed_index=6, bias_index=2)
_CONV_NO_TRANSPOSE = _conv(transposed_index=None, bias_index=2)

FORMULAS: dict[Any, tuple[Category, Formula]] = {
    aten.convolution: ("conv", _CONV),
    aten._convolution: ("conv", _CONV),
    aten.convolution_overrideable: ("conv", _CONV),
    aten.cudnn_convolution: ("conv", _conv(None, None)),
    aten.cudnn_convolution_transpose: ("conv", _conv(None, None, always_transposed=True)),
    aten.mkldnn_convolution: ("conv", _CONV_NO_TRANSPOSE),
    aten.mm: ("linear", _mm),
    aten.addmm: ("linear", _addmm),
    aten.bmm: ("linear", _bmm),
    aten.baddbmm: ("linear", _addmm),
    aten._scaled_dot_product_flash_attention: ("linear", _attention),
    aten._scaled_dot_product_flash_attention_for_cpu: ("linear", _attention),
    aten._scaled_dot_product_efficient_attention: ("linear", _attention),
    aten._scaled_dot_product_cudnn_attention: ("linear", _attention),
    aten.native_batch_norm: ("norm", _batch_norm(training_index=5)),
    aten._native_batch_norm_legit: ("norm", _batch_norm(training_index=5)),
    aten._native_batch_norm_legit_no_training: ("norm", _batch_norm_no_training),
    aten._native_batch_norm_legit_functional: ("norm", _batch_norm(training_index=5)),
    aten.cudnn_batch_norm: ("norm", _batch_norm(training_index=5)),
    aten.native_layer_norm: ("norm", _layer_norm(weight_index=2)),
    aten.native_group_norm: ("norm", _layer_norm(weight_index=1)),
    aten.max_pool1d: ("pool", _window_pool),
    aten.max_pool2d: ("pool", _window_pool),
    aten.max_pool3d: ("pool", _window_pool),
    aten.max_pool2d_with_indices: ("pool", _window_pool),
    aten.max_pool3d_with_indices: ("pool", _window_pool),
    aten.avg_pool1d: ("pool", _window_pool),
    aten.avg_pool2d: ("pool", _window_pool),
    aten.avg_pool3d: ("pool", _window_pool),
    aten._adaptive_avg_pool2d: ("pool", _adaptive_pool),
    aten._adaptive_avg_pool3d: ("pool", _adaptive_pool),
    aten.adaptive_max_pool2d: ("pool", _adaptive_pool),
    aten.adaptive_max_pool3d: ("pool", _adaptive_pool),
    aten._softmax: ("activation", _per_output(3)),
    aten._log_softmax: ("activation", _per_output(3)),
    aten._safe_softmax: ("activation", _per_output(3)),
    aten.mean: ("elementwise", _per_input),
    aten.sum: ("elementwise", _per_input),
    aten.amax: ("elementwise", _per_input),
    aten.amin: ("elementwise", _per_input),
    aten.var: ("elementwise", _per_input),
    aten.addcmul: ("elementwise", _per_output(2)),
    aten.addcdiv: ("elementwise", _per_output(2)),
    aten.native_dropout: ("elementwise", _per_output(1)),
}

# One FLOP per output element: activations (a transcendental counts as one op) ...
for _op in (
    aten.relu, aten.relu_, aten.threshold, aten.hardtanh, aten.hardtanh_, aten.leaky_relu,
    aten.leaky_relu_, aten.gelu, aten.silu, aten.silu_, aten.sigmoid, aten.sigmoid_, aten.tanh,
    aten.tanh_, aten.elu, aten.elu_, aten.hardswish, aten.hardswish_, aten.hardsigmoid,
    aten.hardsigmoid_, aten.mish, aten.softplus, aten.prelu, aten._prelu_kernel, aten.clamp_min,
    aten.clamp_min_,
):
    FORMULAS[_op] = ("activation", _per_output(1))
# ... and elementwise arithmetic, in place or not.
for _op in (
    aten.add, aten.add_, aten.sub, aten.sub_, aten.mul, aten.mul_, aten.div, aten.div_,
    aten.pow, aten.pow_, aten.sqrt, aten.rsqrt, aten.exp, aten.log, aten.neg, aten.abs,
    aten.reciprocal, aten.square, aten.clamp, aten.clamp_, aten.clamp_max, aten.clamp_max_,
    aten.where, aten.maximum, aten.minimum, aten.rsub, aten.lerp,
):
    FORMULAS[_op] = ("elementwise", _per_output(1))

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

"""Cost formulas of the ops autograd runs in a backward pass.

A backward also runs forward ops (`mm`, `mul`, `sum`, ...), counted by `ops.costs`; this table
holds the ops that exist only in a backward. A formula sees the op's outputs by position (None
where autograd did not ask for one: `output_mask`) and its arguments by schema name, and returns
one `Cost` per output, so the training pass can charge each output to the input or the weight
gradient it becomes. The conventions are in `GRAD_CONVENTIONS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch
from torch import Tensor

from archstat.analysis.ops.call import register, registering
from archstat.analysis.ops.costs import Category, Cost

aten = torch.ops.aten

Outputs = Sequence[Tensor | None]
GradFormula = Callable[..., tuple[Cost, ...]]
G = TypeVar("G", bound=GradFormula)

GRAD_FORMULAS: dict[Any, tuple[Category, GradFormula]] = {}

# Backward ops that only move data (the gradient of a slice, a select, a pad) cost nothing.
GRAD_FREE_OPS: frozenset[Any] = frozenset({
    aten.slice_backward, aten.select_backward, aten.as_strided_scatter, aten.diagonal_backward,
    aten.unfold_backward, aten.constant_pad_nd, aten.reflection_pad2d_backward, aten.replication_pad2d_backward,
})


def grad_formula(category: Category, *ops: Any) -> Callable[[G], G]:
    """Register the decorated function as the backward cost of each op packet in `ops`."""
    return registering(GRAD_FORMULAS, ops, lambda fn: (category, fn))


def _n(t: Tensor | None) -> int:
    return t.numel() if t is not None else 0


@grad_formula("conv", aten.convolution_backward)
def conv_backward(outs: Outputs, /, *, grad_output: Tensor, input: Tensor, weight: Tensor,
                  transposed: bool = False, **_: Any) -> tuple[Cost, ...]:
    """Input gradient (a transposed conv of the output gradient) and weight gradient (a conv of
    the input with it) each cost the forward's MACs; the bias gradient sums the output gradient,
    1 FLOP per element."""
    spread = input.numel() if transposed else grad_output.numel()
    macs = spread * weight.shape[1] * math.prod(weight.shape[2:])
    product = Cost(macs, 2 * macs)
    return product, product, Cost(0, grad_output.numel())


def _norm_backward(outs: Outputs, elements: int, training: bool = True) -> tuple[Cost, ...]:
    """Normalisation backward: input gradient 8 FLOPs per element when the statistics were the
    batch's (re-normalise 2, the two reductions Σg and Σg·x̂ 3, combine 3), 1 when they were fixed
    (g·γ/σ); weight gradient 2 per element (g·x̂ summed); bias 1 (Σg)."""
    return Cost(0, elements * (8 if training else 1)), Cost(0, 2 * elements), Cost(0, elements)


@grad_formula("norm", aten.native_batch_norm_backward)
def batch_norm_backward(outs: Outputs, /, *, input: Tensor, train: bool, **_: Any) -> tuple[Cost, ...]:
    """Batch norm backward, see `_norm_backward`."""
    return _norm_backward(outs, input.numel(), train)


@grad_formula("norm", aten.native_layer_norm_backward, aten.native_group_norm_backward)
def layer_norm_backward(outs: Outputs, /, *, input: Tensor, **_: Any) -> tuple[Cost, ...]:
    """Layer and group norm backward (always per-sample statistics), see `_norm_backward`."""
    return _norm_backward(outs, input.numel())


def per_grad(flops_per_element: int) -> GradFormula:
    """A fixed number of FLOPs per element of the one gradient the op returns."""

    def count(outs: Outputs, /, **_: Any) -> tuple[Cost, ...]:
        return (Cost(0, flops_per_element * _n(outs[0])),)

    return count


# An activation's derivative times the incoming gradient: 1 FLOP per element, as the forward
# counts every activation; softmax's y·(g − Σg·y) and log-softmax's g − eʸ·Σg: 4.
register(GRAD_FORMULAS, (
    aten.threshold_backward, aten.hardtanh_backward, aten.leaky_relu_backward, aten.gelu_backward,
    aten.silu_backward, aten.sigmoid_backward, aten.tanh_backward, aten.elu_backward,
    aten.hardswish_backward, aten.hardsigmoid_backward, aten.softplus_backward, aten.mish_backward,
), ("activation", per_grad(1)))
register(GRAD_FORMULAS, (aten._softmax_backward_data, aten._log_softmax_backward_data), ("activation", per_grad(4)))
# Dropout's mask and scale: 1 per element; an embedding's gradient adds each gathered row back.
register(GRAD_FORMULAS, (aten.native_dropout_backward,), ("elementwise", per_grad(1)))


@grad_formula("elementwise", aten.embedding_dense_backward)
def embedding_backward(outs: Outputs, /, *, grad_output: Tensor, **_: Any) -> tuple[Cost, ...]:
    """Embedding backward: every gathered element is added back to its row, 1 FLOP each."""
    return (Cost(0, grad_output.numel()),)


@grad_formula("pool", aten.max_pool2d_with_indices_backward, aten.max_pool3d_with_indices_backward)
def max_pool_backward(outs: Outputs, /, *, grad_output: Tensor, **_: Any) -> tuple[Cost, ...]:
    """Max pool backward: each output's gradient is added to its argmax, 1 FLOP per output."""
    return (Cost(0, grad_output.numel()),)


@grad_formula("pool", aten.avg_pool2d_backward, aten.avg_pool3d_backward)
def avg_pool_backward(outs: Outputs, /, *, grad_output: Tensor, kernel_size: Sequence[int],
                      **_: Any) -> tuple[Cost, ...]:
    """Average pool backward: each output's gradient, divided, is added over its window: as the
    forward, 1 FLOP per window element per output."""
    spatial = grad_output.dim() - 2
    window = math.prod(kernel_size) if len(kernel_size) > 1 else kernel_size[0] ** spatial
    return (Cost(0, grad_output.numel() * window),)


@grad_formula("pool", aten._adaptive_avg_pool2d_backward, aten._adaptive_avg_pool3d_backward)
def adaptive_pool_backward(outs: Outputs, /, **_: Any) -> tuple[Cost, ...]:
    """Adaptive average pool backward: 1 FLOP per input element (its share of each window)."""
    return (Cost(0, _n(outs[0])),)


@grad_formula("linear", aten._scaled_dot_product_flash_attention_for_cpu_backward,
              aten._scaled_dot_product_flash_attention_backward, aten._scaled_dot_product_efficient_attention_backward,
              aten._scaled_dot_product_cudnn_attention_backward)
def attention_backward(outs: Outputs, /, *, query: Tensor, key: Tensor, value: Tensor, **_: Any) -> tuple[Cost, ...]:
    """A fused attention's backward as the math decomposition's: dP = dO·Vᵀ and dQ = dS·K for the
    query (with softmax's backward, 4 per score), dK = dSᵀ·Q, dV = Pᵀ·dO: twice the forward's MACs."""
    scores = math.prod(query.shape[:-1]) * key.shape[-2]
    qk, pv = scores * query.shape[-1], scores * value.shape[-1]
    return (Cost(qk + pv, 2 * (qk + pv) + 4 * scores), Cost(qk, 2 * qk), Cost(pv, 2 * pv))


GRAD_CONVENTIONS: dict[str, str] = {
    "backward": "every op autograd runs from the output (seeded with a gradient of the output's shape, no loss), "
    "charged to the module whose forward made its autograd node; ops of the forward's kinds as in the forward",
    "input_grad": "work whose result is the gradient of an activation (what flows to earlier layers)",
    "weight_grad": "work whose result is the gradient of a trainable parameter (through views of it)",
    "conv_backward": "input and weight gradients each the forward's MACs; bias gradient 1 FLOP per output element",
    "linear_backward": "each product's gradient is two products of the same M x K x N MACs, one per operand "
    "needing it; fused attention as its math decomposition (twice the forward's MACs, softmax backward 4 per score)",
    "other_backward": "activations 1 FLOP per element (softmax 4); norms: input gradient 8 per element with batch "
    "statistics, 1 with fixed ones, weight 2, bias 1; max pool 1 per output, average pool 1 per window element",
}

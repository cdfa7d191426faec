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
from collections.abc import Callable, Mapping, Sequence
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


def attention_cost(heads: int, length: int, source: int, qk_dim: int, v_dim: int, masked: bool,
                   is_causal: bool) -> Cost:
    """Attention counted as PyTorch's math decomposition (`_scaled_dot_product_attention_math`)
    runs it, which is what the meta device records, so fused and decomposed SDPA agree:
    Q·Kᵀ and P·V are B·H·L·S·(E + E_v) MACs; q and the (group-expanded) k are each scaled once
    per element; a mask adds 1 per score, a causal mask is first made (1 per L·S position);
    softmax 3 per score. `heads`: batch × query heads; `length`, `source`: L and S."""
    scores = heads * length * source
    macs = scores * (qk_dim + v_dim)
    scale = heads * (length + source) * qk_dim
    mask = scores + length * source if is_causal else scores if masked else 0
    return Cost(macs, 2 * macs + scale + mask + 3 * scores)


@formula("linear", aten._scaled_dot_product_flash_attention, aten._scaled_dot_product_flash_attention_for_cpu,
         aten._scaled_dot_product_efficient_attention, aten._scaled_dot_product_cudnn_attention)
def attention(out: Tensor, /, *, query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
              attn_bias: Tensor | None = None, is_causal: bool = False, **_: Any) -> Cost:
    """Fused attention (flash, memory-efficient, cuDNN, CPU flash): as `attention_cost`."""
    return attention_cost(_numel(query.shape[:-2]), query.shape[-2], key.shape[-2], query.shape[-1], value.shape[-1],
                          attn_mask is not None or attn_bias is not None, is_causal)


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


def window_pool(spatial: int) -> Formula:
    """Max/avg pool over `spatial` trailing axes: one op per window element per output
    (comparisons for max, adds and the final divide for average); batched or not."""

    def count(out: Tensor, /, *, kernel_size: Sequence[int], **_: Any) -> Cost:
        window = _numel(kernel_size) if len(kernel_size) > 1 else kernel_size[0] ** spatial
        return Cost(0, out.numel() * window)

    return count


register(FORMULAS, (aten.max_pool1d, aten.avg_pool1d), ("pool", window_pool(1)))
register(FORMULAS, (aten.max_pool2d, aten.max_pool2d_with_indices, aten.avg_pool2d), ("pool", window_pool(2)))
register(FORMULAS, (aten.max_pool3d, aten.max_pool3d_with_indices, aten.avg_pool3d), ("pool", window_pool(3)))


def _adaptive_windows(size_in: int, size_out: int) -> int:
    """Total window length along one axis of an adaptive pool (windows may overlap)."""
    return sum(
        math.ceil((i + 1) * size_in / size_out) - (i * size_in) // size_out for i in range(size_out)
    )


@formula("pool", aten._adaptive_avg_pool2d, aten._adaptive_avg_pool3d, aten.adaptive_max_pool2d,
         aten.adaptive_max_pool3d)
def adaptive_pool(out: Tensor, /, *, self: Tensor, output_size: Sequence[int], **_: Any) -> Cost:
    """Adaptive pool: one op per element of each (exactly computed) window, over as many trailing
    axes as `output_size` names, whether or not the input has a batch axis."""
    spatial = len(output_size)
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


def _and_in_place(*packets: Any) -> tuple[Any, ...]:
    """Each op packet with its in-place twin (`eq` and `eq_`), where ATen has one."""
    twins = (getattr(aten, p.__name__ + "_", None) for p in packets)
    return packets + tuple(t for t in twins if t is not None)


# One FLOP per output element, whatever the dtype: comparisons, masks and index arithmetic (a
# comparison is one op, as in a max pool), and transcendental functions (one op each, as GELU).
register(FORMULAS, _and_in_place(
    aten.eq, aten.ne, aten.lt, aten.gt, aten.le, aten.ge, aten.logical_and, aten.logical_or,
    aten.logical_xor, aten.logical_not, aten.bitwise_and, aten.bitwise_or, aten.bitwise_xor,
    aten.bitwise_not, aten.bitwise_left_shift, aten.bitwise_right_shift, aten.isnan, aten.isinf,
    aten.remainder, aten.fmod, aten.floor_divide, aten.sign, aten.sgn, aten.floor, aten.ceil,
    aten.round, aten.trunc, aten.frac, aten.sin, aten.cos, aten.tan, aten.asin, aten.acos, aten.atan,
    aten.atan2, aten.sinh, aten.cosh, aten.asinh, aten.acosh, aten.atanh, aten.exp2, aten.expm1,
    aten.log1p, aten.log2, aten.log10, aten.erf, aten.erfc, aten.erfinv, aten.logit, aten.xlogy,
    aten.nan_to_num, aten.hypot, aten.fmax, aten.fmin, aten.copysign,
), ("elementwise", per_output(1)))
# The in-place twins of arithmetic registered above (`x.exp_()` costs what `x.exp()` does).
register(FORMULAS, (aten.exp_, aten.log_, aten.sqrt_, aten.rsqrt_, aten.neg_, aten.abs_, aten.reciprocal_,
                    aten.lerp_), ("elementwise", per_output(1)))
# Cumulative ops: one op per element along the scan (the first is a copy, counted as the
# reductions count their n - 1 adds: once per input element).
register(FORMULAS, _and_in_place(aten.cumsum, aten.cumprod, aten.cummax, aten.cummin, aten.logcumsumexp),
         ("elementwise", per_output(1)))
# Reductions and selections: one op per input element, as `per_input` above.
register(FORMULAS, (aten.argmax, aten.argmin, aten.any, aten.all, aten.prod, aten.std, aten.logsumexp,
                    aten.linalg_vector_norm, aten.norm, aten.kthvalue, aten.median, aten.nanmedian, aten.mode),
         ("elementwise", per_input))


@formula("elementwise", aten.max, aten.min)
def extremum(out: Tensor, /, *, self: Tensor, **_: Any) -> Cost:
    """max/min: as a reduction (whole tensor or along `dim`) 1 comparison per input element;
    between two tensors 1 per output element."""
    return Cost(0, max(self.numel(), out.numel()))


def _log2(n: int) -> int:
    return max(1, math.ceil(math.log2(n))) if n > 1 else 0


@formula("other", aten.sort, aten.argsort)
def sort(out: Tensor, /, *, self: Tensor, dim: int = -1, **_: Any) -> Cost:
    """Sort: n·⌈log₂ n⌉ comparisons per sorted row of n (a comparison sort's bound)."""
    return Cost(0, self.numel() * _log2(self.shape[dim] if self.dim() else 1))


@formula("other", aten.topk)
def topk(out: Tensor, /, *, self: Tensor, k: int, **_: Any) -> Cost:
    """Top-k: each input element is compared into a heap of k, ⌈log₂ k⌉ comparisons (at least 1)."""
    return Cost(0, self.numel() * max(1, _log2(k)))


# --- gathers and scatters -----------------------------------------------------------------------


@formula("elementwise", aten.scatter, aten.scatter_)
def scatter(out: Tensor, /, *, index: Tensor, reduce: str | None = None, **_: Any) -> Cost:
    """scatter writes values (0 FLOPs); with `reduce` ("add", "multiply") one op per written value."""
    return Cost(0, index.numel() if reduce is not None else 0)


@formula("elementwise", *_and_in_place(aten.scatter_add, aten.scatter_reduce))
def scatter_add(out: Tensor, /, *, index: Tensor, **_: Any) -> Cost:
    """scatter_add / scatter_reduce: one op per scattered value (an index element)."""
    return Cost(0, index.numel())


@formula("elementwise", *_and_in_place(aten.index_add, aten.index_reduce))
def index_add(out: Tensor, /, *, source: Tensor, **_: Any) -> Cost:
    """index_add / index_reduce: one op per source element."""
    return Cost(0, source.numel())


@formula("elementwise", aten.index_put, aten.index_put_, aten._index_put_impl_)
def index_put(out: Tensor, /, *, values: Tensor, accumulate: bool = False, **_: Any) -> Cost:
    """x[idx] = v writes (0 FLOPs); x[idx] += v with `accumulate` adds once per index position."""
    if not accumulate:
        return Cost()
    return Cost(0, values.numel())


@formula("elementwise", aten._embedding_bag, aten._embedding_bag_forward_only)
def embedding_bag(out: Tensor, /, *, weight: Tensor, indices: Tensor, per_sample_weights: Tensor | None = None,
                  **_: Any) -> Cost:
    """Embedding bag: the gathered rows are reduced, one op per gathered element (sum and mean
    adds, max comparisons, as reductions count); per-sample weights one multiply more."""
    gathered = indices.numel() * weight.shape[1]
    return Cost(0, gathered * (2 if per_sample_weights is not None else 1))


# --- resampling ---------------------------------------------------------------------------------


def _taps(points: int, dims: int) -> Formula:
    """An interpolation that weighs points**dims input values per output element: that many
    multiplies and one add fewer (the weights themselves are not counted)."""
    taps = points**dims
    return per_output(2 * taps - 1)


register(FORMULAS, (aten.upsample_linear1d,), ("other", _taps(2, 1)))
register(FORMULAS, (aten.upsample_bilinear2d,), ("other", _taps(2, 2)))
register(FORMULAS, (aten.upsample_trilinear3d,), ("other", _taps(2, 3)))
register(FORMULAS, (aten.upsample_bicubic2d,), ("other", _taps(4, 2)))
register(FORMULAS, (aten.cudnn_grid_sampler,), ("other", _taps(2, 2)))

# grid_sampler's interpolation_mode: 0 bilinear, 1 nearest, 2 bicubic (points per axis).
_GRID_POINTS = {0: 2, 1: 1, 2: 4}


@formula("other", aten.grid_sampler_2d, aten.grid_sampler_3d)
def grid_sample(out: Tensor, /, *, input: Tensor, interpolation_mode: int, **_: Any) -> Cost:
    """grid_sample: as interpolation, per output element (bi/trilinear 2^d taps, bicubic 4^d,
    nearest a copy, 0)."""
    points = _GRID_POINTS.get(interpolation_mode, 2)
    return _taps(points, input.dim() - 2)(out) if points > 1 else Cost()


@formula("linear", aten.affine_grid_generator)
def affine_grid(out: Tensor, /, **_: Any) -> Cost:
    """affine_grid: each output coordinate is a row of θ times (x, y[, z], 1): d + 1 MACs, the
    batched product PyTorch's decomposition runs."""
    macs = out.numel() * (out.shape[-1] + 1)
    return Cost(macs, 2 * macs)


# --- fused recurrent and attention kernels ------------------------------------------------------

# Per step and hidden unit, the elementwise FLOPs of one recurrent cell as PyTorch's
# decomposition (`lstm_cell`, `gru_cell`, `rnn_tanh_cell`) runs it, by number of gates:
# (without biases, the biases' adds). LSTM: gates sum 4, 3 sigmoids + tanh 4, c = f·c + i·g 3,
# tanh(c)·o 2; biases 2 × 4. GRU: r and z sums 2 + sigmoids 2, r·(W_hn h + b_hn) + W_in x 2,
# tanh 1, (1 - z)… as h' = n + z·(h - n) 3; biases 2 × 3. RNN: sum 1 + nonlinearity 1; biases 2.
_CELL_FLOPS: dict[int, tuple[int, int]] = {4: (13, 8), 3: (10, 6), 1: (2, 2)}


def recurrent_cost(tokens: int, hidden: int, layers: Sequence[tuple[Tensor, Tensor]], biased: bool) -> Cost:
    """Layers of a recurrent net over `tokens` (steps × batch): the input and hidden products
    (MACs = tokens × (W_ih + W_hh elements)) and each cell's elementwise work (`_CELL_FLOPS`)."""
    macs = flops = bias = 0
    for w_ih, w_hh in layers:
        gates = w_ih.shape[0] // hidden
        own, biases = _CELL_FLOPS[gates]
        layer_macs = tokens * (w_ih.numel() + w_hh.numel())
        layer_bias = tokens * hidden * biases if biased else 0
        macs += layer_macs
        bias += layer_bias
        flops += 2 * layer_macs + tokens * hidden * own + layer_bias
    return Cost(macs, flops, bias)


@formula("linear", aten.mkldnn_rnn_layer)
def mkldnn_rnn(out: Tensor, /, *, input: Tensor, weight0: Tensor, weight1: Tensor, hidden_size: int,
               has_biases: bool, **_: Any) -> Cost:
    """oneDNN's one layer, one direction of an RNN (LSTM on cpu): as its decomposition."""
    return recurrent_cost(input.numel() // input.shape[-1], hidden_size, [(weight0, weight1)], has_biases)


@formula("linear", aten._cudnn_rnn, aten.miopen_rnn)
def cudnn_rnn(out: Tensor, /, *, input: Tensor, weight: Sequence[Tensor], weight_stride0: int, hidden_size: int,
              **_: Any) -> Cost:
    """cuDNN's (and MIOpen's) whole multi-layer RNN: per layer and direction the weights come as
    (W_ih, W_hh[, b_ih, b_hh]); counted as the decomposition."""
    groups = [weight[i: i + weight_stride0] for i in range(0, len(weight), weight_stride0)]
    steps_batch = input.numel() // input.shape[-1]
    return recurrent_cost(steps_batch, hidden_size, [(g[0], g[1]) for g in groups], weight_stride0 >= 4)


@formula("linear", aten._native_multi_head_attention)
def native_multi_head_attention(out: Tensor, /, *, query: Tensor, key: Tensor, embed_dim: int, num_head: int,
                                qkv_bias: Tensor | None, proj_bias: Tensor | None, mask: Tensor | None = None,
                                need_weights: bool = True, average_attn_weights: bool = True, **_: Any) -> Cost:
    """nn.MultiheadAttention's fast path, counted as the slow path (`F.multi_head_attention_forward`):
    in-projection of queries (L tokens) and keys and values (S tokens), the attention, the
    out-projection. Without weights the slow path calls SDPA (`attention` above); with them it
    scales q (1 per element), adds the mask (1 per score), softmax (3) and averages the heads (1)."""
    batch, length, source = query.shape[0], query.shape[1], key.shape[1]
    project = batch * (length + 2 * source) * embed_dim * embed_dim + batch * length * embed_dim * embed_dim
    biases = batch * (length + 2 * source) * embed_dim if qkv_bias is not None else 0
    biases += batch * length * embed_dim if proj_bias is not None else 0
    scores = batch * num_head * length * source
    if need_weights:
        macs = project + 2 * scores * (embed_dim // num_head)
        rest = batch * length * embed_dim + 3 * scores + (scores if mask is not None else 0)
        rest += scores if average_attn_weights else 0
    else:
        head_dim = embed_dim // num_head
        fused = attention_cost(batch * num_head, length, source, head_dim, head_dim, mask is not None, False)
        macs, rest = project + fused.macs, fused.flops - 2 * fused.macs
    return Cost(macs, 2 * macs + biases + rest, biases)


# --- attention's share of the linear category ------------------------------------------------------
# Attention's products (Q·Kᵀ and P·V) are linear work, as the projections around them are; they are
# told apart by their operands: a product of two activations, neither a parameter nor made from
# parameters alone, is attention's (or any activation product's). Fused kernels are attention
# whole; nn.MultiheadAttention's fast path is attention only in its part past the projections.

PRODUCTS = frozenset({aten.mm, aten.bmm, aten.addmm, aten.baddbmm})
FUSED_ATTENTION = frozenset({aten._scaled_dot_product_flash_attention, aten._scaled_dot_product_flash_attention_for_cpu,
                             aten._scaled_dot_product_efficient_attention, aten._scaled_dot_product_cudnn_attention})


def attention_macs(packet: Any, cost: Cost, weighted: bool, named: Mapping[str, Any]) -> int:
    """The part of a linear op's MACs that multiplies two activations (`weighted`: an operand is
    a parameter, or made from parameters alone)."""
    if packet in FUSED_ATTENTION or (packet in PRODUCTS and not weighted):
        return cost.macs
    if packet is aten._native_multi_head_attention:
        query, key, embed_dim, heads = named["query"], named["key"], named["embed_dim"], named["num_head"]
        return 2 * query.shape[0] * heads * query.shape[1] * key.shape[1] * (embed_dim // heads)
    return 0


# --- ops of libraries archstat never imports (torchvision's detection ops) -----------------------
# Their op packets exist only once the library is loaded, so they are registered by qualified
# name and looked up by `formula_for` the first time they run.

NAMED_FORMULAS: dict[str, tuple[Category, Formula]] = {}


def named_formula(category: Category, *names: str) -> Callable[[F], F]:
    """Register the decorated function as the cost of each op named `namespace::op` in `names`."""
    return registering(NAMED_FORMULAS, names, lambda fn: (category, fn))


def formula_for(packet: Any) -> tuple[Category, Formula] | None:
    """The category and formula of an op packet: the table entry, or one registered by name."""
    entry = FORMULAS.get(packet)
    if entry is None:
        entry = NAMED_FORMULAS.get(getattr(packet, "_qualified_op_name", ""))
        if entry is not None:
            FORMULAS[packet] = entry
    return entry


BILINEAR_SAMPLE = 2 * 4 - 1 + 1   # one bilinear sample (4 taps, as interpolation) and its share of the mean


@named_formula("pool", "torchvision::roi_align")
def roi_align(out: Tensor, /, *, rois: Tensor, spatial_scale: float, pooled_height: int, pooled_width: int,
              sampling_ratio: int, aligned: bool, **_: Any) -> Cost:
    """RoIAlign: every output bin averages its grid of bilinear samples, 8 FLOPs a sample
    (7 to interpolate, 1 to average). A positive `sampling_ratio` r gives r × r samples a bin; the
    adaptive grid (r ≤ 0) has ⌈roi_h / pooled_h⌉ × ⌈roi_w / pooled_w⌉, read from the boxes' values.
    """
    if sampling_ratio > 0 or out.numel() == 0:
        return Cost(0, out.numel() * max(sampling_ratio, 0) ** 2 * BILINEAR_SAMPLE)
    bins = out[0].numel()   # C × pooled_height × pooled_width per box
    if rois.is_meta:
        raise RuntimeError("roi_align's adaptive sampling grid depends on the boxes' values")
    offset = 0.5 if aligned else 0.0
    boxes = rois[:, 1:].double() * spatial_scale - offset
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    if not aligned:
        width, height = width.clamp(min=1.0), height.clamp(min=1.0)
    samples = (torch.ceil(height / pooled_height) * torch.ceil(width / pooled_width)).clamp(min=1)
    return Cost(0, int(samples.sum().item()) * bins * BILINEAR_SAMPLE)


IOU_FLOPS = 13   # intersection 4 min/max + 2 subtractions + 2 clamps + 1 multiply; union 2; divide 1; compare 1


@named_formula("other", "torchvision::nms")
def nms(out: Tensor, /, *, dets: Tensor, **_: Any) -> Cost:
    """Non-maximum suppression over n boxes: the sort by score (n·⌈log₂ n⌉ comparisons), the areas
    (3 FLOPs a box) and the IoU of every pair once, 13 FLOPs each: the kernel's worst case, since how
    many pairs it skips depends on which boxes are suppressed."""
    n = dets.shape[0]
    return Cost(0, n * math.ceil(math.log2(max(n, 2))) + 3 * n + IOU_FLOPS * n * (n - 1) // 2)


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
    aten.upsample_nearest2d, aten.upsample_nearest1d, aten.upsample_nearest3d, aten._upsample_nearest_exact1d,
    aten._upsample_nearest_exact2d, aten._upsample_nearest_exact3d, aten._unsafe_index, aten.masked_select,
    aten.take, aten.index_copy, aten.index_copy_, aten.index_fill, aten.index_fill_, aten.masked_scatter,
    aten.masked_scatter_, aten.slice_scatter, aten.select_scatter, aten.diagonal_scatter, aten.nonzero,
    aten.pixel_shuffle, aten.pixel_unshuffle, aten.eye, aten.tril, aten.tril_, aten.triu, aten.triu_,
    aten.as_strided_, aten.unsafe_split, aten.unsafe_split_with_sizes, aten.unsafe_chunk, aten.transpose_,
    aten.t_, aten.squeeze_, aten.unsqueeze_, aten.repeat_interleave, aten.flip, aten.diag, aten.diagonal,
    aten.diag_embed, aten.linspace, aten.logspace, aten.randint, aten.randperm, aten.randn_like,
    aten.rand_like, aten.bernoulli, aten.exponential_, aten.random_, aten.scalar_tensor,
    aten._local_scalar_dense, aten.reflection_pad1d, aten.reflection_pad2d, aten.reflection_pad3d,
    aten.replication_pad1d, aten.replication_pad2d, aten.replication_pad3d, aten.im2col, aten.resize_,
    aten.sym_size, aten.alias_copy, aten.lift,
})

# The formulas as users read them; stored in every JSON and printed under every table.
CONVENTIONS: dict[str, str] = {
    "macs": "multiply-accumulates of conv, linear, matmul and attention only",
    "flops": "all floating-point operations, a multiply-add counted as 2 (FLOPs = 2 x MACs + the rest)",
    "conv": "MACs = out elements x C_in/groups x kernel elements (transposed: in elements x "
    "C_out/groups x kernel); bias +1 FLOP per output element",
    "linear": "MACs = M x K x N per (batched) product; bias +1 FLOP per output element; "
    "attention (fused or not) B x H x L x S x (E + E_v) MACs, q and k scaled 1 FLOP per element, "
    "softmax 3 and a mask 1 per score (a causal mask made 1 per L x S); MultiheadAttention's and "
    "RNNs' fused kernels count as their decompositions (LSTM 4, GRU 3, RNN 1 gate products)",
    "norm": "batch norm 2 FLOPs/element to normalise + 2 for scale and shift (+4 in training for "
    "statistics); layer/group norm 6 + 2 affine",
    "activation": "1 FLOP per output element (ReLU, tanh, sigmoid, GELU, ...); softmax 3",
    "pool": "1 FLOP per window element per output (max: comparisons; avg: adds and the divide); "
    "adaptive pools use their exact windows; batched or not; torchvision's roi_align 8 FLOPs per "
    "bilinear sample (7 to interpolate, 1 to average), r x r samples a bin, or the adaptive grid read "
    "from the boxes",
    "elementwise": "1 FLOP per output element (add, mul, div, comparisons, masks, logical and bitwise "
    "ops, trigonometric and exponential functions, cumulative sums); reductions (sum, mean, max, "
    "argmax) 1 per input element; scatter_add, index_add, embedding_bag 1 per value added",
    "other": "sort n x ceil(log2 n) comparisons per row, topk n x ceil(log2 k); interpolation and "
    "grid_sample weigh 2^d (linear) or 4^d (cubic) inputs: 2 x taps - 1 FLOPs per output; torchvision's "
    "nms n x ceil(log2 n) to sort, 3 per box for the areas and 13 per IoU for every pair once (the "
    "kernel's worst case)",
    "free": "view, reshape, cat, copy, pad, gather, index, embedding, scatter, masked_fill, tril, "
    "pixel_shuffle, eye, nearest upsampling, dropout in eval: 0 FLOPs",
    "unsupported": "an op with no formula is listed and the totals are marked partial",
    "activation_bytes": "sum of layer outputs: the output of every leaf module and of every "
    "functional op called directly in a container, each tensor counted once (in-place ops and "
    "views are not counted again); the input is not included",
    "peak_activation_bytes": "largest total of live tensors during an inference forward, each "
    "freed after its last use; the input is included, parameters are not",
    "training_activation_bytes": "tensors autograd saves for backward in a training-mode "
    "forward, parameters excluded (measured by a second forward: analyze(saved_for_backward=True), "
    "which summary, report, compare and sweep ask for; null otherwise)",
    "param_bytes": "parameters and buffers at the analysis dtype",
}

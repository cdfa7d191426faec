"""Direct shape computations for the meta device.

PyTorch's meta kernels for many common ops are Python decompositions: slow (~10 ms for batch
norm) and, on their first call, importing sympy and torch._dynamo (~2 s together). Their output
shapes are simple, so `MetaShortcuts` makes them directly; anything unusual (odd arguments, type
promotion, invalid input) returns None and goes to PyTorch, which raises its own errors.
tests/test_meta_kernels.py checks every shortcut against PyTorch's real kernels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import torch
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode

from archstat.analysis.ops.call import named_args, per_axis, register, registering

aten = torch.ops.aten

# Called as shortcut(**arguments by schema name) (see `archstat.analysis.ops.call`); returns the
# op's outputs, or None to leave the call to PyTorch.
Shortcut = Callable[..., Any]
S = TypeVar("S", bound=Shortcut)

# PyTorch computes these ops' meta outputs through Python decompositions that cost ~10 ms a
# call; their output shapes are trivial, so on the meta device we make them directly.
_META_SHORTCUTS: dict[Any, Shortcut] = {}


def shortcut(*overloads: Any) -> Callable[[S], S]:
    """Register the decorated function as the meta shortcut of each op overload in `overloads`."""
    return registering(_META_SHORTCUTS, overloads)


def empty(shape: Sequence[int], dtype: torch.dtype, device: Any, *, requires_grad: bool = False) -> Tensor:
    """`torch.empty(shape, ...)` with the sizes as separate arguments, which PyTorch parses in about
    half the time of one sequence (a `torch.Size` most of all); the same tensor."""
    if not shape:
        return torch.empty((), dtype=dtype, device=device, requires_grad=requires_grad)
    return torch.empty(*shape, dtype=dtype, device=device, requires_grad=requires_grad)


def _empty(shape: Sequence[int], like: Tensor, dtype: torch.dtype | None = None) -> Tensor:
    return empty(shape, dtype or like.dtype, like.device)


@shortcut(aten.empty_like.default)
def _empty_like(*, self: Tensor, dtype: torch.dtype | None = None, device: Any = None, **_: Any) -> Tensor | None:
    return _empty(self.shape, self, dtype) if device is None else None


@shortcut(aten.native_batch_norm.default, aten._native_batch_norm_legit.default,
          aten._native_batch_norm_legit_no_training.default)
def _batch_norm(*, input: Tensor, training: bool = False, **_: Any) -> tuple[Tensor, ...]:
    """Batch norm: the output, and the saved statistics, which are empty in eval as on the CPU."""
    channels = (input.shape[1] if training else 0,)
    return (
        _empty(input.shape, input),
        empty(channels, torch.float32, input.device),
        empty(channels, torch.float32, input.device),
    )


def _product(a: Tensor, b: Tensor) -> Tensor | None:
    if a.shape[-1] != b.shape[-2] or a.shape[:-2] != b.shape[:-2] or a.dtype != b.dtype:
        return None  # PyTorch raises its own error
    return _empty((*a.shape[:-1], b.shape[-1]), a)


@shortcut(aten.mm.default, aten.bmm.default)
def _matmul(*, self: Tensor, mat2: Tensor, **_: Any) -> Tensor | None:
    return _product(self, mat2)


@shortcut(aten.addmm.default)
def _addmm(*, self: Tensor, mat1: Tensor, mat2: Tensor, **_: Any) -> Tensor | None:
    out = _product(mat1, mat2)
    if out is None or self.dtype != out.dtype or _broadcast([tuple(self.shape), tuple(out.shape)]) != out.shape:
        return None
    return out


@shortcut(aten.convolution.default)
def _convolution(*, input: Tensor, weight: Tensor, stride: Sequence[int], padding: Sequence[int],
                 dilation: Sequence[int], transposed: bool, output_padding: Sequence[int], groups: int,
                 **_: Any) -> Tensor | None:
    x = input
    spatial = weight.dim() - 2
    if x.dim() != weight.dim() or spatial < 1:
        return None  # unbatched or unusual: let PyTorch handle it
    stride, padding, dilation = (per_axis(v, spatial) for v in (stride, padding, dilation))
    output_padding = per_axis(output_padding, spatial)
    if transposed:
        channels_in, channels_out = weight.shape[0], weight.shape[1] * groups
    else:
        channels_in, channels_out = weight.shape[1] * groups, weight.shape[0]
    if x.shape[1] != channels_in:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{list(x.shape)} "
            f"to have {channels_in} channels, but got {x.shape[1]} channels instead"
        )
    sizes = []
    for i in range(spatial):
        size_in, k = x.shape[2 + i], dilation[i] * (weight.shape[2 + i] - 1) + 1
        if transposed:
            size = (size_in - 1) * stride[i] - 2 * padding[i] + k + output_padding[i]
        else:
            size = (size_in + 2 * padding[i] - k) // stride[i] + 1
        if size <= 0:
            raise RuntimeError(
                f"Calculated padded input size per channel: ({size_in + 2 * padding[i]}). "
                f"Kernel size: ({k}). Kernel size can't be greater than actual input size"
            )
        sizes.append(size)
    return _empty((x.shape[0], channels_out, *sizes), x)


def _pool_size(size_in: int, k: int, pad: int, stride: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size, ceil_mode's rule included (the last window starts inside)."""
    span = size_in + 2 * pad - dilation * (k - 1) - 1 + (stride - 1 if ceil_mode else 0)
    size = span // stride + 1
    if ceil_mode and (size - 1) * stride >= size_in + pad:
        size -= 1
    return size


def _pool(*, self: Tensor, kernel_size: Sequence[int], stride: Sequence[int] = (), padding: Sequence[int] = (0,),
          dilation: Sequence[int] = (1,), ceil_mode: bool = False, **_: Any) -> Tensor | None:
    """Max and average pools (an average pool has no `dilation`)."""
    x = self
    spatial = len(kernel_size) if len(kernel_size) > 1 else 2
    if spatial > 3 or x.dim() < spatial + 1:
        return None
    kernel = per_axis(kernel_size, spatial)
    strides = per_axis(stride or kernel, spatial)
    pads = per_axis(padding, spatial)
    dilations = per_axis(dilation, spatial)
    if any(2 * p > k for p, k in zip(pads, kernel, strict=True)):
        return None  # PyTorch raises its own error
    first = x.dim() - spatial
    lead = x.shape[:first]
    sizes = [
        _pool_size(x.shape[first + i], kernel[i], pads[i], strides[i], dilations[i], bool(ceil_mode))
        for i in range(spatial)
    ]
    if any(s <= 0 for s in sizes):
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output size: "
            f"({'x'.join(map(str, (*lead[1:], *sizes)))}). Output size is too small"
        )
    return _empty((*lead, *sizes), x)


register(_META_SHORTCUTS, (aten.max_pool2d.default, aten.avg_pool2d.default, aten.avg_pool3d.default), _pool)


@shortcut(aten.max_pool2d_with_indices.default)
def _pool_with_indices(**args: Any) -> tuple[Tensor, Tensor] | None:
    out = _pool(**args)
    return None if out is None else (out, empty(out.shape, torch.int64, out.device))


@shortcut(aten._adaptive_avg_pool2d.default)
def _adaptive_pool(*, self: Tensor, output_size: Sequence[int], **_: Any) -> Tensor | None:
    if self.dim() < len(output_size) + 1 or any(s <= 0 for s in output_size):
        return None
    return _empty((*self.shape[: self.dim() - len(output_size)], *output_size), self)


@shortcut(aten.native_layer_norm.default)
def _layer_norm(*, input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None, bias: Tensor | None,
                **_: Any) -> tuple[Tensor, Tensor, Tensor] | None:
    """Layer norm: the output and the saved mean and reciprocal deviation, one per normalised row.

    float32 and float64 only: for lower precisions the meta kernel keeps the statistics in float32."""
    n = len(normalized_shape)
    if (input.dtype not in (torch.float32, torch.float64) or not 0 < n <= input.dim()
            or tuple(input.shape[-n:]) != tuple(normalized_shape)
            or any(t is not None and (t.dtype != input.dtype or tuple(t.shape) != tuple(normalized_shape))
                   for t in (weight, bias))):
        return None
    stats = (*input.shape[: input.dim() - n], *([1] * n))
    return _empty(input.shape, input), _empty(stats, input), _empty(stats, input)


@shortcut(aten.gelu.default)
def _gelu(*, self: Tensor, **_: Any) -> Tensor | None:
    """GELU (both approximations): a tensor like its input, whose layout only a contiguous input fixes here."""
    return _empty(self.shape, self) if self.is_contiguous() else None


@shortcut(aten.gelu_.default)
def _gelu_in_place(*, self: Tensor, **_: Any) -> Tensor | None:
    return self


@shortcut(aten._safe_softmax.default)
def _safe_softmax(*, self: Tensor, dim: int, dtype: torch.dtype | None = None, **_: Any) -> Tensor | None:
    """The softmax in attention (`scaled_dot_product_attention`'s math path): contiguous, the input's shape."""
    rank = max(self.dim(), 1)
    if dtype not in (None, self.dtype) or not self.is_floating_point() or not -rank <= dim < rank:
        return None
    return _empty(self.shape, self)


def _broadcast(shapes: Sequence[tuple[int, ...]]) -> tuple[int, ...] | None:
    """NumPy broadcasting of plain shapes (torch's helper imports sympy); None if incompatible."""
    ndim = max(len(s) for s in shapes)
    out = [1] * ndim
    for shape in shapes:
        for i, size in enumerate(shape, start=ndim - len(shape)):
            if size != 1:
                if out[i] not in (1, size):
                    return None
                out[i] = size
    return tuple(out)


@shortcut(aten.mean.dim, aten.sum.dim_IntList)
def _reduce(*, self: Tensor, dim: Sequence[int] | None, keepdim: bool = False, dtype: torch.dtype | None = None,
            **_: Any) -> Tensor | None:
    if not dim or self.dim() == 0 or dtype not in (None, self.dtype):
        return None
    reduced = {d % self.dim() for d in dim}
    shape = [1 if i in reduced else s for i, s in enumerate(self.shape) if keepdim or i not in reduced]
    return _empty(shape, self)


@shortcut(aten.cat.default)
def _cat(*, tensors: Sequence[Tensor], dim: int = 0, **_: Any) -> Tensor | None:
    first = tensors[0]
    dim %= max(first.dim(), 1)
    rest = [tuple(s for i, s in enumerate(t.shape) if i != dim) for t in tensors]
    if any(t.dim() != first.dim() or t.dtype != first.dtype for t in tensors) or len(set(rest)) != 1:
        return None  # mixed or mismatched inputs: PyTorch's checks and messages
    shape = list(first.shape)
    shape[dim] = sum(t.shape[dim] for t in tensors)
    return _empty(shape, first)


def _elementwise(in_place: bool) -> Shortcut:
    """Same-dtype elementwise ops: the broadcast shape (in place: the first argument itself)."""

    def make(**args: Any) -> Tensor | None:
        values = args.values()
        tensors = [a for a in values if isinstance(a, Tensor)]
        first = tensors[0]
        if any(t.dtype != first.dtype or not t.is_meta for t in tensors):
            return None
        if not first.is_floating_point() and any(isinstance(a, float) for a in values):
            return None  # type promotion: let PyTorch decide
        shape = _broadcast([tuple(t.shape) for t in tensors])
        if shape is None:
            return None
        if in_place:
            return first if shape == first.shape else None
        return _empty(shape, first)

    return make


for _name in ("relu", "hardtanh", "sigmoid", "tanh", "add", "mul", "sub", "div", "silu", "hardswish", "pow"):
    for _packet, _in_place in ((getattr(aten, _name), False), (getattr(aten, _name + "_"), True)):
        _overloads = [getattr(_packet, o) for o in ("default", "Tensor", "Scalar", "Tensor_Scalar")
                      if hasattr(_packet, o)]
        register(_META_SHORTCUTS, _overloads, _elementwise(_in_place))


class MetaShortcuts(TorchDispatchMode):
    """A dispatch mode that only replaces slow meta kernels by direct shape computations."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # PyTorch otherwise wraps __torch_dispatch__ in a dynamo guard whose first call imports
        # torch._dynamo (1-2 s); nothing here is ever compiled.
        return False

    def run(self, func: Any, args: Sequence[Any], kwargs: Mapping[str, Any],
            named: Mapping[str, Any] | None = None) -> Any:
        """The op's outputs, made directly where a shortcut applies; `named`: the arguments by
        schema name when the caller has them already (they are made here otherwise)."""
        fast = _META_SHORTCUTS.get(func)
        if fast is not None and args:
            first = args[0]
            if isinstance(first, (list, tuple)) and first:
                first = first[0]
            if getattr(first, "is_meta", False):
                out = fast(**(named if named is not None else named_args(func, args, kwargs)))
                if out is not None:
                    return out
        return func(*args, **kwargs)

    def __torch_dispatch__(
        self, func: Any, types: Sequence[type], args: Sequence[Any] = (), kwargs: Any = None
    ) -> Any:
        return self.run(func, args, kwargs or {})

"""Direct shape computations for the meta device.

PyTorch's meta kernels for many common ops are Python decompositions: slow (~10 ms for batch
norm) and, on their first call, importing sympy and torch._dynamo (~2 s together). Their output
shapes are simple, so `MetaShortcuts` makes them directly; anything unusual (odd arguments, type
promotion, invalid input) returns None and goes to PyTorch, which raises its own errors.
tests/test_meta_kernels.py checks every shortcut against PyTorch's real kernels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode


def _batch_norm_meta(training_index: int | None) -> Any:
    """Batch norm: the output, and the saved statistics, which are empty in eval as on the CPU."""

    def shortcut(args: Sequence[Any]) -> tuple[torch.Tensor, ...]:
        training = training_index is not None and len(args) > training_index and bool(args[training_index])
        return _batch_norm_outputs(args[0], args[0].shape[1] if training else 0)

    return shortcut


def _batch_norm_outputs(x: torch.Tensor, stats: int) -> tuple[torch.Tensor, ...]:
    channels = (stats,)
    return (
        torch.empty(x.shape, dtype=x.dtype, device=x.device),
        torch.empty(channels, dtype=torch.float32, device=x.device),
        torch.empty(channels, dtype=torch.float32, device=x.device),
    )


def _matmul_meta(args: Sequence[Any]) -> torch.Tensor | None:
    a, b = args[-2], args[-1]
    if a.shape[-1] != b.shape[-2] or a.shape[:-2] != b.shape[:-2] or a.dtype != b.dtype:
        return None  # PyTorch raises its own error
    return torch.empty((*a.shape[:-1], b.shape[-1]), dtype=a.dtype, device=a.device)


def _expand(values: Sequence[int], n: int) -> list[int]:
    return list(values) * n if len(values) == 1 else list(values)


def _convolution_meta(args: Sequence[Any]) -> torch.Tensor | None:
    x, weight = args[0], args[1]
    stride, padding, dilation, transposed, output_padding, groups = args[3:9]
    spatial = weight.dim() - 2
    if x.dim() != weight.dim() or spatial < 1:
        return None  # unbatched or unusual: let PyTorch handle it
    stride, padding, dilation = (_expand(v, spatial) for v in (stride, padding, dilation))
    output_padding = _expand(output_padding, spatial)
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
    return torch.empty((x.shape[0], channels_out, *sizes), dtype=x.dtype, device=x.device)


def _pool_size(size_in: int, k: int, pad: int, stride: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size, ceil_mode's rule included (the last window starts inside)."""
    span = size_in + 2 * pad - dilation * (k - 1) - 1 + (stride - 1 if ceil_mode else 0)
    size = span // stride + 1
    if ceil_mode and (size - 1) * stride >= size_in + pad:
        size -= 1
    return size


def _pool_meta(with_indices: bool, has_dilation: bool) -> Any:
    def shortcut(args: Sequence[Any]) -> Any:
        x = args[0]
        spatial = len(args[1]) if len(args[1]) > 1 else 2
        if spatial > 3:
            return None
        if x.dim() < spatial + 1:
            return None
        kernel = _expand(args[1], spatial)
        stride = _expand(args[2] if len(args) > 2 and args[2] else kernel, spatial)
        padding = _expand(args[3] if len(args) > 3 else [0], spatial)
        index = 5 if has_dilation else 4
        dilation = _expand(args[4], spatial) if has_dilation and len(args) > 4 else [1] * spatial
        ceil_mode = bool(args[index]) if len(args) > index else False
        if any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
            return None  # PyTorch raises its own error
        lead = x.shape[: x.dim() - spatial]
        first = x.dim() - spatial
        sizes = [
            _pool_size(x.shape[first + i], kernel[i], padding[i], stride[i], dilation[i], ceil_mode)
            for i in range(spatial)
        ]
        if any(s <= 0 for s in sizes):
            raise RuntimeError(
                f"Given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output size: "
                f"({'x'.join(map(str, (*lead[1:], *sizes)))}). Output size is too small"
            )
        out = torch.empty((*lead, *sizes), dtype=x.dtype, device=x.device)
        if with_indices:
            return out, torch.empty(out.shape, dtype=torch.int64, device=x.device)
        return out

    return shortcut


def _adaptive_pool_meta(args: Sequence[Any]) -> torch.Tensor | None:
    x, size = args[0], list(args[1])
    if x.dim() < len(size) + 1 or any(s <= 0 for s in size):
        return None
    return torch.empty((*x.shape[: x.dim() - len(size)], *size), dtype=x.dtype, device=x.device)


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


def _mean_meta(args: Sequence[Any]) -> torch.Tensor | None:
    x = args[0]
    dims = args[1] if len(args) > 1 else None
    if not dims or x.dim() == 0:
        return None
    reduced = {d % x.dim() for d in dims}
    keep = bool(args[2]) if len(args) > 2 else False
    shape = [1 if i in reduced else s for i, s in enumerate(x.shape) if keep or i not in reduced]
    return torch.empty(shape, dtype=x.dtype, device=x.device)


def _cat_meta(args: Sequence[Any]) -> torch.Tensor | None:
    tensors = list(args[0])
    first = tensors[0]
    dim = (args[1] if len(args) > 1 else 0) % max(first.dim(), 1)
    rest = [tuple(s for i, s in enumerate(t.shape) if i != dim) for t in tensors]
    if any(t.dim() != first.dim() or t.dtype != first.dtype for t in tensors) or len(set(rest)) != 1:
        return None  # mixed or mismatched inputs: PyTorch's checks and messages
    shape = list(first.shape)
    shape[dim] = sum(t.shape[dim] for t in tensors)
    return torch.empty(shape, dtype=first.dtype, device=first.device)


def _elementwise_meta(in_place: bool) -> Any:
    """Same-dtype elementwise ops: the broadcast shape (in place: the first argument itself)."""

    def shortcut(args: Sequence[Any]) -> torch.Tensor | None:
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        first = tensors[0]
        if any(t.dtype != first.dtype or not t.is_meta for t in tensors):
            return None
        if any(isinstance(a, float) for a in args) and not first.is_floating_point():
            return None  # type promotion: let PyTorch decide
        shape = _broadcast([tuple(t.shape) for t in tensors])
        if shape is None:
            return None
        if in_place:
            return first if shape == first.shape else None
        return torch.empty(shape, dtype=first.dtype, device=first.device)

    return shortcut


_EMPTY_LIKE = torch.ops.aten.empty_like.default
_UNARY_OR_BINARY = ("relu", "hardtanh", "sigmoid", "tanh", "add", "mul", "sub", "div", "silu", "hardswish",
                    "pow")


# PyTorch computes these ops' meta outputs through Python decompositions that cost ~10 ms a
# call; their output shapes are trivial, so on the meta device we make them directly.
_META_SHORTCUTS: dict[Any, Any] = {
    torch.ops.aten.native_batch_norm.default: _batch_norm_meta(training_index=5),
    torch.ops.aten._native_batch_norm_legit_no_training.default: _batch_norm_meta(training_index=None),
    torch.ops.aten._native_batch_norm_legit.default: _batch_norm_meta(training_index=5),
    torch.ops.aten.convolution.default: _convolution_meta,
    torch.ops.aten._adaptive_avg_pool2d.default: _adaptive_pool_meta,
    torch.ops.aten.max_pool2d_with_indices.default: _pool_meta(with_indices=True, has_dilation=True),
    torch.ops.aten.max_pool2d.default: _pool_meta(with_indices=False, has_dilation=True),
    torch.ops.aten.avg_pool2d.default: _pool_meta(with_indices=False, has_dilation=False),
    torch.ops.aten.avg_pool3d.default: _pool_meta(with_indices=False, has_dilation=False),
    torch.ops.aten.mean.dim: _mean_meta,
    torch.ops.aten.sum.dim_IntList: _mean_meta,
    torch.ops.aten.cat.default: _cat_meta,
    torch.ops.aten.addmm.default: _matmul_meta,
    torch.ops.aten.mm.default: _matmul_meta,
    torch.ops.aten.bmm.default: _matmul_meta,
}
for _name in _UNARY_OR_BINARY:
    _variants = ((getattr(torch.ops.aten, _name), False), (getattr(torch.ops.aten, _name + "_"), True))
    for _packet, _in_place in _variants:
        for _overload in ("default", "Tensor", "Scalar", "Tensor_Scalar"):
            if hasattr(_packet, _overload):
                _META_SHORTCUTS[getattr(_packet, _overload)] = _elementwise_meta(_in_place)


class MetaShortcuts(TorchDispatchMode):
    """A dispatch mode that only replaces slow meta kernels by direct shape computations."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # PyTorch otherwise wraps __torch_dispatch__ in a dynamo guard whose first call imports
        # torch._dynamo (1-2 s); nothing here is ever compiled.
        return False

    def run(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        if func is _EMPTY_LIKE and getattr(args[0], "is_meta", False) and kwargs.get("device") is None:
            x = args[0]
            return torch.empty(x.shape, dtype=kwargs.get("dtype") or x.dtype, device=x.device)
        shortcut = _META_SHORTCUTS.get(func)
        first = args[0] if args else None
        if isinstance(first, (list, tuple)) and first:
            first = first[0]
        if shortcut is not None and not kwargs and getattr(first, "is_meta", False):
            out = shortcut(args)
            if out is not None:
                return out
        return func(*args, **kwargs)

    def __torch_dispatch__(
        self, func: Any, types: Sequence[type], args: Sequence[Any] = (), kwargs: Any = None
    ) -> Any:
        return self.run(func, args, kwargs or {})

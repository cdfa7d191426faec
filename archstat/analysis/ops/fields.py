"""How each ATen op changes the receptive field of the maps it reads (see `rf.py`).

Spatial axes are the trailing dimensions of a map (H, W of NCHW). Convolutions and pools grow
the field; ops that reduce or flatten the spatial axes make every unit see the whole input;
everything else that keeps the trailing sizes (activations, norms, elementwise ops, channel
concatenation) merges the fields of its inputs; an op that changes the trailing sizes in any
other way is marked not modelled instead of being given a made-up number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from archstat.analysis.rf.field import Field, merge

aten = torch.ops.aten
Rule = Callable[[Sequence[Any], Sequence[Field], torch.Tensor], Field]


def _expand(values: Sequence[int] | int, n: int) -> list[int]:
    if isinstance(values, int):
        return [values] * n
    return list(values) * n if len(values) == 1 else list(values)


def _window(kernel_index: int, stride_index: int, padding_index: int, dilation_index: int | None,
            kernel_from_weight: bool = False) -> Rule:
    """Conv and pool: kernel, stride, padding and dilation over the trailing axes."""

    def rule(args: Sequence[Any], fields: Sequence[Field], out: torch.Tensor) -> Field:
        field = fields[0]
        if field.whole or field.unknown:
            return field
        n = len(field.axes)
        kernel = list(args[kernel_index].shape[2:]) if kernel_from_weight else _expand(args[kernel_index], n)
        if len(kernel) < n:
            return Field.not_modelled("a window over fewer axes than the map has")
        kernel = kernel[-n:]
        stride_arg = args[stride_index] if len(args) > stride_index else []
        stride = _expand(stride_arg, n)[-n:] if stride_arg else kernel
        padding = _expand(args[padding_index] if len(args) > padding_index else 0, n)[-n:]
        dilation = (
            _expand(args[dilation_index], n)[-n:]
            if dilation_index is not None and len(args) > dilation_index else [1] * n
        )
        return field.then(kernel, stride, padding, dilation)

    return rule


def _convolution(args: Sequence[Any], fields: Sequence[Field], out: torch.Tensor) -> Field:
    if len(args) > 6 and args[6]:
        return Field.not_modelled("transposed convolution")
    return _CONV(args, fields, out)


_CONV = _window(kernel_index=1, stride_index=3, padding_index=4, dilation_index=5, kernel_from_weight=True)


def _adaptive(args: Sequence[Any], fields: Sequence[Field], out: torch.Tensor) -> Field:
    field, x = fields[0], args[0]
    n = len(field.axes)
    if field.whole or field.unknown:
        return field
    size_out = list(out.shape[-n:])
    size_in = list(x.shape[-n:])
    if all(o == 1 for o in size_out):
        return Field.whole_input()
    kernel, stride = [], []
    uneven = False
    for i, o in zip(size_in, size_out, strict=True):
        if i % o == 0:
            kernel.append(i // o)
            stride.append(i // o)
        else:
            uneven = True
            kernel.append(math.ceil(i / o) + 1)
            stride.append(i // o)
    grown = field.then(kernel, stride, [0] * n, [1] * n)
    if uneven:
        return Field(axes=grown.axes, unaligned="adaptive pool with uneven windows: the largest window is shown")
    return grown


def _reduction(args: Sequence[Any], fields: Sequence[Field], out: torch.Tensor) -> Field:
    x = args[0]
    dims = args[1] if len(args) > 1 and args[1] is not None else range(x.dim())
    if isinstance(dims, int):
        dims = [dims]
    spatial = len(fields[0].axes)
    if any(d % x.dim() >= x.dim() - spatial for d in dims):
        return Field.whole_input()
    return merge(fields)


def _matmul(args: Sequence[Any], fields: Sequence[Field], out: torch.Tensor) -> Field:
    return Field.whole_input()


def _pad(args: Sequence[Any], fields: Sequence[Field], out: torch.Tensor) -> Field:
    field, pad = fields[0], list(args[1])
    if field.whole or field.unknown:
        return field
    axes = list(field.axes)
    # pad lists (before, after) pairs from the last axis backwards.
    for k in range(min(len(pad) // 2, len(axes))):
        axes[-1 - k] = axes[-1 - k].shifted(pad[2 * k])
    return Field(axes=tuple(axes), unaligned=field.unaligned)


def _slice(args: Sequence[Any], fields: Sequence[Field], out: torch.Tensor) -> Field:
    """x[..., start::step] along a spatial axis: unit u is the old unit start + u·step."""
    field, x = fields[0], args[0]
    if field.whole or field.unknown:
        return field
    dim = (args[1] if len(args) > 1 else 0) % x.dim()
    axis = dim - (x.dim() - len(field.axes))
    if axis < 0:
        return field  # a channel or batch slice leaves the field alone
    start = args[2] if len(args) > 2 and args[2] is not None else 0
    step = args[4] if len(args) > 4 else 1
    if start < 0:
        return Field.not_modelled("a spatial slice from the end")
    axes = list(field.axes)
    axes[axis] = axes[axis].then(kernel=1, stride=step, padding=-start)
    return Field(axes=tuple(axes), unaligned=field.unaligned)


RULES: dict[Any, Rule] = {
    aten.slice: _slice,
    aten.convolution: _convolution,
    aten._convolution: _convolution,
    aten.max_pool2d_with_indices: _window(1, 2, 3, 4),
    aten.max_pool2d: _window(1, 2, 3, 4),
    aten.max_pool3d_with_indices: _window(1, 2, 3, 4),
    aten.avg_pool2d: _window(1, 2, 3, None),
    aten.avg_pool3d: _window(1, 2, 3, None),
    aten._adaptive_avg_pool2d: _adaptive,
    aten.adaptive_max_pool2d: _adaptive,
    aten.mean: _reduction,
    aten.sum: _reduction,
    aten.amax: _reduction,
    aten.mm: _matmul,
    aten.addmm: _matmul,
    aten.constant_pad_nd: _pad,
}


def propagate(func: Any, args: Sequence[Any], fields: Sequence[Field], inputs: Sequence[torch.Tensor],
              out: torch.Tensor) -> Field:
    """The field of `out`, from the fields of the op's inputs that carry one."""
    rule = RULES.get(func.overloadpacket)
    if rule is not None:
        return rule(args, fields, out)
    if len(fields) == 1 and inputs[0].shape == out.shape:
        return fields[0]  # activations, norms, in-place ops: the field passes through
    spatial = max(len(f.axes) for f in fields)
    if not spatial:
        return merge(fields)
    if out.dim() <= spatial:
        return Field.whole_input()  # the spatial axes were flattened away
    trailing = tuple(out.shape[-spatial:])
    # Maps whose spatial size differs from the output's (a broadcast whole-input scale is fine).
    if any(not f.whole and tuple(t.shape[-spatial:]) != trailing for t, f in zip(inputs, fields, strict=True)):
        return Field.not_modelled(f"{func.overloadpacket.__name__} changes the spatial size")
    return merge(fields)

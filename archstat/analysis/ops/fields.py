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
from typing import Any, TypeVar

import torch
from torch import Tensor

from archstat.analysis.ops.call import OpCall, per_axis, registering
from archstat.analysis.rf.field import Field, merge

aten = torch.ops.aten

# Called as rule(fields, out, **arguments): the fields of the inputs that carry one, the op's first
# output, then the op's arguments by schema name (see `archstat.analysis.ops.call`).
Rule = Callable[..., Field]
R = TypeVar("R", bound=Rule)

RULES: dict[Any, Rule] = {}


def rule(*ops: Any) -> Callable[[R], R]:
    """Register the decorated function as the receptive-field rule of each op packet in `ops`."""
    return registering(RULES, ops)


@rule(aten.convolution, aten._convolution, aten.max_pool2d_with_indices, aten.max_pool2d,
      aten.max_pool3d_with_indices, aten.avg_pool2d, aten.avg_pool3d)
def window(fields: Sequence[Field], out: Tensor, /, *, weight: Tensor | None = None,
           kernel_size: Sequence[int] = (), stride: Sequence[int] = (), padding: Sequence[int] | int = 0,
           dilation: Sequence[int] | int = 1, transposed: bool = False, **_: Any) -> Field:
    """Conv and pool: kernel (a conv's from its weight), stride, padding and dilation over the
    trailing axes; an average pool has no dilation, a pool's stride defaults to its kernel."""
    if transposed:
        return Field.not_modelled("transposed convolution")
    field = fields[0]
    if field.whole or field.unknown:
        return field
    n = len(field.axes)
    kernel = list(weight.shape[2:]) if weight is not None else per_axis(kernel_size, n)
    if len(kernel) < n:
        return Field.not_modelled("a window over fewer axes than the map has")
    kernel = kernel[-n:]
    strides = per_axis(stride, n)[-n:] if stride else kernel
    pads = per_axis(padding, n)[-n:]
    if all(k == 1 for k in kernel) and all(s == 1 for s in strides) and not any(pads):
        return field  # a 1×1 window at stride 1 and no padding (a pointwise conv): `then` would give it back
    return field.then(kernel, strides, pads, per_axis(dilation, n)[-n:])


@rule(aten._adaptive_avg_pool2d, aten.adaptive_max_pool2d)
def adaptive(fields: Sequence[Field], out: Tensor, /, *, self: Tensor, **_: Any) -> Field:
    """Adaptive pool: to one unit, the whole input; else the (largest) window it uses."""
    field = fields[0]
    n = len(field.axes)
    if field.whole or field.unknown:
        return field
    size_out = list(out.shape[-n:])
    size_in = list(self.shape[-n:])
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


@rule(aten.mean, aten.sum, aten.amax)
def reduction(fields: Sequence[Field], out: Tensor, /, *, self: Tensor, dim: Sequence[int] | int | None = None,
              **_: Any) -> Field:
    """A reduction over a spatial axis sees the whole input (no `dim`, or an empty one: every axis)."""
    dims = [dim] if isinstance(dim, int) else (dim or range(self.dim()))
    spatial = len(fields[0].axes)
    if any(d % self.dim() >= self.dim() - spatial for d in dims):
        return Field.whole_input()
    return merge(fields)


@rule(aten.mm, aten.addmm)
def matmul(fields: Sequence[Field], out: Tensor, /, **_: Any) -> Field:
    """A matrix product mixes every position (an FC layer after flatten); one that reads a map whose
    field is already not modelled (a channels-last Linear after a permute) keeps it not modelled."""
    return next((f for f in fields if f.unknown), Field.whole_input())


@rule(aten.constant_pad_nd)
def constant_pad(fields: Sequence[Field], out: Tensor, /, *, pad: Sequence[int], **_: Any) -> Field:
    """Padding shifts the field's start on each padded axis."""
    field = fields[0]
    if field.whole or field.unknown:
        return field
    axes = list(field.axes)
    # pad lists (before, after) pairs from the last axis backwards.
    for k in range(min(len(pad) // 2, len(axes))):
        axes[-1 - k] = axes[-1 - k].shifted(pad[2 * k])
    return Field(axes=tuple(axes), unaligned=field.unaligned)


@rule(aten.slice)
def slice_(fields: Sequence[Field], out: Tensor, /, *, self: Tensor, dim: int = 0, start: int | None = None,
           step: int = 1, **_: Any) -> Field:
    """x[..., start::step] along a spatial axis: unit u is the old unit start + u·step."""
    field = fields[0]
    if field.whole or field.unknown:
        return field
    axis = dim % self.dim() - (self.dim() - len(field.axes))
    if axis < 0:
        return field  # a channel or batch slice leaves the field alone
    start = start or 0
    if start < 0:
        return Field.not_modelled("a spatial slice from the end")
    axes = list(field.axes)
    axes[axis] = axes[axis].then(kernel=1, stride=step, padding=-start)
    return Field(axes=tuple(axes), unaligned=field.unaligned)


def propagate(call: OpCall, fields: Sequence[Field], inputs: Sequence[Tensor]) -> Field:
    """The field of the op's first output, from the fields of its `inputs` that carry one."""
    out = call.outs[0]
    known = RULES.get(call.packet)
    if known is not None:
        return known(fields, out, **call.args)
    if len(fields) == 1 and inputs[0].shape == out.shape:
        return fields[0]  # activations, norms, in-place ops: the field passes through
    spatial = max(len(f.axes) for f in fields)
    if not spatial:
        return merge(fields)
    if out.dim() <= spatial:
        return Field.whole_input()  # the spatial axes were flattened away
    trailing = out.shape[-spatial:]
    # Maps whose spatial size differs from the output's (a broadcast whole-input scale is fine).
    if any(not f.whole and t.shape[-spatial:] != trailing for t, f in zip(inputs, fields, strict=True)):
        return Field.not_modelled(f"{call.packet.__name__} changes the spatial size")
    return merge(fields)

"""One ATen op call with its arguments by name: what every observer of a recorded op reads.

PyTorch hands a dispatch mode the arguments as it received them: some positional, some by
keyword, trailing defaults left out. `named_args` turns them, once per call, into a mapping by
the names of the op's schema (`input`, `weight`, `stride`, `transposed`, ...) with every default
filled in, so the op tables (costs, receptive-field rules, meta shortcuts) register one function
per op and read arguments by name. Overloads whose schemas differ (`cudnn_convolution` has no
`transposed`, `avg_pool2d` no `dilation`) simply lack those names; a table function gives such
a parameter the value it means when absent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import torch

Value = TypeVar("Value")
Fn = TypeVar("Fn", bound=Callable[..., Any])


class OpCall(NamedTuple):
    """An executed op: the overload, its packet, its arguments by schema name, tensors in and out
    (a named tuple: one is made per op, in a third of a frozen dataclass's time)."""

    func: Any                        # torch._ops.OpOverload, e.g. aten.convolution.default
    packet: Any                      # torch._ops.OpOverloadPacket, e.g. aten.convolution
    args: Mapping[str, Any]          # schema name -> value, defaults filled in
    inputs: Sequence[torch.Tensor]   # every tensor argument, in schema order
    outs: Sequence[torch.Tensor]     # every tensor the op returned


# Per overload: the schema's argument names in order, and the defaults of those that have one.
_SCHEMAS: dict[Any, tuple[tuple[str, ...], dict[str, Any]]] = {}


def _schema(func: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    arguments = func._schema.arguments
    names = tuple(a.name for a in arguments)
    # Lists become tuples: one default object is shared by every call, so it must not be mutable.
    defaults = {
        a.name: tuple(v) if isinstance(v := a.default_value, list) else v
        for a in arguments
        if a.has_default_value()
    }
    _SCHEMAS[func] = (names, defaults)
    return names, defaults


def named_args(func: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The call's arguments by schema name, keyword ones and schema defaults filled in."""
    names, defaults = _SCHEMAS.get(func) or _schema(func)
    if not kwargs and len(args) == len(names):
        return dict(zip(names, args, strict=True))
    named = dict(defaults)
    named.update(zip(names, args, strict=False))
    named.update(kwargs)
    return named


def per_axis(values: Sequence[int] | int, n: int) -> list[int]:
    """An int-list argument for `n` spatial axes: one value (an int or a 1-list) stands for all of them."""
    if isinstance(values, int):
        return [values] * n
    return list(values) * n if len(values) == 1 else list(values)


def register(table: dict[Any, Value], ops: Iterable[Any], value: Value) -> None:
    """Add `value` to an op table under each op; an op registered twice is a programming error."""
    for op in ops:
        if op in table:
            raise ValueError(f"{op} is registered twice")
        table[op] = value


def registering(table: dict[Any, Any], ops: Iterable[Any],
                entry: Callable[[Callable[..., Any]], Any] = lambda fn: fn) -> Callable[[Fn], Fn]:
    """A decorator that registers the function it decorates, as `entry(fn)`, under each op."""

    def add(fn: Fn) -> Fn:
        register(table, ops, entry(fn))
        return fn

    return add

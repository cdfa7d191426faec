"""A model's inputs as its owner has them: example tensors, descriptions (`InputSpec`) and
plain values, as positional and keyword arguments (`Call`).

`as_call` says how any accepted value maps to arguments; `materialize` makes the tensors on the
analysis device (empty on meta, so nothing is copied); `describe` names them in one line.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from archstat.errors import UsageError

Shape = tuple[int, ...]

# Integer and boolean inputs made from a spec hold this value: 0 is a valid id in every
# vocabulary; an input named as a mask keeps every position (1, True).
ID_FILL = 0
MASK_FILL = 1

INPUT_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
    "int64": torch.int64,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
    "complex64": torch.complex64,
}


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One input tensor described without making it: its shape, dtype and, for a keyword
    argument, its name. A floating spec takes the analysis dtype; integer and bool keep theirs."""

    shape: Shape
    dtype: torch.dtype = torch.float32
    name: str | None = None

    def __post_init__(self) -> None:
        dims = tuple(int(d) for d in self.shape)
        if not dims or any(d <= 0 for d in dims):
            raise UsageError(f"input shape {dims} must be non-empty positive sizes, like 1x3x224x224")
        object.__setattr__(self, "shape", dims)


@dataclass(frozen=True, slots=True)
class Call:
    """Positional and keyword arguments of one forward: `model(*args, **kwargs)`.

    The explicit form for both at once: a plain 2-tuple `(args, kwargs)` is always two
    positional arguments, never this.
    """

    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of_specs(cls, specs: Sequence[InputSpec]) -> Call:
        """Unnamed specs as positional arguments in order, named ones as keyword arguments."""
        kwargs: dict[str, InputSpec] = {}
        for spec in specs:
            if spec.name is not None:
                if spec.name in kwargs:
                    raise UsageError(f"input {spec.name!r} is given twice")
                kwargs[spec.name] = spec
        return cls(tuple(s for s in specs if s.name is None), kwargs)


def as_call(inputs: Any) -> Call:
    """The arguments `inputs` stands for: a `Call` as it is; a tuple or list, its items as
    positional arguments; a dict, keyword arguments; anything else (a tensor, an `InputSpec`,
    a plain value) the one positional argument."""
    if isinstance(inputs, Call):
        return inputs
    if isinstance(inputs, (tuple, list)) and not _is_namedtuple(inputs):
        return Call(tuple(inputs))
    if isinstance(inputs, dict):
        bad = [k for k in inputs if not isinstance(k, str)]
        if bad:
            raise UsageError(f"keyword inputs need string names, not {bad[0]!r}")
        return Call((), dict(inputs))
    return Call((inputs,))


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _map(value: Any, leaf: Callable[[Any, str | None], Any], name: str | None = None) -> Any:
    """`value` rebuilt with `leaf(item, name)` applied to every tensor and spec inside it."""
    if isinstance(value, (torch.Tensor, InputSpec)):
        return leaf(value, name)
    if _is_namedtuple(value):
        return type(value)(*(_map(v, leaf, name) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(_map(v, leaf, name) for v in value)
    if isinstance(value, dict):
        rebuilt = {k: _map(v, leaf, k if isinstance(k, str) else name) for k, v in value.items()}
        try:
            return type(value)(rebuilt)
        except TypeError:
            return rebuilt
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _map(getattr(value, f.name), leaf, f.name) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    return value


def map_call(call: Call, leaf: Callable[[Any, str | None], Any]) -> Call:
    """The call with `leaf(item, name)` applied to every tensor and spec in its arguments."""
    return Call(tuple(_map(a, leaf) for a in call.args), {k: _map(v, leaf, k) for k, v in call.kwargs.items()})


def at_batch(call: Call, batch: int) -> Call:
    """The call with dimension 0 of every input tensor set to `batch` (described, not made)."""

    def leaf(item: Any, name: str | None) -> Any:
        if isinstance(item, InputSpec):
            return dataclasses.replace(item, shape=(batch, *item.shape[1:]))
        if isinstance(item, torch.Tensor) and item.dim() > 0:
            return InputSpec((batch, *item.shape[1:]), item.dtype, name)
        return item

    return map_call(call, leaf)


def _fill(spec: InputSpec, name: str | None) -> int:
    label = (spec.name or name or "").lower()
    return MASK_FILL if label.endswith("mask") or spec.dtype == torch.bool else ID_FILL


def materialize(call: Call, dtype: torch.dtype, device: torch.device) -> Call:
    """Every spec made and every tensor moved to `device`; floating ones take `dtype`.

    On the meta device tensors are made empty (their data is never copied). Floating specs are
    random (seed 0) elsewhere; integer and bool specs hold valid ids or a mask that keeps all.
    """

    def make(item: torch.Tensor | InputSpec, name: str | None) -> torch.Tensor:
        if isinstance(item, InputSpec):
            target = dtype if item.dtype.is_floating_point else item.dtype
            if device.type == "meta":
                return torch.empty(item.shape, dtype=target, device=device)
            if target.is_floating_point or target.is_complex:
                generator = torch.Generator().manual_seed(0)
                return torch.randn(item.shape, generator=generator, dtype=target).to(device)
            return torch.full(item.shape, _fill(item, name), dtype=target, device=device)
        target = dtype if item.is_floating_point() else item.dtype
        if device.type == "meta":
            return torch.empty(item.shape, dtype=target, device=device)
        return item.detach().to(device=device, dtype=target)

    return map_call(call, make)


def tensors_of(call: Call) -> list[torch.Tensor]:
    """The tensors of a materialised call, in argument order."""
    found: list[torch.Tensor] = []

    def collect(item: Any, name: str | None) -> Any:
        if isinstance(item, torch.Tensor):
            found.append(item)
        return item

    map_call(call, collect)
    return found


def first_shape(call: Call) -> Shape:
    """The shape of the first tensor or spec (the one the receptive field and growth follow)."""
    shapes: list[Shape] = []

    def collect(item: Any, name: str | None) -> Any:
        shapes.append(tuple(item.shape))
        return item

    map_call(call, collect)
    return shapes[0] if shapes else ()


def input_bytes(call: Call) -> int:
    """Bytes of every tensor of a materialised call (the caller holds them all)."""
    return sum(math.prod(t.shape) * t.element_size() for t in tensors_of(call))


def describe(call: Call) -> str:
    """One line: "1x128 int64, attention_mask=1x128 int64" (floating tensors by shape alone)."""
    parts = [_text(a) for a in call.args] + [f"{k}={_text(v)}" for k, v in call.kwargs.items()]
    return ", ".join(parts)


def _text(value: Any) -> str:
    # At module level, not nested in `describe`: a recursive closure is a reference cycle per call.
    if isinstance(value, (torch.Tensor, InputSpec)):
        shape = "x".join(map(str, value.shape)) or "scalar"
        dtype = value.dtype
        return shape if dtype.is_floating_point else f"{shape} {str(dtype).removeprefix('torch.')}"
    if isinstance(value, (tuple, list)) and not _is_namedtuple(value):
        inner = ", ".join(_text(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (int, float, bool, str)) or value is None:
        return repr(value)
    return type(value).__name__


def parse_dtype(name: str) -> torch.dtype:
    """An input dtype from its name ("int64", "bool", "bfloat16", ...)."""
    try:
        return INPUT_DTYPES[name.strip().lower()]
    except KeyError:
        raise UsageError(f"unknown input dtype {name!r}; choose one of {', '.join(INPUT_DTYPES)}") from None

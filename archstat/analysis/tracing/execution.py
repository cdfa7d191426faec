"""Running a model on a chosen device and dtype without touching its own tensors, and leaving
its modes and the global flags as they were."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.func import functional_call

from archstat.analysis.inputs import Call
from archstat.analysis.tracing.fast_meta import empty


class Slot(NamedTuple):
    """Where a module holds one of its tensors: its `_parameters` or `_buffers` dict, under `name`."""

    table: dict[str, Any]
    name: str
    tensor: torch.Tensor
    parameter: bool


@dataclass(frozen=True, slots=True)
class ModelTree:
    """One walk of a model, shared by every step of a run instead of one walk per step: each
    module once (in `model.modules()` order) with its dotted path, and every parameter and buffer slot."""

    modules: tuple[nn.Module, ...]
    paths: dict[int, str]               # id(module) -> "layer1.0.conv1"
    slots: tuple[Slot, ...]

    @classmethod
    def of(cls, model: nn.Module) -> ModelTree:
        """The walk of `model` as it is now."""
        named = list(model.named_modules())
        modules = tuple(m for _, m in named)
        slots = tuple(
            Slot(table, name, t, table is m._parameters)
            for m in modules
            for table in (m._parameters, m._buffers)
            for name, t in table.items()
            if t is not None
        )
        return cls(modules, {id(m): name for name, m in named}, slots)

    def parameters(self) -> list[torch.Tensor]:
        """Each parameter once, as `model.parameters()` gives them."""
        return list({id(s.tensor): s.tensor for s in self.slots if s.parameter}.values())

    def buffers(self) -> list[torch.Tensor]:
        """Each buffer once, as `model.buffers()` gives them."""
        return list({id(s.tensor): s.tensor for s in self.slots if not s.parameter}.values())


def set_mode(model: nn.Module, tree: ModelTree, training: bool) -> None:
    """`model.train(training)`: where no module's class has its own `train` and each flag is a
    plain attribute (`_plain_mode`), the flags that differ are stored directly, which is all
    `nn.Module.train` would do over the same modules; otherwise `model.train(training)` itself."""
    plain: dict[type, bool] = {}
    for module in tree.modules:
        kind = type(module)
        if kind not in plain:
            plain[kind] = kind.train is nn.Module.train and _plain_mode(kind)
        if not plain[kind]:
            model.train(training)
            return
    for module in tree.modules:
        _store_mode(module, training)


def stand_ins(tree: ModelTree, device: torch.device, dtype: torch.dtype, *,
              fresh: bool = False) -> dict[int, torch.Tensor] | None:
    """`override_tensors` by identity: a stand-in per parameter and buffer, keyed by `id` of the
    model's own tensor, for `swapped`; None when every tensor already lives on `device` at `dtype`."""
    if not fresh and all(s.tensor.device == device and s.tensor.dtype == _target_dtype(s.tensor, dtype)
                         for s in tree.slots):
        return None
    made: dict[int, torch.Tensor] = {}
    for s in tree.slots:
        t = s.tensor
        if id(t) not in made:
            made[id(t)] = _stand_in(t, device, _target_dtype(t, dtype))
    return made


def _target_dtype(t: torch.Tensor, dtype: torch.dtype) -> torch.dtype:
    """Floating tensors take the analysis dtype; integer and bool ones keep theirs."""
    return dtype if t.is_floating_point() else t.dtype


def _stand_in(t: torch.Tensor, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    if device.type == "meta":
        return empty(t.shape, dtype, device, requires_grad=t.requires_grad and dtype.is_floating_point)
    stand_in = t.detach().to(device=device, dtype=dtype, copy=True)
    return stand_in.requires_grad_(t.requires_grad and stand_in.is_floating_point())


@contextmanager
def swapped(tree: ModelTree, tensors: Mapping[int, torch.Tensor] | None) -> Iterator[None]:
    """The model's parameters and buffers replaced in place by `tensors` (by id of the model's own
    tensor) for the block, and put back whatever happens: what `functional_call` does, without
    walking the tree by name twice a call. None leaves the model's own tensors in place."""
    if tensors is None:
        yield
        return
    try:
        for s in tree.slots:
            s.table[s.name] = tensors[id(s.tensor)]
        yield
    finally:
        for s in tree.slots:
            s.table[s.name] = s.tensor


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block, as it was afterwards.

    A recorded forward allocates a few objects per op and per module call, most of which live
    until the analysis is assembled; on a model of thousands of modules the collector would run
    full collections over everything in the process (the model included) inside the call, which
    made `analyze` grow faster than the model. Nothing a run makes forms a reference cycle that
    needs the collector to be freed (tests/test_leak.py).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def override_tensors(
    model: nn.Module, device: torch.device, dtype: torch.dtype, *, fresh: bool = False
) -> dict[str, torch.Tensor] | None:
    """Stand-ins for the model's parameters and buffers on `device` at `dtype`.

    None when every tensor already lives there (no swap needed). On the meta device the
    stand-ins are empty, so nothing is allocated or copied; tied tensors stay tied.
    """
    named = list(model.named_parameters(remove_duplicate=False)) + list(
        model.named_buffers(remove_duplicate=False)
    )

    if not fresh and all(t.device == device and t.dtype == _target_dtype(t, dtype) for _, t in named):
        return None
    made: dict[int, torch.Tensor] = {}
    out: dict[str, torch.Tensor] = {}
    for name, t in named:
        if id(t) not in made:
            made[id(t)] = _stand_in(t, device, _target_dtype(t, dtype))
        out[name] = made[id(t)]
    return out


def run_model(model: nn.Module, tensors: dict[str, torch.Tensor] | None, inputs: Call | torch.Tensor) -> Any:
    """Call the model on one tensor or a `Call`'s arguments, with stand-in parameters and buffers if given."""
    call = inputs if isinstance(inputs, Call) else Call((inputs,))
    if tensors is None:
        return model(*call.args, **call.kwargs)
    return functional_call(model, tensors, call.args, dict(call.kwargs), strict=False)


@contextmanager
def dense_encoders(model: nn.Module, modules: Iterable[nn.Module] | None = None) -> Iterator[None]:
    """Keep every `nn.TransformerEncoder` on dense tensors while recording.

    In eval, without grad and on a real device, an encoder given a padding mask packs its input
    into a nested tensor that drops the padded positions; the meta device never does, and a nested
    tensor has no shape to record. Counting every position, padded or not, keeps cpu equal to meta.
    """
    encoders = [m for m in (model.modules() if modules is None else modules)
                if isinstance(m, nn.TransformerEncoder) and m.use_nested_tensor]
    for encoder in encoders:
        encoder.use_nested_tensor = False
    try:
        yield
    finally:
        for encoder in encoders:
            encoder.use_nested_tensor = True


def make_input(shape: Sequence[int], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A random input (empty on the meta device)."""
    if device.type == "meta":
        return torch.empty(tuple(shape), dtype=dtype, device=device)
    generator = torch.Generator().manual_seed(0)
    return torch.randn(tuple(shape), generator=generator, dtype=dtype).to(device)


def _attribute(owner: Any, name: str) -> tuple[Callable[[], Any], Callable[[Any], None]]:
    return (lambda: getattr(owner, name)), (lambda value: setattr(owner, name, value))


def _deterministic() -> tuple[bool, bool]:
    return torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()


def _set_deterministic(value: tuple[bool, bool]) -> None:
    torch.use_deterministic_algorithms(value[0], warn_only=value[1])


def _set_grad_enabled(value: bool) -> None:
    torch.set_grad_enabled(value)


# PyTorch's process-wide switches that a forward, a measurement or a caller may change: name,
# getter, setter. The precision comes before the TF32 switches it also moves.
_matmul, _cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
_FLAGS: tuple[tuple[str, Callable[[], Any], Callable[[Any], None]], ...] = (
    ("grad_enabled", torch.is_grad_enabled, _set_grad_enabled),
    ("float32_matmul_precision", torch.get_float32_matmul_precision, torch.set_float32_matmul_precision),
    ("matmul.allow_tf32", *_attribute(_matmul, "allow_tf32")),
    ("matmul.allow_fp16_reduced_precision_reduction", *_attribute(_matmul, "allow_fp16_reduced_precision_reduction")),
    ("matmul.allow_bf16_reduced_precision_reduction", *_attribute(_matmul, "allow_bf16_reduced_precision_reduction")),
    ("cudnn.enabled", *_attribute(_cudnn, "enabled")),
    ("cudnn.benchmark", *_attribute(_cudnn, "benchmark")),
    ("cudnn.deterministic", *_attribute(_cudnn, "deterministic")),
    ("cudnn.allow_tf32", *_attribute(_cudnn, "allow_tf32")),
    ("deterministic_algorithms", _deterministic, _set_deterministic),
)
_UNREADABLE = "unreadable"


def _read(getter: Callable[[], Any]) -> Any:
    try:
        return getter()
    except RuntimeError:  # the matmul precision, once set through both PyTorch's old and new API
        return _UNREADABLE


@dataclass(frozen=True, slots=True)
class GlobalFlags:
    """The global flags (`_FLAGS`) at one moment, by name."""

    values: tuple[tuple[str, Any], ...]

    @classmethod
    def current(cls) -> GlobalFlags:
        """The flags as they are now."""
        return cls(tuple((name, _read(getter)) for name, getter, _ in _FLAGS))

    def restore(self) -> None:
        """Set back every flag that has changed since (one left alone is never written: writing a
        TF32 switch through the old API can make PyTorch refuse to report the precision)."""
        saved = dict(self.values)
        for name, getter, setter in _FLAGS:
            value = saved[name]
            if value != _UNREADABLE and _read(getter) != value:
                setter(value)


@contextmanager
def preserved_state(model: nn.Module, tree: ModelTree | None = None) -> Iterator[None]:
    """Leave the model as it came in: every module's own train/eval flag, every parameter's
    `requires_grad` and the global flags (`GlobalFlags`) are restored on exit, error or not.

    `tree`: the model's walk where the caller has it (none is made then). Restoring
    `model.train(was_training)` instead would push the root's mode into every child
    (a frozen batch norm in a training model would come back training).
    """
    modes = [(m, m.training) for m in (model.modules() if tree is None else tree.modules)]
    grads = [(p, p.requires_grad) for p in (model.parameters() if tree is None else tree.parameters())]
    flags = GlobalFlags.current()
    try:
        yield
    finally:
        plain: dict[type, bool] = {}
        for module, training in modes:
            kind = type(module)
            is_plain = plain.get(kind)
            if is_plain is None:
                is_plain = plain[kind] = _plain_mode(kind)
            if is_plain and type(training) is bool:
                _store_mode(module, training)
            else:
                module.training = training
        for param, requires_grad in grads:
            # a flag already as it was needs no call; a lazy parameter refuses every call
            if param.requires_grad != requires_grad and not isinstance(param, nn.UninitializedParameter):
                param.requires_grad_(requires_grad)
        flags.restore()


_MISSING = object()


def _store_mode(module: nn.Module, training: bool) -> None:
    """`module.training = training` for a `_plain_mode` class: stored in the instance's dict,
    and only where it differs."""
    if module.__dict__.get("training", _MISSING) is not training:
        object.__setattr__(module, "training", training)


def _plain_mode(kind: type) -> bool:
    """Whether `module.training = flag` (a bool) on a `kind` only stores the flag in the instance's
    dict, as `nn.Module.__setattr__` does for a plain value (no class's own `__setattr__`, no
    descriptor named `training`): storing it directly is then the same, and a flag already
    there needs no storing."""
    return kind.__setattr__ is nn.Module.__setattr__ and not hasattr(kind, "training")

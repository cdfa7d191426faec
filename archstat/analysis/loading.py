"""Turning what the user names (a zoo name, `pkg.mod:attr`, `file.py:attr`) into a module."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from archstat.analysis.inputs import Call, InputSpec
from archstat.errors import ArchstatError, UnknownModelError, UsageError, exit_call, one_line
from archstat.models import model_info
from archstat.registry import INPUT_SIZE_ATTR, check_options

DEFAULT_INPUT: tuple[int, ...] = (1, 3, 224, 224)


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A module ready to analyse, with the name and input size it should be shown with."""

    module: nn.Module
    label: str
    input_shape: tuple[int, ...]
    declared: bool = True   # False: the model says nothing of its input; `input_shape` is DEFAULT_INPUT
    zoo: bool = False       # a zoo model: a shape given without its batch axis gains one
    inputs: Call | None = None   # the inputs the model declares beyond one float tensor (hf: models)


@contextmanager
def _on_path(entry: str) -> Iterator[None]:
    """`entry` first on sys.path for the block; afterwards that entry alone is removed.

    A user's file may edit sys.path itself: what it added stays, and a matching string it put
    there is not mistaken for ours (ours is found by identity, not by value).
    """
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        for i, item in enumerate(sys.path):
            if item is entry:
                del sys.path[i]
                break


def _import_attr(spec: str) -> Any:
    source, _, attr = spec.rpartition(":")
    if not source or not attr:
        raise UsageError(f"cannot read {spec!r}: expected a zoo name, package.module:attr or file.py:attr")
    if source.endswith(".py") or "/" in source:
        path = Path(source)
        if not path.is_file():
            raise UsageError(f"no such file: {source}")
        name = f"_archstat_user_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise UsageError(f"cannot import {source}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        with _on_path(str(path.resolve().parent)), _user_code(f"importing {source}"):
            module_spec.loader.exec_module(module)
    else:
        # As `python -m` does, look beside the user first (a console script's path lacks the cwd).
        with _on_path(os.getcwd()), _user_code(f"importing {source}"):
            try:
                module = importlib.import_module(source)
            except ImportError as exc:
                raise UsageError(f"cannot import {source}: {one_line(exc)}") from exc
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise UsageError(f"{source} has no attribute {attr!r}")
        target = getattr(target, part)
    return target


@contextmanager
def _user_code(what: str) -> Iterator[None]:
    """Errors and `sys.exit` from the user's own code, as one-line ArchstatErrors saying `what` raised."""
    try:
        yield
    except ArchstatError:
        raise
    except SystemExit as exc:
        raise ArchstatError(f"{what} called {exit_call(exc)}") from None
    except Exception as exc:
        raise ArchstatError(f"{what} raised {type(exc).__name__}: {one_line(exc)}") from exc


def _build(factory: Any, options: Mapping[str, Any], label: str) -> nn.Module:
    check_options(factory, options, label)
    kwargs = {k: v for k, v in options.items() if v is not None}
    with _user_code(f"building {label}"):
        try:
            built = factory(**kwargs)
        except TypeError as exc:
            raise UsageError(f"cannot build {label} with options {_shown(options)}: {one_line(exc)}") from exc
    if not isinstance(built, nn.Module):
        raise UsageError(f"{label} returned {type(built).__name__}, not an nn.Module")
    if kwargs:
        empty = next(((n, p) for n, p in built.named_parameters() if p.numel() == 0), None)
        if empty is not None:
            shape = "x".join(map(str, empty[1].shape))
            raise UsageError(f"cannot build {label} with options {_shown(options)}: they leave {empty[0]} "
                             f"with no elements ({shape}); check the values")
    return built


def _shown(options: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in options.items())


def declared_input(module: nn.Module) -> tuple[int, ...] | None:
    """The input (with a batch of one) a module says it expects (`registry.with_input_size`), if any."""
    size = getattr(module, INPUT_SIZE_ATTR, None)
    return (1, *size) if size is not None else None


def _imported(module: nn.Module, label: str) -> LoadedModel:
    if isinstance(module, torch.jit.ScriptModule):
        raise UsageError(f"{label} is a TorchScript module, whose compiled forward archstat cannot record; "
                         "analyse the nn.Module it was scripted or traced from")
    declared = declared_input(module)
    if declared is None and getattr(module, "main_input_name", None) and getattr(module, "config", None):
        from archstat.analysis import hf  # a Hugging Face model built in the user's code

        return _declared_inputs(module, label, hf.default_inputs(module, module.config, hf.DEFAULT_SEQ))
    return LoadedModel(module, label, declared or DEFAULT_INPUT, declared=declared is not None)


def _declared_inputs(module: nn.Module, label: str, call: Call | None) -> LoadedModel:
    """The loaded model with the inputs it declares (None: it declares none of a kind we make)."""
    if call is None:
        return LoadedModel(module, label, DEFAULT_INPUT, declared=False)
    first = next(iter(call.kwargs.values()))
    shape = first.shape if isinstance(first, InputSpec) else DEFAULT_INPUT
    return LoadedModel(module, label, shape, inputs=call)


def load_model(
    spec: str | nn.Module, *, device: str = "meta", options: Mapping[str, Any] | None = None,
    seq: int | None = None,
) -> LoadedModel:
    """Build or import the model; classes and factories are built directly on `device`.

    Every option must name a parameter of the builder; one given as None keeps its default. A
    factory that cannot be built on the meta device (one that copies or fills weights) is built
    on the cpu instead, then analysed as any other module. `hf:ID_OR_DIR` builds a Hugging Face
    model from its config, the options overriding config fields; its text input is `seq` tokens
    (default `hf.DEFAULT_SEQ`).
    """
    options = dict(options or {})
    if isinstance(spec, str) and spec.startswith("hf:"):
        return _hugging_face(spec, device, options, seq)
    if seq is not None:
        raise UsageError("a sequence length (--seq) applies to hf: models only; give --input instead")
    if isinstance(spec, nn.Module):
        return _imported(spec, type(spec).__name__)
    if ":" not in spec:
        info = model_info(spec)
        with torch.device(device):
            module = _build(info.builder, options, spec)
        size = getattr(module, INPUT_SIZE_ATTR, info.input_size)
        return LoadedModel(module, spec, (1, *size), zoo=True)
    try:
        target = _import_attr(spec)
    except UnknownModelError:
        raise
    label = spec.rpartition(":")[2]
    if isinstance(target, nn.Module):
        if options:
            raise UsageError(f"{label} is a module instance; options {_shown(options)} cannot apply")
        return _imported(target, label)
    if inspect.isclass(target) and not issubclass(target, nn.Module):
        raise UsageError(f"{label} is a class but not an nn.Module")
    if not callable(target):
        raise UsageError(f"{label} is a {type(target).__name__}, not an nn.Module or a factory")
    try:
        with torch.device(device):
            module = _build(target, options, label)
    except UsageError:
        raise
    except ArchstatError:
        if device != "meta":
            raise
        module = _build(target, options, label)   # on the cpu: see the docstring
    return _imported(module, label)


def _hugging_face(spec: str, device: str, options: Mapping[str, Any], seq: int | None) -> LoadedModel:
    from archstat.analysis import hf

    source = spec.removeprefix(hf.PREFIX)
    if not source:
        raise UsageError("hf: needs a model directory or id, like hf:./my-model or hf:bert-base-uncased")
    config = hf.load_config(source, options)
    module = hf.build(config, device)
    return _declared_inputs(module, type(module).__name__, hf.default_inputs(module, config, seq or hf.DEFAULT_SEQ))


def load_inputs(spec: str) -> Any:
    """What the function named by `pkg.mod:fn` or `file.py:fn` returns: example inputs as
    `analyze(inputs=...)` takes them (tensors, a tuple or list, a dict, or a `Call`)."""
    function = _import_attr(spec)
    label = spec.rpartition(":")[2]
    if not callable(function):
        raise UsageError(f"{label} is a {type(function).__name__}, not a function returning inputs")
    with _user_code(f"{label} (the inputs function)"):
        return function()


def load_weights(module: nn.Module, path: str | os.PathLike[str]) -> None:
    """Load a state dict saved with `torch.save` into `module` (`weights_only=True`: no code runs).

    Any key missing or unexpected is a one-line error naming the first few of each.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except Exception as exc:
        raise UsageError(f"cannot load weights from {path}: {one_line(exc)}") from None
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UsageError(f"{path} holds no state dict (a mapping of names to tensors)")
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or wrong:
        parts = [f"{what} {_few(keys)}" for what, keys in (("missing", missing), ("unexpected", unexpected),
                                                           ("wrong shape", wrong)) if keys]
        raise UsageError(f"{path} does not fit the model: " + "; ".join(parts))
    module.load_state_dict(state)


def _few(keys: list[str], shown: int = 3) -> str:
    more = f" (+{len(keys) - shown} more)" if len(keys) > shown else ""
    return ", ".join(keys[:shown]) + more

"""Turning what the user names (a zoo name, `pkg.mod:attr`, `file.py:attr`) into a module."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from archstat.errors import ArchstatError, UnknownModelError, UsageError
from archstat.models import model_info
from archstat.registry import INPUT_SIZE_ATTR

DEFAULT_INPUT: tuple[int, ...] = (1, 3, 224, 224)


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A module ready to analyse, with the name and input size it should be shown with."""

    module: nn.Module
    label: str
    input_shape: tuple[int, ...]


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
        sys.path.insert(0, str(path.resolve().parent))
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise ArchstatError(f"importing {source} raised {type(exc).__name__}: {exc}") from exc
        finally:
            sys.path.pop(0)
    else:
        # As `python -m` does, look beside the user first (a console script's path lacks the cwd).
        cwd = os.getcwd()
        sys.path.insert(0, cwd)
        try:
            module = importlib.import_module(source)
        except ImportError as exc:
            raise UsageError(f"cannot import {source}: {exc}") from exc
        except Exception as exc:
            raise ArchstatError(f"importing {source} raised {type(exc).__name__}: {exc}") from exc
        finally:
            sys.path.remove(cwd)
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise UsageError(f"{source} has no attribute {attr!r}")
        target = getattr(target, part)
    return target


def _build(factory: Any, options: Mapping[str, Any], label: str) -> nn.Module:
    try:
        built = factory(**options)
    except TypeError as exc:
        raise UsageError(f"cannot build {label} with options {dict(options)}: {exc}") from exc
    except ArchstatError:
        raise
    except Exception as exc:
        raise ArchstatError(f"building {label} raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(built, nn.Module):
        raise UsageError(f"{label} returned {type(built).__name__}, not an nn.Module")
    return built


def load_model(
    spec: str | nn.Module, *, device: str = "meta", options: Mapping[str, Any] | None = None
) -> LoadedModel:
    """Build or import the model; classes and factories are built directly on `device`."""
    options = {k: v for k, v in (options or {}).items() if v is not None}
    if isinstance(spec, nn.Module):
        return LoadedModel(spec, type(spec).__name__, DEFAULT_INPUT)
    if ":" not in spec:
        info = model_info(spec)
        with torch.device(device):
            module = _build(info.builder, options, spec)
        size = getattr(module, INPUT_SIZE_ATTR, info.input_size)
        return LoadedModel(module, spec, (1, *size))
    try:
        target = _import_attr(spec)
    except UnknownModelError:
        raise
    label = spec.rpartition(":")[2]
    if isinstance(target, nn.Module):
        if options:
            raise UsageError(f"{label} is a module instance; options {dict(options)} cannot apply")
        return LoadedModel(target, label, DEFAULT_INPUT)
    if inspect.isclass(target) and not issubclass(target, nn.Module):
        raise UsageError(f"{label} is a class but not an nn.Module")
    if not callable(target):
        raise UsageError(f"{label} is a {type(target).__name__}, not an nn.Module or a factory")
    with torch.device(device):
        module = _build(target, options, label)
    return LoadedModel(module, label, DEFAULT_INPUT)

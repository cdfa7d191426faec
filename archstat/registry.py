"""The model zoo's registry: builders are registered by public name with everything known about them.

All of a network's metadata lives in its `@register_model(...)` call (paper, year, variant, input
size, published top-1, parameter count of the default build) or is read from the builder itself
(default `num_classes`, family = the module it is defined in), so a new zoo network touches one
file. This module imports nothing of archstat but its errors: `archstat.models` imports the
families (which fills the registry) and exposes `get_model`, `list_models` and `model_info` from there.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from torch import nn

from archstat.errors import UnknownModelError, UsageError

Builder = Callable[..., nn.Module]
B = TypeVar("B", bound=Builder)
Kind = Literal["model", "block"]

# torchvision's metadata for its V1 weights (acc@1 on ImageNet-1k val at each model's default input), as
# transcribed in shared/REFERENCES.md section 1; only networks whose layout matches torchvision's to the
# parameter carry one (the paper-v1 ResNets, the paper's GoogLeNet, Inception v4, ... have no such weights).
TORCHVISION_V1 = "torchvision V1 weights (IMAGENET1K_V1), ImageNet-1k val acc@1"


@dataclass(frozen=True, slots=True)
class Accuracy:
    """A published accuracy and where it comes from."""

    top1: float                # percent
    source: str


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the zoo knows about one registered network or building block."""

    name: str                         # "vgg16"
    builder: Builder
    paper: str                        # "Simonyan & Zisserman 2014, arXiv:1409.1556"
    year: int
    variant: str                      # the paper's own name for it: "D"
    input_size: tuple[int, ...]       # default input without the batch axis: (3, 224, 224)
    kind: Kind
    summary: str                      # first line of the builder's docstring
    family: str                       # the zoo module that defines it: "vgg", "resnet", "blocks"
    num_classes: int | None           # the builder's default number of classes (None: it takes none)
    top1: Accuracy | None             # published ImageNet top-1 for this exact layout, if any
    params: int | None = None         # parameters of the default build (None: not recorded, count by building)
    trainable_params: int | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The default input with a batch of one."""
        return (1, *self.input_size)


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(
    *,
    paper: str,
    year: int,
    variant: str = "",
    input_size: tuple[int, ...] = (3, 224, 224),
    kind: Kind = "model",
    family: str | None = None,
    top1: float | None = None,
    top1_source: str = TORCHVISION_V1,
    params: int | None = None,
    trainable_params: int | None = None,
) -> Callable[[B], B]:
    """Register a builder under its function name; a duplicate name is an error.

    `family` defaults to the name of the module defining the builder; `top1` is a published
    ImageNet top-1 (percent) for exactly this layout, from `top1_source`. `params` is the
    parameter count of the default build, so `archstat list` needs to build nothing
    (`trainable_params` defaults to all of them); tests/test_zoo.py checks every count against
    the built network.
    """

    def decorate(builder: B) -> B:
        name = builder.__name__
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        doc = (builder.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = ModelInfo(
            name=name,
            builder=builder,
            paper=paper,
            year=year,
            variant=variant,
            input_size=tuple(input_size),
            kind=kind,
            summary=doc[0] if doc else "",
            family=family or builder.__module__.rpartition(".")[2],
            num_classes=_default_classes(builder),
            top1=None if top1 is None else Accuracy(top1, top1_source),
            params=params,
            trainable_params=params if trainable_params is None else trainable_params,
        )
        return builder

    return decorate


def _default_classes(builder: Builder) -> int | None:
    parameter = inspect.signature(builder).parameters.get("num_classes")
    default = None if parameter is None else parameter.default
    return default if isinstance(default, int) and not isinstance(default, bool) else None


INPUT_SIZE_ATTR = "archstat_input_size"
M = TypeVar("M", bound=nn.Module)


def with_input_size(module: M, *size: int) -> M:
    """Record the input (without batch) that a built network expects, when options change it."""
    setattr(module, INPUT_SIZE_ATTR, tuple(size))
    return module


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def list_models(pattern: str = "*", *, kind: Kind | None = None) -> list[ModelInfo]:
    """Registered networks whose name matches a shell pattern, in natural order."""
    names = sorted((n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern)), key=_natural_key)
    return [_REGISTRY[n] for n in names if kind is None or _REGISTRY[n].kind == kind]


def model_info(name: str) -> ModelInfo:
    """The registry entry for a name, or an error that suggests close names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=4, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `archstat list` shows them all"
        raise UnknownModelError(f"unknown model {name!r}{hint}") from None


def check_options(builder: Callable[..., Any], options: Mapping[str, Any], label: str) -> None:
    """Refuse an option the builder does not take, whatever its value (None included), listing those it does.

    A builder that takes `**kwargs`, or whose signature cannot be read, is left to judge for itself.
    """
    try:
        parameters = inspect.signature(builder).parameters.values()
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return
    accepted = [p.name for p in parameters
                if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    unknown = [key for key in options if key not in accepted]
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], accepted, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    takes = f"it takes {', '.join(accepted)}" if accepted else "it takes no options"
    raise UsageError(f"cannot build {label}: it has no option {unknown[0]!r}; {hint}{takes}")


def get_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a zoo network; options given as None keep the builder's own default, unknown ones are refused."""
    info = model_info(name)
    check_options(info.builder, kwargs, name)
    options = {k: v for k, v in kwargs.items() if v is not None}
    return info.builder(**options)

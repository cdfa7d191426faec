"""Keep torch._dynamo unimported while a forward is recorded.

PyTorch wraps many Python meta kernels in `torch._compile._disable_dynamo`, whose first call
imports torch._dynamo (1-2 s, more than the whole analysis) only to build a guard that matters
under torch.compile. archstat's recorded forwards are never compiled, so while one runs a
stand-in module answers `disable(fn)` with `fn` itself. Anything else asked of the stand-in
imports the real module. Afterwards the stand-in is removed and the guards it handed out are
forgotten, so a later torch.compile in the same process gets the real ones.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

_NAME = "torch._dynamo"
_CACHE_ATTR = "__dynamo_disable"  # where torch._compile caches the guard on the wrapped function


class _StandIn(types.ModuleType):
    def __init__(self) -> None:
        super().__init__(_NAME)
        self.guarded: list[Callable[..., Any]] = []

    def disable(
        self, fn: Callable[..., Any] | None = None, recursive: bool = True, *, reason: str | None = None,
        wrapping: bool = True,
    ) -> Any:
        """As `torch._dynamo.disable`, without the guard: `fn` itself (or a decorator returning it)."""
        if fn is None:
            return lambda inner: self.disable(inner, recursive, reason=reason, wrapping=wrapping)
        self.guarded.append(fn)
        return fn

    def __getattr__(self, name: str) -> Any:
        _uninstall(self)
        return getattr(importlib.import_module(_NAME), name)


def _uninstall(stand_in: _StandIn) -> None:
    if sys.modules.get(_NAME) is stand_in:
        del sys.modules[_NAME]
    if torch.__dict__.get("_dynamo") is stand_in:
        delattr(torch, "_dynamo")


@contextmanager
def dynamo_deferred() -> Iterator[None]:
    """Within this block, `_disable_dynamo` guards do not import torch._dynamo."""
    if _NAME in sys.modules:
        yield
        return
    stand_in = _StandIn()
    sys.modules[_NAME] = stand_in
    setattr(torch, "_dynamo", stand_in)  # noqa: B010 - the attribute is not in the stubs
    try:
        yield
    finally:
        _uninstall(stand_in)
        for fn in stand_in.guarded:
            if getattr(fn, _CACHE_ATTR, None) is fn:
                delattr(fn, _CACHE_ATTR)

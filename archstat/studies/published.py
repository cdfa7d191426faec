"""Published ImageNet top-1 accuracies of the zoo networks, as the registry holds them.

Each value sits in its network's `@register_model(..., top1=...)` call, with its source
(`archstat.registry.TORCHVISION_V1` unless stated); this module only reads them.
"""

from __future__ import annotations

from archstat.errors import UnknownModelError
from archstat.models import list_models, model_info
from archstat.registry import Accuracy

__all__ = ["Accuracy", "published_top1", "top1_table"]


def published_top1(name: str) -> Accuracy | None:
    """The published ImageNet top-1 of a zoo network, or None where none is published (or no such network)."""
    try:
        return model_info(name).top1
    except UnknownModelError:
        return None


def top1_table() -> dict[str, float]:
    """Every zoo network with a published top-1: name -> percent."""
    return {info.name: info.top1.top1 for info in list_models() if info.top1 is not None}

"""The zoo's catalogue with parameter counts, built on the meta device (no weights allocated)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from archstat.models import list_models
from archstat.registry import ModelInfo


@dataclass(frozen=True, slots=True)
class ZooEntry:
    """A registry entry with its default parameter count."""

    info: ModelInfo
    params: int
    trainable_params: int


def zoo_entries(pattern: str = "*", kind: str | None = None) -> list[ZooEntry]:
    """Every registered network matching `pattern`, with parameters counted once each."""
    entries = []
    for info in list_models(pattern):
        if kind is not None and info.kind != kind:
            continue
        with torch.device("meta"):
            model = info.builder()
        params = list(model.parameters())
        entries.append(ZooEntry(
            info,
            sum(p.numel() for p in params),
            sum(p.numel() for p in params if p.requires_grad),
        ))
    return entries

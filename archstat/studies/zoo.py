"""The zoo's catalogue with parameter counts: as registered, else counted on the meta device."""

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
    """Every registered network matching `pattern`, with the parameter counts its registration
    records (a network registered without them is built on meta and counted)."""
    entries = []
    for info in list_models(pattern):
        if kind is not None and info.kind != kind:
            continue
        if info.params is not None and info.trainable_params is not None:
            entries.append(ZooEntry(info, info.params, info.trainable_params))
        else:
            entries.append(ZooEntry(info, *count_parameters(info)))
    return entries


def count_parameters(info: ModelInfo) -> tuple[int, int]:
    """Parameters and trainable parameters of the default build, counted on meta (no weights)."""
    with torch.device("meta"):
        model = info.builder()
    params = list(model.parameters())
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)

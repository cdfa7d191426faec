"""Several models side by side: totals, memory, final receptive field, published top-1 and, where a
measured result is given, latency.

Latency comes from results saved by `archstat latency MODEL -o FILE.json` (read by
`archstat.measure.results`, one model per file): a row shows the whole-model median at the
largest batch measured. A model no result names is "not measured".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from torch import nn

from archstat.analysis.analyze import analyze
from archstat.analysis.loading import load_model
from archstat.errors import UnknownModelError, UsageError
from archstat.measure.results import LatencyResult, read_result
from archstat.models import list_models
from archstat.studies.published import published_top1

_GLOB = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Latency:
    """One measured forward time, as a latency file gives it."""

    ms: float
    device: str | None = None
    batch: int | None = None

    @classmethod
    def of(cls, result: LatencyResult) -> Latency:
        """The headline of a measured result: the whole-model median at the largest batch that fit."""
        return cls(result.reported.whole.median_ms, result.label, result.reported.batch)


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """The headline figures of one model; `None` where a figure is not known."""

    model: str
    input_shape: tuple[int, ...]
    dtype: str
    params: int
    macs: int
    flops: int
    activation_bytes: int               # layer outputs (the lecture convention)
    peak_activation_bytes: int          # peak live tensors in an inference forward
    training_activation_bytes: int      # saved for backward
    param_bytes: int
    receptive_field: tuple[int, ...] | None   # final field, size per spatial axis (px)
    top1: float | None                  # published ImageNet top-1, percent
    top1_source: str | None
    latency: Latency | None
    partial: bool                       # some op had no formula: the counts leave it out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values; latency flattened to latency_ms, latency_device, latency_batch."""
        data = asdict(self)
        latency = data.pop("latency") or {}
        data["input_shape"] = list(self.input_shape)
        data["receptive_field"] = list(self.receptive_field) if self.receptive_field else None
        data["latency_ms"] = latency.get("ms")
        data["latency_device"] = latency.get("device")
        data["latency_batch"] = latency.get("batch")
        return data


def expand_models(names: Iterable[str]) -> list[str]:
    """Names in order, duplicates dropped; a shell pattern ("resnet*") expands to the zoo's networks."""
    out: list[str] = []
    for name in names:
        if _GLOB & set(name) and ":" not in name:
            matched = [info.name for info in list_models(name, kind="model")]
            if not matched:
                raise UnknownModelError(f"no zoo network matches {name!r}; `archstat list` shows them all")
        else:
            matched = [name]
        out.extend(m for m in matched if m not in out)
    return out


def load_latency(paths: Iterable[str | os.PathLike[str]], option: str = "latency file") -> dict[str, Latency]:
    """The headline latency of each saved result, by model; every problem is one UsageError naming OPTION."""
    out: dict[str, Latency] = {}
    for path in paths:
        result = read_result(path, option)
        if result.model in out:
            raise UsageError(f"{option} {os.fspath(path)}: a second result for {result.model!r}")
        out[result.model] = Latency.of(result)
    return out


def _input_for(default: Sequence[int], given: Sequence[int] | None) -> tuple[int, ...]:
    # As `archstat summary`, an input given without its batch axis gets a batch of one.
    if given is None:
        return tuple(default)
    if len(given) == len(default) - 1:
        return (1, *given)
    return tuple(given)


def compare(
    models: Sequence[str | nn.Module],
    input_shape: Sequence[int] | None = None,
    latency: Mapping[str, Latency] | None = None,
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[ComparisonRow, ...]:
    """One row per model, in the order given; each at its own default input unless `input_shape`.

    `latency` maps model names to their measured `Latency` (see `load_latency`).
    `progress(i, n, name)` is called before model i of n is analysed.
    """
    timings = dict(latency or {})
    rows = []
    for i, spec in enumerate(models):
        loaded = load_model(spec, device="meta")
        if progress is not None:
            progress(i, len(models), loaded.label)
        analysis = analyze(loaded.module, _input_for(loaded.input_shape, input_shape), label=loaded.label,
                           saved_for_backward=True)
        final = analysis.growth.final
        field = final.rf if final is not None else None
        zoo_name = spec if isinstance(spec, str) and ":" not in spec else None
        accuracy = published_top1(zoo_name) if zoo_name else None
        key = spec if isinstance(spec, str) else loaded.label
        t = analysis.totals
        rows.append(ComparisonRow(
            model=loaded.label,
            input_shape=analysis.input_shape,
            dtype=analysis.dtype,
            params=t.params,
            macs=t.macs,
            flops=t.flops,
            activation_bytes=t.activation_bytes,
            peak_activation_bytes=t.peak_activation_bytes,
            training_activation_bytes=t.saved_bytes(),
            param_bytes=t.param_bytes,
            receptive_field=tuple(a.size for a in field.axes) if field is not None else None,
            top1=accuracy.top1 if accuracy else None,
            top1_source=accuracy.source if accuracy else None,
            latency=timings.get(key, timings.get(loaded.label)),
            partial=t.partial,
        ))
    return tuple(rows)

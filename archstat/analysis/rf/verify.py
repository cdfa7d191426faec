"""`archstat rf --verify`: the closed-form fields against fields measured by back-propagation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from archstat.analysis.loading import load_model
from archstat.analysis.records import Analysis, LayerStats
from archstat.analysis.rf.probe import ProbeResult, probe_fields

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Check:
    """One layer: the input pixels the probed unit sees by the closed form and by measurement."""

    path: str
    unit: tuple[int, ...]
    theory: tuple[Span, ...]         # first and last input pixel per axis (may fall outside)
    measured: tuple[Span, ...]
    status: str                      # "agree", "DIFFER", or why it was not compared

    @property
    def agrees(self) -> bool:
        return self.status == "agree"


@dataclass(frozen=True, slots=True)
class Verification:
    """Every checked layer of a model."""

    model: str
    input_shape: tuple[int, ...]
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """No compared layer disagrees."""
        return all(c.status != "DIFFER" for c in self.checks)

    @property
    def compared(self) -> int:
        return sum(c.status in ("agree", "DIFFER") for c in self.checks)


def compare(analysis: Analysis, probes: Mapping[str, ProbeResult]) -> tuple[Check, ...]:
    """Closed form (from the analysis) against the probe, for every probed layer.

    Only a field that lies inside the input is compared: where it reaches into padding, some of
    its taps land on zeros at intermediate layers, so the measured extent is smaller by an amount
    the closed form does not describe.
    """
    sizes = analysis.input_shape[2:]
    checks = []
    for row in analysis.growth.rows:
        probe = probes.get(row.path)
        if probe is None or row.rf is None:
            continue
        if probe.status != "ok":
            checks.append(Check(row.path, probe.unit, (), (), f"not measured: {probe.status}"))
            continue
        theory = tuple(axis.span(unit) for axis, unit in zip(row.rf.axes, probe.unit, strict=False))
        if row.rf.unaligned:
            status = "unaligned: not compared"
        elif any(first < 0 or last >= size for (first, last), size in zip(theory, sizes, strict=False)):
            status = "field exceeds the input: not compared"
        else:
            status = "agree" if theory == probe.extent else "DIFFER"
        checks.append(Check(row.path, probe.unit, theory, probe.extent, status))
    return tuple(checks)


def _inside(row: LayerStats, sizes: tuple[int, ...]) -> bool:
    """Whether the centre unit's closed-form field lies inside the input (so it can be compared)."""
    if row.rf is None or row.rf.unaligned:
        return False
    units = [(n - 1) // 2 for n in row.output_shape[-len(row.rf.axes):]]
    spans = [axis.span(u) for axis, u in zip(row.rf.axes, units, strict=False)]
    return all(first >= 0 and last < size for (first, last), size in zip(spans, sizes, strict=False))


def verify_fields(
    model_or_name: str | nn.Module,
    analysis: Analysis,
    *,
    options: Mapping[str, Any] | None = None,
    limit: int | None = None,
) -> Verification:
    """Probe the growth layers whose field fits in the input, at most `limit` of them, evenly spread.

    A module run twice has no single output to probe and is left out; a layer whose field
    exceeds the input is reported without probing (a backward pass each is the cost).
    """
    loaded = load_model(model_or_name, device="cpu", options=options)
    calls = Counter(r.path for r in analysis.layers)
    sizes = tuple(analysis.input_shape[2:])
    rows = [r for r in analysis.growth.rows if r.path and calls[r.path] == 1]
    fitting = [r for r in rows if _inside(r, sizes)]
    if limit is not None and len(fitting) > limit:
        step = (len(fitting) - 1) / max(limit - 1, 1)
        fitting = [fitting[round(i * step)] for i in range(limit)]
    probes = probe_fields(loaded.module, analysis.input_shape, [r.path for r in fitting])
    checks = {c.path: c for c in compare(analysis, probes)}
    skipped = "field exceeds the input: not compared"
    ordered = [
        checks.get(r.path) or Check(r.path, (), (), (), skipped if not _inside(r, sizes) else "not probed (--limit)")
        for r in rows
    ]
    return Verification(analysis.model, analysis.input_shape, tuple(ordered))

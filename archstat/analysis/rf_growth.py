"""Receptive-field growth of a model, from an analysis: the rows of spatial layers, the final
field, and where it first covers the whole input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archstat.analysis.records import Analysis, LayerStats
from archstat.analysis.rf import Field

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class Growth:
    """The spatial layers in execution order and the summary figures of their fields."""

    rows: tuple[LayerStats, ...]         # leaf layers whose output has a modelled spatial field
    final: LayerStats | None             # the layer with the largest field
    covering: LayerStats | None          # the first layer whose field spans the whole input
    input_size: tuple[int, ...]          # spatial size of the input


def spatial(field: Field | None) -> bool:
    """A field with per-axis numbers (not whole-input, not unmodelled)."""
    return field is not None and not field.whole and not field.unknown and bool(field.axes)


def _area(row: LayerStats) -> int:
    assert row.rf is not None
    size = 1
    for axis in row.rf.axes:
        size *= axis.size
    return size


def growth(analysis: Analysis) -> Growth:
    """Where the receptive field grows, its final size, and the layer where it covers the input."""
    rows = tuple(r for r in analysis.leaves() if spatial(r.rf))
    candidates = [r for r in analysis.layers if spatial(r.rf)]
    final = max(candidates, key=_area, default=None)
    size = analysis.input_shape[2:]
    covering = next(
        (r for r in rows if r.rf is not None and all(a.size >= s for a, s in zip(r.rf.axes, size, strict=False))),
        None,
    )
    return Growth(rows, final, covering, tuple(size))


def rf_growth(analysis: Analysis) -> pd.DataFrame:
    """The growth table as a DataFrame: one row per spatial layer, per-axis size, jump, padding."""
    import pandas as pd

    records: list[dict[str, Any]] = []
    for row in growth(analysis).rows:
        assert row.rf is not None
        record: dict[str, Any] = {"index": row.index, "path": row.path, "type": row.type, "depth": row.depth}
        for name, axis in zip(("h", "w", "d"), row.rf.axes, strict=False):
            record[f"rf_{name}"] = axis.size
            record[f"jump_{name}"] = axis.jump
            record[f"padding_{name}"] = axis.padding
        record["unaligned"] = row.rf.unaligned or ""
        records.append(record)
    return pd.DataFrame.from_records(records)

"""Receptive-field growth of a model, from an analysis: the rows of spatial layers, the final
field, and where it first covers the whole input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from archstat.analysis.records import Analysis, Growth, LayerStats
from archstat.analysis.rf.field import Field

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Growth", "compute_growth", "growth", "rf_growth", "spatial"]


def spatial(field: Field | None) -> bool:
    """A field with per-axis numbers (not whole-input, not unmodelled)."""
    return field is not None and not field.whole and not field.unknown and bool(field.axes)


def _area(row: LayerStats) -> int:
    assert row.rf is not None
    size = 1
    for axis in row.rf.axes:
        size *= axis.size
    return size


def compute_growth(layers: Sequence[LayerStats], input_shape: Sequence[int]) -> Growth:
    """Where the receptive field grows, its final size, and the layer where it covers the input.

    The rows are the leaf layers, plus the blocks whose own merge (a residual add, a concat)
    changes the field of their last child, placed after their children; a row whose field equals
    the previous row's (a norm or activation after its conv) is left out. `analyze` calls this
    once and stores the result as `Analysis.growth`.
    """
    last = list(range(len(layers)))       # index of each call's last descendant
    last_child: dict[int, int] = {}
    for r in reversed(layers):
        if r.parent >= 0:
            last[r.parent] = max(last[r.parent], last[r.index])
            last_child.setdefault(r.parent, r.index)
    ordered = sorted(
        (r for r in layers if r.depth > 0 and spatial(r.rf) and (
            r.is_leaf or (r.index in last_child and layers[last_child[r.index]].rf != r.rf)
        )),
        key=lambda r: (last[r.index], not r.is_leaf),
    )
    rows = tuple(r for i, r in enumerate(ordered) if i == 0 or r.rf != ordered[i - 1].rf)
    candidates = [r for r in layers if spatial(r.rf)]
    final = max(candidates, key=lambda r: (_area(r), r.is_leaf), default=None)
    size = tuple(input_shape[2:])
    covering = next(
        (r for r in rows if r.rf is not None and all(a.size >= s for a, s in zip(r.rf.axes, size, strict=False))),
        None,
    )
    global_from = next((r for r in layers if r.is_leaf and r.rf is not None and r.rf.whole), None)
    return Growth(rows, final, covering, size, global_from)


def growth(analysis: Analysis) -> Growth:
    """The growth stored in the analysis (`Analysis.growth`); nothing is recomputed."""
    return analysis.growth


def rf_growth(analysis: Analysis) -> pd.DataFrame:
    """The growth table as a DataFrame: one row per spatial layer, per-axis size, jump, padding."""
    import pandas as pd

    records: list[dict[str, Any]] = []
    for row in analysis.growth.rows:
        assert row.rf is not None
        record: dict[str, Any] = {"index": row.index, "path": row.path, "type": row.type, "depth": row.depth}
        for name, axis in zip(("h", "w", "d"), row.rf.axes, strict=False):
            record[f"rf_{name}"] = axis.size
            record[f"jump_{name}"] = axis.jump
            record[f"padding_{name}"] = axis.padding
        record["unaligned"] = row.rf.unaligned or ""
        records.append(record)
    return pd.DataFrame.from_records(records)

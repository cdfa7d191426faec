"""`archstat rf MODEL`: the receptive-field growth table of a model, its final field and legend."""

from __future__ import annotations

from typing import Any

from archstat.analysis.records import Analysis, Growth, LayerStats
from archstat.analysis.rf.field import Field
from archstat.report import units
from archstat.report.messages import DEFAULT_LANG, text
from archstat.report.summary import field_text, title
from archstat.report.table import Column, Document, Note, Table, Value


def _per_axis(field: Field | None, attr: str) -> str:
    if field is None or not field.axes:
        return "-"
    values = [getattr(axis, attr) for axis in field.axes]
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


def _axis(attr: str, axis: int) -> Column[LayerStats]:
    """A data column: `attr` of the field on one axis (a one-axis field counts for both)."""
    def value(row: LayerStats) -> Value:
        if row.rf is None or not row.rf.axes:
            return None
        axes = row.rf.axes
        return int(getattr(axes[min(axis, len(axes) - 1)], attr))

    key = f"{'rf' if attr == 'size' else attr}_{'hw'[axis]}"
    return Column(key, key, value, shown=False)


GROWTH_COLUMNS: tuple[Column[LayerStats], ...] = (
    Column("Layer", "path", lambda r: r.path, numeric=False, code=True),
    Column("Type", "type", lambda r: r.type, numeric=False),
    Column("Output shape", "output_shape", lambda r: units.shape(r.output_shape), numeric=False),
    Column("RF", "rf", lambda r: field_text(r.rf), data=False),
    Column("Jump", "jump", lambda r: _per_axis(r.rf, "jump"), data=False),
    Column("Padding", "padding", lambda r: _per_axis(r.rf, "padding"), data=False),
    *(_axis(attr, axis) for attr in ("size", "jump", "padding") for axis in (0, 1)),
    Column("Unaligned", "unaligned", lambda r: (r.rf.unaligned or "") if r.rf else "", shown=False),
)


def growth_lines(analysis: Analysis, grown: Growth, lang: str = DEFAULT_LANG) -> list[str]:
    """The final field, where it first covers the input, and the legend, in `lang`."""
    size = "×".join(map(str, grown.input_size))
    lines = []
    if grown.final is not None:
        final = grown.final
        lines.append(text("report.growth.final", lang, field=field_text(final.rf, lang),
                          where=final.path or analysis.model, jump=_per_axis(final.rf, "jump"),
                          padding=_per_axis(final.rf, "padding")))
    # where the field is first lost: a leaf if any (the root's field is lost too, from the same op)
    unknown = sorted((r for r in analysis.layers if r.rf is not None and r.rf.unknown), key=lambda r: not r.is_leaf)
    if grown.covering is not None:
        lines.append(text("report.growth.covers", lang, size=size, path=grown.covering.path))
    elif grown.global_from is not None:
        lines.append(text("report.growth.global", lang, size=size, path=grown.global_from.path,
                          type=grown.global_from.type))
    elif unknown:
        lines.append(text("report.growth.covers_unknown", lang, size=size))
    else:
        lines.append(text("report.growth.never", lang, size=size))
    unaligned = [r for r in analysis.layers if r.rf is not None and r.rf.unaligned]
    if unaligned:
        first = unaligned[0]
        reason = first.rf.unaligned if first.rf else ""
        lines.append(text("report.growth.unaligned", lang, path=first.path, reason=reason)
                     + (text("report.growth.more", lang, n=len(unaligned) - 1) if len(unaligned) > 1 else ""))
    if unknown:
        lines.append(text("report.growth.unknown", lang, path=unknown[0].path or analysis.model,
                          reason=unknown[0].rf.unknown if unknown[0].rf else ""))
    lines.append(text("report.growth.legend", lang))
    return lines


def growth_dict(analysis: Analysis, grown: Growth) -> dict[str, Any]:
    """JSON-ready growth data."""
    return {
        "model": analysis.model,
        "input_shape": list(analysis.input_shape),
        "final": {"path": grown.final.path, **grown.final.rf.to_dict()} if grown.final and grown.final.rf else None,
        "covers_input_at": grown.covering.path if grown.covering else None,
        "global_from": grown.global_from.path if grown.global_from else None,
        "layers": [
            {"path": r.path, "type": r.type, "output_shape": list(r.output_shape),
             "rf": r.rf.to_dict() if r.rf else None}
            for r in grown.rows
        ],
    }


def growth_document(analysis: Analysis) -> Document:
    """The growth table with its summary lines; JSON as `growth_dict`."""
    grown = analysis.growth
    table = Table.build(
        f"{title(analysis)}: receptive-field growth", GROWTH_COLUMNS, grown.rows,
        notes=tuple(Note("", line) for line in growth_lines(analysis, grown)),
        facts=(("final_path", grown.final.path if grown.final else None),
               ("covers_input_at", grown.covering.path if grown.covering else None)),
    )
    return Document((table,), data=growth_dict(analysis, grown))

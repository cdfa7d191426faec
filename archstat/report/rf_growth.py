"""`archstat rf MODEL`: the receptive-field growth table of a model, in every format."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from archstat.analysis.records import Analysis, LayerStats
from archstat.analysis.rf.field import Field
from archstat.analysis.rf.growth import Growth, growth
from archstat.report import units
from archstat.report.summary import Column, field_text, markdown_table, tex, title

FORMATS = ("table", "json", "markdown", "latex", "csv")


def _per_axis(field: Field | None, attr: str) -> str:
    if field is None or not field.axes:
        return "-"
    values = [getattr(axis, attr) for axis in field.axes]
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


GROWTH_COLUMNS: tuple[Column[LayerStats], ...] = (
    Column("Layer", lambda r: r.path, numeric=False),
    Column("Type", lambda r: r.type, numeric=False),
    Column("Output shape", lambda r: units.shape(r.output_shape), numeric=False),
    Column("RF", lambda r: field_text(r.rf)),
    Column("Jump", lambda r: _per_axis(r.rf, "jump")),
    Column("Padding", lambda r: _per_axis(r.rf, "padding")),
)


def growth_lines(analysis: Analysis, grown: Growth) -> list[str]:
    """The final field, where it first covers the input, and the legend."""
    size = "×".join(map(str, grown.input_size))
    lines = []
    if grown.final is not None:
        final = grown.final
        lines.append(
            f"final field {field_text(final.rf)} px at {final.path or analysis.model} "
            f"(jump {_per_axis(final.rf, 'jump')}, padding {_per_axis(final.rf, 'padding')})"
        )
    if grown.covering is not None:
        lines.append(f"the field first covers the whole {size} input at {grown.covering.path}")
    else:
        lines.append(f"the field never covers the whole {size} input")
    unaligned = [r for r in analysis.layers if r.rf is not None and r.rf.unaligned]
    if unaligned:
        lines.append(f"† unaligned merges: {unaligned[0].path}: {unaligned[0].rf.unaligned if unaligned[0].rf else ''}"
                     + (f" (+{len(unaligned) - 1} more)" if len(unaligned) > 1 else ""))
    unknown = [r for r in analysis.layers if r.rf is not None and r.rf.unknown]
    if unknown:
        lines.append(f"? not modelled from {unknown[0].path}: {unknown[0].rf.unknown if unknown[0].rf else ''}")
    lines.append("RF in input pixels per axis; jump = effective stride; padding = effective padding P "
                 "(unit u is centred on u·jump − P + (RF − 1)/2)")
    return lines


def _rows(grown: Growth) -> list[LayerStats]:
    return list(grown.rows)


def growth_dict(analysis: Analysis, grown: Growth) -> dict[str, Any]:
    """JSON-ready growth data."""
    return {
        "model": analysis.model,
        "input_shape": list(analysis.input_shape),
        "final": {"path": grown.final.path, **grown.final.rf.to_dict()} if grown.final and grown.final.rf else None,
        "covers_input_at": grown.covering.path if grown.covering else None,
        "layers": [
            {"path": r.path, "type": r.type, "output_shape": list(r.output_shape),
             "rf": r.rf.to_dict() if r.rf else None}
            for r in grown.rows
        ],
    }


def render_growth(analysis: Analysis, fmt: str, width: int = 160) -> str:
    """The growth table and its summary lines."""
    grown = growth(analysis)
    rows = _rows(grown)
    lines = growth_lines(analysis, grown)
    if fmt == "json":
        return json.dumps(growth_dict(analysis, grown), indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["path", "type", "output_shape", "rf_h", "rf_w", "jump_h", "jump_w", "padding_h",
                         "padding_w", "unaligned"])
        for r in rows:
            assert r.rf is not None
            axes = list(r.rf.axes) * (2 if len(r.rf.axes) == 1 else 1)
            writer.writerow([r.path, r.type, units.shape(r.output_shape), axes[0].size, axes[1].size,
                             axes[0].jump, axes[1].jump, axes[0].padding, axes[1].padding, r.rf.unaligned or ""])
        return buffer.getvalue()
    cells = [[c.cell(r) for c in GROWTH_COLUMNS] for r in rows]
    if fmt == "markdown":
        out = [f"**{title(analysis)}: receptive-field growth**", "", *markdown_table(GROWTH_COLUMNS, rows), ""]
        out += [f"- {line}" for line in lines]
        return "\n".join(out) + "\n"
    if fmt == "latex":
        spec = "".join("r" if c.numeric else "l" for c in GROWTH_COLUMNS)
        out = [f"% {tex(title(analysis))}", f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
               " & ".join(c.header for c in GROWTH_COLUMNS) + " \\\\", "\\midrule"]
        out += [" & ".join(tex(c) for c in row) + " \\\\" for row in cells]
        out += ["\\bottomrule", "\\end{tabular}", ""] + [tex(line) + "\\\\" for line in lines]
        return "\n".join(out) + "\n"
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{title(analysis)}: receptive-field growth", box=box.SIMPLE_HEAD, header_style="bold")
    for c in GROWTH_COLUMNS:
        table.add_column(c.header, justify="right" if c.numeric else "left", no_wrap=True)
    for row in cells:
        table.add_row(*row)
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    console.print(table)
    for line in lines:
        console.print(line)
    return buffer.getvalue()

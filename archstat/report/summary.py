"""The per-layer table and its summary, in every output format.

One list of columns and one list of summary lines serve the terminal, Markdown and LaTeX, so
the formats cannot drift apart. CSV and JSON carry raw numbers instead of formatted ones.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from archstat.analysis.ops.costs import CATEGORIES, CONVENTIONS
from archstat.analysis.records import Analysis, LayerStats
from archstat.analysis.rf.field import Field
from archstat.analysis.rf.growth import growth
from archstat.report import units

FORMATS = ("table", "json", "csv", "markdown", "latex")


R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Column(Generic[R]):
    """A column of a table: its header, how to render a row, alignment."""

    header: str
    cell: Callable[[R], str]
    numeric: bool = True


def markdown_table(columns: Sequence[Column[R]], rows: Iterable[R]) -> list[str]:
    """Header, alignment row and one line per row; the first cell is set as code."""
    out = ["| " + " | ".join(c.header for c in columns) + " |"]
    out.append("|" + "|".join("---:" if c.numeric else "---" for c in columns) + "|")
    for row in rows:
        cells = [c.cell(row).replace("|", "\\|") for c in columns]
        cells[0] = f"`{cells[0]}`"
        out.append("| " + " | ".join(cells) + " |")
    return out


def _params(row: LayerStats) -> str:
    text = units.exact(row.params) if row.params or not row.shared else "shared"
    return text + (" *" if row.shared and row.params else "")


def _name(row: LayerStats) -> str:
    suffix = f" (call {row.call + 1})" if row.call else ""
    return row.path + suffix


def field_text(field: Field | None) -> str:
    """"196", "1×7", "whole", "?" (not modelled), with "†" when merged paths are unaligned."""
    if field is None:
        return "-"
    if field.whole:
        return "whole"
    if field.unknown or not field.axes:
        return "?"
    sizes = [a.size for a in field.axes]
    text = str(sizes[0]) if len(set(sizes)) == 1 else "×".join(map(str, sizes))
    return text + ("†" if field.unaligned else "")


COLUMNS: tuple[Column[LayerStats], ...] = (
    Column("Layer", _name, numeric=False),
    Column("Type", lambda r: r.type, numeric=False),
    Column("Output shape", lambda r: units.shape(r.output_shape), numeric=False),
    Column("RF", lambda r: field_text(r.rf)),
    Column("Params", _params),
    Column("MACs", lambda r: units.si(r.macs) if r.macs else "-"),
    Column("FLOPs", lambda r: units.si(r.flops) if r.flops else "-"),
    Column("Activations", lambda r: units.nbytes(r.activation_bytes) if r.activation_bytes else "-"),
)


def title(analysis: Analysis) -> str:
    """One line naming what was analysed."""
    return (
        f"{analysis.model} · input {units.shape(analysis.input_shape)} · {analysis.dtype} "
        f"· device {analysis.device}"
    )


def _jumps(field: Field) -> str:
    jumps = [a.jump for a in field.axes]
    return str(jumps[0]) if len(set(jumps)) == 1 else "×".join(map(str, jumps))


def summary_lines(analysis: Analysis) -> list[tuple[str, str]]:
    """Labelled totals, memory figures and conventions shown under every table."""
    t = analysis.totals
    params = f"{units.exact(t.params)} ({units.si(t.params)}) · trainable {units.exact(t.trainable_params)}"
    if t.executed_params != t.params:
        params += (
            f" · {units.exact(t.executed_params)} in modules the forward ran "
            f"({units.exact(t.params - t.executed_params)} not run, e.g. auxiliary heads)"
        )
    by_category = " · ".join(
        f"{name} {units.si(cost.flops)}" for name, cost in t.by_category.items() if cost.flops
    )
    lines = [
        ("Parameters", params),
        ("MACs", f"{units.exact(t.macs)} ({units.si(t.macs)}MAC)"),
        ("FLOPs", f"{units.exact(t.flops)} ({units.si(t.flops)}FLOP) = {by_category}"),
        (
            "Memory",
            f"layer outputs {units.nbytes(t.activation_bytes)} · peak live in inference "
            f"{units.nbytes(t.peak_activation_bytes)} · saved for backward "
            f"{units.nbytes(t.training_activation_bytes)} ({analysis.training_mode} mode) · "
            f"parameters {units.nbytes(t.param_bytes)} · buffers {units.nbytes(t.buffer_bytes)}",
        ),
    ]
    grown = growth(analysis)
    if grown.final is not None and grown.final.rf is not None:
        final = grown.final.rf
        where = f" at {grown.final.path}" if grown.final.path else ""
        covers = f"; covers the whole input from {grown.covering.path}" if grown.covering else ""
        lines.append((
            "RF",
            f"{field_text(final)} px{where} (jump {_jumps(final)}){covers}; "
            "† marks merged paths that are unaligned, ? an op whose effect is not modelled",
        ))
    if t.partial:
        ops = ", ".join(f"{op} ×{n}" for op, n in sorted(analysis.unsupported.items()))
        lines.append(("PARTIAL", f"no formula for {ops}: totals leave them out"))
    if any(r.shared for r in analysis.layers):
        lines.append(("*", "shared: a parameter or module used again is counted once, where first used"))
    lines.append(("Convention", f"MACs = {CONVENTIONS['macs']}; FLOPs = {CONVENTIONS['flops']}"))
    lines.append(("", "Activations = " + CONVENTIONS["activation_bytes"]))
    return lines


def render_markdown(analysis: Analysis, depth: int | None = None) -> str:
    """A GitHub-flavoured Markdown table with the summary as a list below it."""
    out = [f"**{title(analysis)}**", "", *markdown_table(COLUMNS, analysis.rows(depth)), ""]
    out.extend(f"- **{label}**: {text}" if label else f"- {text}" for label, text in summary_lines(analysis))
    return "\n".join(out) + "\n"


_LATEX_SPECIAL = str.maketrans({"_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$", "·": r"$\cdot$",
                                "×": r"$\times$", "†": r"\dag{}"})


def tex(text: str) -> str:
    """Text with LaTeX's special characters escaped."""
    return text.translate(_LATEX_SPECIAL)


def render_latex(analysis: Analysis, depth: int | None = None) -> str:
    """A booktabs `tabular` with the summary as its caption notes."""
    spec = "".join("r" if c.numeric else "l" for c in COLUMNS)
    out = [
        "% requires \\usepackage{booktabs}",
        "\\begin{table}[t]",
        "\\centering\\small",
        f"\\caption{{{tex(title(analysis))}}}",
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        " & ".join(tex(c.header) for c in COLUMNS) + " \\\\",
        "\\midrule",
    ]
    for row in analysis.rows(depth):
        cells = [tex(c.cell(row)) for c in COLUMNS]
        cells[0] = f"\\texttt{{{cells[0]}}}"
        out.append(" & ".join(cells) + " \\\\")
    out += ["\\bottomrule", "\\end{tabular}", "", "\\medskip", "\\begin{flushleft}\\footnotesize"]
    out.extend(
        (f"\\textbf{{{tex(label)}}}: " if label else "") + tex(text) + "\\\\"
        for label, text in summary_lines(analysis)
    )
    out += ["\\end{flushleft}", "\\end{table}"]
    return "\n".join(out) + "\n"


def render_csv(analysis: Analysis, depth: int | None = None) -> str:
    """Raw numbers per row, one column per category's MACs and FLOPs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    fixed = ["path", "type", "depth", "call", "is_leaf", "input_shapes", "output_shape", "params",
             "trainable_params", "shared", "param_bytes", "macs", "flops", "activation_bytes", "rf"]
    writer.writerow(fixed + [f"{kind}_{c}" for c in CATEGORIES for kind in ("macs", "flops")])
    for row in analysis.rows(depth):
        values = [
            row.path, row.type, row.depth, row.call, row.is_leaf,
            ";".join(units.shape(s) for s in row.input_shapes), units.shape(row.output_shape),
            row.params, row.trainable_params, row.shared, row.param_bytes, row.macs, row.flops,
            row.activation_bytes, field_text(row.rf),
        ]
        for c in CATEGORIES:
            cost = row.by_category.get(c)
            values += [cost.macs if cost else 0, cost.flops if cost else 0]
        writer.writerow(values)
    return buffer.getvalue()

"""The comparison table in every output format.

One list of columns and one list of notes serve the terminal, Markdown and LaTeX, so the formats
cannot drift apart; CSV and JSON carry raw numbers instead of formatted ones.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence

from archstat.analysis.ops.costs import CONVENTIONS
from archstat.report import units
from archstat.report.summary import Column, markdown_table, tex
from archstat.studies.compare import ComparisonRow

FORMATS = ("table", "json", "csv", "markdown", "latex")
SCHEMA_VERSION = 1
CONVENTION = "MACs are multiply-accumulates; FLOPs count a multiply-add as 2"
NOT_MEASURED = "not measured"


def field_size(sizes: Sequence[int] | None) -> str:
    """"212" for a square field, "1×7" otherwise, "-" when unknown."""
    if not sizes:
        return "-"
    return str(sizes[0]) if len(set(sizes)) == 1 else "×".join(map(str, sizes))


def _latency(row: ComparisonRow) -> str:
    return f"{row.latency.ms:,.2f} ms" if row.latency else NOT_MEASURED


COLUMNS: tuple[Column[ComparisonRow], ...] = (
    Column("Model", lambda r: r.model, numeric=False),
    Column("Input", lambda r: units.shape(r.input_shape), numeric=False),
    Column("Params", lambda r: units.exact(r.params)),
    Column("MACs", lambda r: units.si(r.macs)),
    Column("FLOPs", lambda r: units.si(r.flops)),
    Column("Outputs", lambda r: units.nbytes(r.activation_bytes)),
    Column("Peak", lambda r: units.nbytes(r.peak_activation_bytes)),
    Column("Backward", lambda r: units.nbytes(r.training_activation_bytes)),
    Column("Weights", lambda r: units.nbytes(r.param_bytes)),
    Column("RF px", lambda r: field_size(r.receptive_field)),
    Column("Top-1 %", lambda r: f"{r.top1:.3f}" if r.top1 is not None else "-"),
    Column("Latency", _latency),
)


def title(rows: Sequence[ComparisonRow]) -> str:
    """One line naming what is compared."""
    return f"archstat compare · {len(rows)} model{'s' if len(rows) != 1 else ''}"


def _latency_note(rows: Sequence[ComparisonRow]) -> str:
    groups: dict[str, list[str]] = {}
    for r in rows:
        if r.latency is None:
            continue
        where = r.latency.device or "device not given"
        batch = f"batch {r.latency.batch}" if r.latency.batch is not None else "batch not given"
        groups.setdefault(f"{where}, {batch}", []).append(r.model)
    if not groups:
        return f"{NOT_MEASURED}: archstat does not time models; pass --latency FILE.json with measured times"
    if len(groups) == 1:
        where = next(iter(groups))
        measured = f"measured forward time in ms ({where})"
    else:
        measured = "measured forward time in ms: " + "; ".join(
            f"{where}: {', '.join(models)}" for where, models in groups.items()
        )
    missing = [r.model for r in rows if r.latency is None]
    return measured + (f"; {NOT_MEASURED}: {', '.join(missing)}" if missing else "")


def notes(rows: Sequence[ComparisonRow]) -> list[tuple[str, str]]:
    """Labelled notes shown under every table: conventions, what each column means, sources."""
    dtypes = sorted({r.dtype for r in rows})
    sources = sorted({r.top1_source for r in rows if r.top1_source})
    lines = [
        ("Convention", CONVENTION),
        (
            "Memory",
            "Outputs = layer outputs · Peak = peak live tensors in an inference forward (input included) · "
            f"Backward = saved for backward in training · Weights = parameters; all at {', '.join(dtypes)}",
        ),
        ("RF", "final receptive field on the input, px per axis (one number when square)"),
        (
            "Top-1",
            f"published ImageNet top-1: {'; '.join(sources)}, at each model's default input; - = none published"
            if sources else "no model here has a published ImageNet top-1",
        ),
        ("Latency", _latency_note(rows)),
    ]
    partial = [r.model for r in rows if r.partial]
    if partial:
        lines.append(("PARTIAL", f"{', '.join(partial)}: some ops have no formula; their totals leave them out"))
    return lines


def render_markdown(rows: Sequence[ComparisonRow]) -> str:
    """A GitHub-flavoured Markdown table with the notes as a list below it."""
    out = [f"**{title(rows)}**", "", *markdown_table(COLUMNS, rows), ""]
    out.extend(f"- **{label}**: {text}" for label, text in notes(rows))
    return "\n".join(out) + "\n"


def render_latex(rows: Sequence[ComparisonRow]) -> str:
    """A booktabs `tabular` with the notes below it."""
    spec = "".join("r" if c.numeric else "l" for c in COLUMNS)
    out = [
        "% requires \\usepackage{booktabs}",
        "\\begin{table}[t]",
        "\\centering\\small",
        f"\\caption{{{tex(title(rows))}}}",
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        " & ".join(tex(c.header) for c in COLUMNS) + " \\\\",
        "\\midrule",
    ]
    for row in rows:
        cells = [tex(c.cell(row)) for c in COLUMNS]
        cells[0] = f"\\texttt{{{cells[0]}}}"
        out.append(" & ".join(cells) + " \\\\")
    out += ["\\bottomrule", "\\end{tabular}", "", "\\medskip", "\\begin{flushleft}\\footnotesize"]
    out.extend(f"\\textbf{{{tex(label)}}}: {tex(text)}\\\\" for label, text in notes(rows))
    out += ["\\end{flushleft}", "\\end{table}"]
    return "\n".join(out) + "\n"


CSV_FIELDS = (
    "model", "input_shape", "dtype", "params", "macs", "flops", "activation_bytes", "peak_activation_bytes",
    "training_activation_bytes", "param_bytes", "receptive_field", "top1", "top1_source", "latency_ms",
    "latency_device", "latency_batch", "partial",
)


def render_csv(rows: Sequence[ComparisonRow]) -> str:
    """Raw numbers, one row per model; shapes and fields written 1x3x224x224; empty = not known."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        data = row.to_dict()
        data["input_shape"] = units.shape(row.input_shape)
        data["receptive_field"] = units.shape(row.receptive_field) if row.receptive_field else None
        writer.writerow(["" if data[f] is None else data[f] for f in CSV_FIELDS])
    return buffer.getvalue()


def render_json(rows: Sequence[ComparisonRow]) -> str:
    """`{"schema_version", "convention", "conventions", "models": [...]}` with raw numbers."""
    payload = {
        "schema_version": SCHEMA_VERSION,
        "convention": CONVENTION,
        "conventions": {k: CONVENTIONS[k] for k in ("macs", "flops", "activation_bytes")},
        "models": [row.to_dict() for row in rows],
    }
    return json.dumps(payload, indent=2) + "\n"


def render_text(rows: Sequence[ComparisonRow], width: int = 160) -> str:
    """The terminal table drawn with rich, as plain text, then the notes."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title(rows), box=box.SIMPLE_HEAD, title_style="bold", header_style="bold")
    for column in COLUMNS:
        table.add_column(column.header, justify="right" if column.numeric else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(column.cell(row) for column in COLUMNS))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in notes(rows):
        grid.add_row(Text(label, style="bold red" if label == "PARTIAL" else "bold"), text)
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    console.print(table)
    console.print(grid)
    return buffer.getvalue()


def render_comparison(rows: Sequence[ComparisonRow], fmt: str, width: int = 160) -> str:
    """The comparison in one of `FORMATS`."""
    renderers: dict[str, Callable[[Sequence[ComparisonRow]], str]] = {
        "json": render_json,
        "csv": render_csv,
        "markdown": render_markdown,
        "latex": render_latex,
    }
    if fmt == "table":
        return render_text(rows, width)
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return renderers[fmt](rows)

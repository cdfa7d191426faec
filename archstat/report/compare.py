"""`archstat compare`: the comparison table, its notes, and the documented JSON.

One list of columns serves every format: the text formats show the columns marked `shown`
(formatted), CSV the columns marked `data` (raw numbers; shapes and fields written 1x3x224x224;
empty = not known).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archstat.analysis.ops.costs import CONVENTIONS
from archstat.report import units
from archstat.report.table import Column, Document, Note, Table
from archstat.report.writers import render
from archstat.studies.compare import ComparisonRow

SCHEMA_VERSION = 1
CONVENTION = "MACs are multiply-accumulates; FLOPs count a multiply-add as 2"
NOT_MEASURED = "not measured"


def field_size(sizes: Sequence[int] | None) -> str:
    """"212" for a square field, "1×7" otherwise, "-" when unknown."""
    if not sizes:
        return "-"
    return str(sizes[0]) if len(set(sizes)) == 1 else "×".join(map(str, sizes))


def _data(key: str) -> Column[ComparisonRow]:
    """A column of `ComparisonRow.to_dict()` written only to CSV."""
    return Column(key, key, lambda r: r.to_dict()[key], shown=False)


COLUMNS: tuple[Column[ComparisonRow], ...] = (
    Column("Model", "model", lambda r: r.model, numeric=False, code=True),
    Column("Input", "input_shape", lambda r: units.shape(r.input_shape), numeric=False),
    _data("dtype"),
    Column("Params", "params", lambda r: r.params, units.exact),
    Column("MACs", "macs", lambda r: r.macs, units.si),
    Column("FLOPs", "flops", lambda r: r.flops, units.si),
    Column("Outputs", "activation_bytes", lambda r: r.activation_bytes, units.nbytes),
    Column("Peak", "peak_activation_bytes", lambda r: r.peak_activation_bytes, units.nbytes),
    Column("Backward", "training_activation_bytes", lambda r: r.training_activation_bytes, units.nbytes),
    Column("Weights", "param_bytes", lambda r: r.param_bytes, units.nbytes),
    Column("RF px", "rf_px", lambda r: field_size(r.receptive_field), data=False),
    Column("receptive_field", "receptive_field",
           lambda r: units.shape(r.receptive_field) if r.receptive_field else None, shown=False),
    Column("Top-1 %", "top1", lambda r: r.top1, lambda v: f"{v:.3f}" if v is not None else "-"),
    _data("top1_source"),
    Column("Latency", "latency_ms", lambda r: r.latency.ms if r.latency else None,
           lambda v: NOT_MEASURED if v is None else f"{v:,.2f} ms"),
    _data("latency_device"),
    _data("latency_batch"),
    _data("partial"),
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


def comparison_dict(rows: Sequence[ComparisonRow]) -> dict[str, Any]:
    """`{"schema_version", "convention", "conventions", "models": [...]}` with raw numbers."""
    return {
        "schema_version": SCHEMA_VERSION,
        "convention": CONVENTION,
        "conventions": {k: CONVENTIONS[k] for k in ("macs", "flops", "activation_bytes")},
        "models": [row.to_dict() for row in rows],
    }


def comparison_document(rows: Sequence[ComparisonRow]) -> Document:
    """The comparison table with its notes; JSON as `comparison_dict`."""
    table = Table.build(title(rows), COLUMNS, rows,
                        notes=tuple(Note(label, text, alert=label == "PARTIAL") for label, text in notes(rows)))
    return Document((table,), data=comparison_dict(rows))


def render_comparison(rows: Sequence[ComparisonRow], fmt: str, width: int = 160) -> str:
    """The comparison in one of `writers.FORMATS`."""
    return render(comparison_document(rows), fmt, width)

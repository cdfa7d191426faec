"""`archstat sweep`: the points table, the power laws and the marks of a sweep, and its JSON.

One list of columns serves every format (see `archstat.report.table`); the JSON is
`Sweep.to_dict()`. Every sentence comes from the message catalogue (`report.messages`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from archstat.report import units
from archstat.report.compare import field_size
from archstat.report.messages import DEFAULT_LANG, text
from archstat.report.table import Column, Document, Note, Table, Value
from archstat.studies.sweep import (
    FIGURES,
    MAC_KINDS,
    OPTIONAL_FIGURES,
    TRAINING_FIGURES,
    Fit,
    Sweep,
    SweepPoint,
    label_of,
)

# How each figure is shown: in the tables, in the laws.
SHOW: dict[str, Callable[[Any], str]] = {
    "params": units.exact, "macs": units.si, "flops": units.si, "activation_bytes": units.nbytes,
    "peak_activation_bytes": units.nbytes, "training_activation_bytes": units.nbytes, "param_bytes": units.nbytes,
    "training_bytes": units.nbytes, "step_activation_bytes": units.nbytes,
    **{f"macs.{kind}": units.si for kind in MAC_KINDS},
}


KIND_SHARE = 0.01    # a kind of product gets a column and a trace from this share of some point's MACs


def present(sweep: Sweep) -> list[str]:
    """The optional figures (`OPTIONAL_FIGURES`) worth a column and a trace, in that order: the
    training figures where computed, the MACs per kind of product where two kinds or more each hold
    `KIND_SHARE` of some point's MACs (one kind is the MACs column again)."""
    training = [name for name in TRAINING_FIGURES if any(p.figure(name) is not None for p in sweep.points)]
    kinds = [f"macs.{kind}" for kind in MAC_KINDS
             if any((p.figure(f"macs.{kind}") or 0) >= KIND_SHARE * p.macs > 0 for p in sweep.points)]
    return [*training, *(kinds if len(kinds) > 1 else [])]


def _dash(show: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda v: "-" if v is None else show(v)


def axis_name(sweep: Sweep, lang: str = DEFAULT_LANG) -> str:
    """"input size", "batch", "sequence length" or the option's name."""
    return text(f"sweep.axis.{sweep.swept.axis}", lang, name=sweep.swept.name)


def x_symbol(sweep: Sweep) -> str:
    """The swept quantity in a law: size, batch, seq or the option's name."""
    return sweep.swept.name


def law(sweep: Sweep, figure: str, fit: Fit, lang: str = DEFAULT_LANG) -> str:
    """"MACs ∝ size^2.00", "MACs ∝ seq^1.17, ^1.31 beyond 1,024", "parameters constant"."""
    name = text(f"sweep.figure.{figure}", lang)
    if abs(fit.exponent) < 0.005 and fit.breakpoint is None:
        return text("sweep.law_constant", lang, figure=name)
    x = x_symbol(sweep)
    if fit.breakpoint is not None:
        return text("sweep.law_break", lang, figure=name, x=x, exponent=f"{fit.exponent:.2f}",
                    beyond=f"{fit.breakpoint.beyond:.2f}", at=f"{fit.breakpoint.at:,.4g}")
    return text("sweep.law", lang, figure=name, x=x, exponent=f"{fit.exponent:.2f}")


def marks_of(sweep: Sweep) -> list[tuple[str, dict[str, Any]]]:
    """Every mark as (kind, mark), a `gpu` mark once per GPU size, in the sweep's order."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, mark in sweep.marks.items():
        out.extend((name, dict(m)) for m in (mark if isinstance(mark, (list, tuple)) else [mark]))
    return out


def mark_line(sweep: Sweep, name: str, mark: dict[str, Any], lang: str = DEFAULT_LANG) -> str:
    """"paper's input 224", "training passes 80 GiB (A100/H100) at 448", ..."""
    value = mark.get("label") or label_of(tuple(mark["value"]) if isinstance(mark["value"], list)
                                          else mark["value"], sweep.swept.axis)
    if name == "gpu":
        card = f" ({mark['name']})" if mark.get("name") else ""
        gib = mark["gib"] if isinstance(mark["gib"], str) else f"{mark['gib']:g}"   # "80, 141" where merged
        return text("sweep.mark.gpu", lang, gib=gib, name=card, value=value)
    key = {"paper_input": "sweep.mark.paper_input", "default": "sweep.mark.default"}.get(name)
    if key is None:
        key = "sweep.mark.rf_until" if mark.get("until") else "sweep.mark.rf_from"
    return text(key, lang, value=value)


def mark_lines(sweep: Sweep, lang: str = DEFAULT_LANG) -> list[str]:
    """One sentence per mark (`marks_of`), in the order paper input, default, receptive field, GPUs."""
    return [mark_line(sweep, name, mark, lang) for name, mark in marks_of(sweep)]


def _coverage(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2f}"


def point_columns(sweep: Sweep, lang: str = DEFAULT_LANG) -> tuple[Column[SweepPoint], ...]:
    """The points table's columns: the swept value, the input, every figure, the receptive field."""
    axis = sweep.swept.axis
    header = text(f"sweep.header.{axis}", lang, name=sweep.swept.name)

    def figure(col: str, key: str) -> Column[SweepPoint]:
        return Column(text(f"sweep.col.{col}", lang), key, lambda p: getattr(p, key), SHOW[key])

    def optional(key: str) -> Column[SweepPoint]:
        return Column(text(f"sweep.col.{key}", lang), key.replace(".", "_"), lambda p: p.figure(key),
                      _dash(SHOW[key]))

    shown = present(sweep)
    fields = any(p.rf_px for p in sweep.points)   # a model without spatial layers has no field to show
    return (
        Column(header, "value", lambda p: p.label, numeric=axis != "option" or sweep.swept.numeric),
        Column(text("sweep.col.input", lang), "input_shape", lambda p: p.inputs, numeric=False),
        figure("params", "params"),
        figure("macs", "macs"),
        *(optional(key) for key in shown if key.startswith("macs.")),
        figure("flops", "flops"),
        figure("outputs", "activation_bytes"),
        figure("peak", "peak_activation_bytes"),
        figure("backward", "training_activation_bytes"),
        figure("weights", "param_bytes"),
        *(optional(key) for key in TRAINING_FIGURES if key in shown),
        Column(text("sweep.col.rf", lang), "rf_px", lambda p: field_size(p.rf_px), data=False, shown=fields),
        Column("rf_px", "rf_px", lambda p: units.shape(p.rf_px) if p.rf_px else None, shown=False),
        Column(text("sweep.col.coverage", lang), "rf_coverage", lambda p: p.rf_coverage, _coverage, shown=fields),
        Column("rf_covers", "rf_covers", lambda p: p.rf_covers, shown=False),
        Column("partial", "partial", lambda p: p.partial, shown=False),
    )


def _fit_rows(sweep: Sweep, lang: str) -> list[dict[str, Value]]:
    rows: list[dict[str, Value]] = []
    for name in (*FIGURES, *OPTIONAL_FIGURES):
        fit = sweep.fits.get(name)
        if fit is None:
            continue
        brk = fit.breakpoint
        rows.append({
            "figure": name, "law": law(sweep, name, fit, lang), "exponent": fit.exponent,
            "prefactor": fit.prefactor, "r2": fit.r2, "break_at": brk.at if brk else None,
            "exponent_below": brk.below if brk else None, "exponent_beyond": brk.beyond if brk else None,
        })
    return rows


def _fit_columns(lang: str) -> tuple[Column[dict[str, Value]], ...]:
    def raw(key: str) -> Callable[[dict[str, Value]], Value]:
        return lambda r: r[key]

    def brk(r: dict[str, Value]) -> Value:
        return (f"{r['exponent_below']:.2f} → {r['exponent_beyond']:.2f} at {r['break_at']:,.4g}"
                if r["break_at"] is not None else None)

    return (
        Column("figure", "figure", raw("figure"), shown=False),
        Column(text("sweep.col.law", lang), "law", raw("law"), numeric=False),
        Column(text("sweep.col.exponent", lang), "exponent", raw("exponent"), lambda v: f"{float(v):.3f}"),
        Column(text("sweep.col.prefactor", lang), "prefactor", raw("prefactor"), lambda v: f"{float(v):.4g}"),
        Column(text("sweep.col.r2", lang), "r2", raw("r2"), lambda v: f"{float(v):.5f}"),
        Column(text("sweep.col.break", lang), "breakpoint", brk, data=False),
        Column("break_at", "break_at", raw("break_at"), shown=False),
        Column("exponent_below", "exponent_below", raw("exponent_below"), shown=False),
        Column("exponent_beyond", "exponent_beyond", raw("exponent_beyond"), shown=False),
    )


def notes(sweep: Sweep, lang: str = DEFAULT_LANG) -> tuple[Note, ...]:
    """Conventions, what the memory columns and the field mean, the marks, and PARTIAL points."""
    out = [
        Note(text("sweep.note.convention", lang), text("common.macs_convention", lang)),
        Note(text("sweep.note.memory", lang), text("sweep.note.memory_text", lang, dtype=sweep.dtype)),
    ]
    if any(p.rf_px for p in sweep.points):
        out.append(Note(text("sweep.note.rf", lang), text("sweep.note.rf_text", lang)))
    shown = present(sweep)
    if any(key.startswith("macs.") for key in shown):
        out.append(Note(text("sweep.note.kinds", lang), text("sweep.note.kinds_text", lang)))
    if sweep.training is not None:
        setup = sweep.training
        out.append(Note(text("sweep.note.training", lang), text(
            "sweep.note.training_text", lang, optimizer=setup["optimizer"],
            amp=f", amp {setup['amp']}" if setup.get("amp") else "",
            frozen=f", --freeze {' '.join(setup['freeze'])}" if setup.get("freeze") else "")))
    out.append(Note(text("sweep.note.marks", lang), " · ".join(mark_lines(sweep, lang)) or text("sweep.none", lang)))
    partial = [p.label for p in sweep.points if p.partial]
    if partial:
        out.append(Note(text("sweep.note.partial", lang), text("sweep.note.partial_text", lang,
                                                               values=", ".join(partial)), alert=True))
    return tuple(out)


def sweep_document(sweep: Sweep, lang: str = DEFAULT_LANG) -> Document:
    """The points with their notes, then the power laws; JSON as `Sweep.to_dict()`."""
    title = text("sweep.points_title", lang, model=sweep.model, count=len(sweep.points), axis=axis_name(sweep, lang))
    points = Table.build(title, point_columns(sweep, lang), sweep.points, notes=notes(sweep, lang))
    tables = [points]
    if sweep.fits:
        fit_note = Note(text("sweep.note.fit", lang), text("sweep.note.fit_text", lang, x=x_symbol(sweep)))
        tables.append(Table.build(text("sweep.fits_title", lang, x=x_symbol(sweep)), _fit_columns(lang),
                                  _fit_rows(sweep, lang), notes=(fit_note,)))
    else:
        tables[0] = Table.build(title, point_columns(sweep, lang), sweep.points, notes=(
            *notes(sweep, lang), Note(text("sweep.note.fit", lang), text("sweep.note.no_fit", lang,
                                                                         name=sweep.swept.name))))
    return Document(tuple(tables), data=sweep.to_dict())


def summary_lines(sweeps: Sequence[Sweep], lang: str = DEFAULT_LANG) -> list[str]:
    """One line per sweep: its laws for MACs and the memory figures, then its marks (for the HTML report)."""
    lines = []
    for s in sweeps:
        laws = [law(s, name, s.fits[name], lang) for name in (*FIGURES, *OPTIONAL_FIGURES) if name in s.fits]
        lines.append(" · ".join([*laws, *mark_lines(s, lang)]))
    return lines

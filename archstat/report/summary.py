"""`archstat summary`: the per-layer table of an analysis, its totals, the flags and conventions.

One list of columns serves every format: the text formats show the columns marked `shown`
(formatted), CSV and JSON the columns marked `data` (raw numbers).
"""

from __future__ import annotations

from collections.abc import Callable

from archstat.analysis.ops.costs import CATEGORIES
from archstat.analysis.records import Analysis, LayerStats
from archstat.analysis.rf.field import Field
from archstat.measure.results import LatencyResult
from archstat.report import units
from archstat.report.messages import DEFAULT_LANG, text
from archstat.report.table import Column, Document, Note, Table, Value
from archstat.report.training import cost_table, memory_table, training_columns


def _params(row: LayerStats) -> str:
    text = units.exact(row.params) if row.params or not row.shared else "shared"
    return text + (" *" if row.shared and row.params else "")


def _name(row: LayerStats) -> str:
    suffix = f" (call {row.call + 1})" if row.call else ""
    return row.path + suffix


def field_text(field: Field | None, lang: str = DEFAULT_LANG) -> str:
    """"196", "1×7", "whole", "?" (not modelled), with "†" when merged paths are unaligned."""
    if field is None:
        return "-"
    if field.whole:
        return text("report.summary.whole", lang)
    if field.unknown or not field.axes:
        return "?"
    sizes = [a.size for a in field.axes]
    shown = str(sizes[0]) if len(set(sizes)) == 1 else "×".join(map(str, sizes))
    return shown + ("†" if field.unaligned else "")


def _si_or_dash(n: int) -> str:
    return units.si(n) if n else "-"


def _bytes_or_dash(n: int) -> str:
    return units.nbytes(n) if n else "-"


def _category(name: str, kind: str) -> Column[LayerStats]:
    def value(row: LayerStats) -> int:
        cost = row.by_category.get(name)
        return (cost.macs if kind == "macs" else cost.flops) if cost else 0

    return Column(f"{kind}_{name}", f"{kind}_{name}", value, shown=False)


def _data(key: str, value: Callable[[LayerStats], Value]) -> Column[LayerStats]:
    return Column(key, key, value, shown=False)


LAYER_COLUMNS: tuple[Column[LayerStats], ...] = (
    Column("Layer", "layer", _name, numeric=False, code=True, data=False),
    _data("path", lambda r: r.path),
    Column("Type", "type", lambda r: r.type, numeric=False),
    _data("depth", lambda r: r.depth),
    _data("call", lambda r: r.call),
    _data("is_leaf", lambda r: r.is_leaf),
    _data("input_shapes", lambda r: ";".join(units.shape(s) for s in r.input_shapes)),
    Column("Output shape", "output_shape", lambda r: units.shape(r.output_shape), numeric=False),
    Column("RF", "rf_text", lambda r: field_text(r.rf), data=False),
    Column("Params", "params_text", _params, data=False),
    _data("params", lambda r: r.params),
    _data("trainable_params", lambda r: r.trainable_params),
    _data("shared", lambda r: r.shared),
    _data("param_bytes", lambda r: r.param_bytes),
    Column("MACs", "macs", lambda r: r.macs, _si_or_dash),
    Column("FLOPs", "flops", lambda r: r.flops, _si_or_dash),
    Column("Activations", "activation_bytes", lambda r: r.activation_bytes, _bytes_or_dash),
    _data("rf", lambda r: field_text(r.rf)),
    *(_category(name, kind) for name in CATEGORIES for kind in ("macs", "flops")),
)
# The columns people see (also the HTML report's per-layer table).
COLUMNS: tuple[Column[LayerStats], ...] = tuple(c for c in LAYER_COLUMNS if c.shown)


def title(analysis: Analysis, lang: str = DEFAULT_LANG) -> str:
    """One line naming what was analysed."""
    shown = units.shape(analysis.input_shape)
    if analysis.default_input:
        given = text("report.summary.default_input", lang, shape=shown)
    else:
        given = text("report.summary.input", lang,
                     inputs=analysis.inputs if analysis.inputs and analysis.inputs != shown else shown)
    device = (text("report.summary.retried", lang, device=analysis.device) if analysis.fallback_reason
              else analysis.device)
    return text("report.summary.title", lang, model=analysis.model, given=given, dtype=analysis.dtype, device=device)


def _jumps(field: Field) -> str:
    jumps = [a.jump for a in field.axes]
    return str(jumps[0]) if len(set(jumps)) == 1 else "×".join(map(str, jumps))


def convention_label(lang: str = DEFAULT_LANG) -> str:
    """The label of the first convention line of `summary_lines`: the lines from it on are the conventions."""
    return text("report.summary.convention", lang)


def summary_lines(analysis: Analysis, lang: str = DEFAULT_LANG) -> list[tuple[str, str]]:
    """Labelled totals, memory figures and conventions shown under every table, in `lang`."""
    t = analysis.totals
    params = text("report.summary.params_text", lang, exact=units.exact(t.params), si=units.si(t.params),
                  trainable=units.exact(t.trainable_params))
    if t.executed_params != t.params:
        params += text("report.summary.executed", lang, executed=units.exact(t.executed_params),
                       not_run=units.exact(t.params - t.executed_params))
    by_category = " · ".join(
        f"{name} {units.si(cost.flops)}" for name, cost in t.by_category.items() if cost.flops
    )
    lines = [
        (text("report.summary.params", lang), params),
        ("MACs", f"{units.exact(t.macs)} ({units.si(t.macs)}MAC)"),
        ("FLOPs", f"{units.exact(t.flops)} ({units.si(t.flops)}FLOP) = {by_category}"),
        (text("report.summary.memory", lang), _memory_text(analysis, lang)),
    ]
    grown = analysis.growth
    if grown.final is not None and grown.final.rf is not None:
        final = grown.final.rf
        where = text("report.summary.rf_at", lang, path=grown.final.path) if grown.final.path else ""
        covers = text("report.summary.rf_covers", lang, path=grown.covering.path) if grown.covering else ""
        lines.append((text("report.summary.rf", lang), text(
            "report.summary.rf_text", lang, field=field_text(final, lang), where=where, jump=_jumps(final),
            covers=covers)))
    if analysis.fallback_reason:
        lines.append((text("report.summary.device", lang),
                      text("report.summary.device_text", lang, reason=analysis.fallback_reason)))
    if t.partial:
        ops = ", ".join(f"{op} ×{n}" for op, n in sorted(analysis.unsupported.items()))
        lines.append((text("report.summary.partial", lang), text("report.summary.partial_text", lang, ops=ops)))
    if any(r.shared for r in analysis.layers):
        lines.append(("*", text("report.summary.shared_text", lang)))
    lines.append((convention_label(lang), f"MACs = {text('report.convention.macs', lang)}; "
                                          f"FLOPs = {text('report.convention.flops', lang)}"))
    lines.append(("", text("report.summary.activations", lang, text=text("report.convention.activation_bytes", lang))))
    return lines


def _memory_text(analysis: Analysis, lang: str) -> str:
    t = analysis.totals
    sizes = dict(outputs=units.nbytes(t.activation_bytes), peak=units.nbytes(t.peak_activation_bytes),
                 params=units.nbytes(t.param_bytes), buffers=units.nbytes(t.buffer_bytes))
    if t.training_activation_bytes is None:   # not measured: analyze(saved_for_backward=False)
        return text("report.summary.memory_text_inference", lang, **sizes)
    return text("report.summary.memory_text", lang, saved=units.nbytes(t.training_activation_bytes),
                mode=analysis.training_mode, **sizes)


TOTAL_FACTS = ("params", "trainable_params", "executed_params", "macs", "flops", "bias_flops", "activation_bytes",
               "peak_activation_bytes", "training_activation_bytes", "param_bytes", "buffer_bytes", "input_bytes")


def facts(analysis: Analysis) -> tuple[tuple[str, Value], ...]:
    """The raw totals, the partial flag and the unsupported ops, for CSV."""
    t = analysis.totals
    return (
        ("model", analysis.model), ("input_shape", units.shape(analysis.input_shape)),
        ("dtype", analysis.dtype), ("device", analysis.device), ("fallback_reason", analysis.fallback_reason or ""),
        *((f"total_{name}", getattr(t, name)) for name in TOTAL_FACTS),
        *((f"total_macs_{name}", cost.macs) for name, cost in t.by_category.items()),
        *((f"total_flops_{name}", cost.flops) for name, cost in t.by_category.items()),
        ("partial", t.partial),
        *((f"unsupported:{op}", n) for op, n in sorted(analysis.unsupported.items())),
    )


def summary_table(analysis: Analysis, depth: int | None = None) -> Table:
    """The per-layer table down to `depth`, containers indented and muted, the summary as notes."""
    notes = tuple(Note(label, line, alert=label == "PARTIAL") for label, line in summary_lines(analysis))
    columns = LAYER_COLUMNS
    if analysis.training is not None:
        columns += training_columns(analysis.training)
    return Table.build(title(analysis), columns, analysis.rows(depth), indent=lambda r: max(r.depth - 1, 0),
                       muted=lambda r: not r.is_leaf, notes=notes, facts=facts(analysis))


def summary_document(analysis: Analysis, depth: int | None = None, measured: LatencyResult | None = None) -> Document:
    """What `archstat summary` prints; its JSON is the analysis's documented schema (built only when
    JSON is written). With a training step, its cost and memory tables follow (`measured`: a latency
    result whose CUDA peak stands beside the memory estimate)."""
    tables: tuple[Table, ...] = (summary_table(analysis, depth),)
    if analysis.training is not None:
        tables += (cost_table(analysis, analysis.training), memory_table(analysis, analysis.training, measured))
    return Document(tables, data=analysis.to_dict)

"""`archstat explain`: a layer's or a block's derivation as a `Document`, in any format and language.

A layer gets one table per section (output size, parameters, MACs and FLOPs, receptive field,
memory), each row a quantity, its formula, the formula with the values and the result. A block
gets the table of its layers with their sum, and the comparison with its counterpart. Every
sentence comes from `report.messages`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from archstat.report import units
from archstat.report.messages import text
from archstat.report.table import Column, Document, Note, Row, Table
from archstat.studies.explain import SECTIONS, LayerExplanation, Step, n
from archstat.studies.explain_block import BlockExplanation, Comparison
from archstat.studies.explain_tools import ToolFigure

Explanation = LayerExplanation | BlockExplanation


def _heading(e: Explanation, lang: str) -> str:
    row = e.row
    return text("explain.heading", lang, model=e.model, path=row.path or e.model, type=row.type,
                input=units.shape(row.input_shapes[0]) if row.input_shapes else "-",
                output=units.shape(row.output_shape))


def _result(step: Step) -> str:
    if step.value is None:
        return ""
    if step.bytes:
        return f"{n(step.value)} B" + (f" ({units.nbytes(step.value)})" if step.value >= 1024 else "")
    return n(step.value)


def _label(step: Step, lang: str) -> str:
    fields = dict(step.fields)
    key = step.label
    if key == "rf_size" and fields.get("from"):
        key = "rf_size_from"
        if fields["from"] == "input":
            fields["from"] = text("explain.from_input", lang)
    fields.setdefault("from", "")
    return text(f"explain.label.{key}", lang, **fields)


def _text_column(header: str, key: str, index: int, code: bool = False) -> Column[Sequence[str]]:
    return Column(header, key, lambda r: r[index], numeric=False, code=code)


def _step_tables(e: LayerExplanation, lang: str) -> list[Table]:
    columns: tuple[Column[Any], ...] = (
        _text_column(text("explain.col.quantity", lang), "quantity", 0),
        _text_column(text("explain.col.formula", lang), "formula", 1),
        _text_column(text("explain.col.values", lang), "substituted", 2),
        Column(text("explain.col.result", lang), "result", lambda r: r[3]),
    )
    tables = []
    for section in SECTIONS:
        steps = [s for s in e.steps if s.section == section]
        if steps:
            records = [(_label(s, lang), s.formula, s.substituted, _result(s)) for s in steps]
            tables.append(Table.build(text(f"explain.section.{section}", lang), columns, records))
    return tables


def _op_list(ops: Sequence[Any]) -> str:
    counts: dict[str, int] = {}
    for op in ops:
        counts[op.name] = counts.get(op.name, 0) + 1
    return ", ".join(f"{name} ×{c}" if c > 1 else name for name, c in counts.items()) or "-"


def layer_document(e: LayerExplanation, lang: str = "en") -> Document:
    """The derivation of one leaf row."""
    lines = (text("explain.fallback", lang, type=e.row.type, ops=_op_list(e.ops)),) if not e.closed_form else ()
    checked = text("explain.checked", lang, model=e.model, path=e.row.path)
    return Document(_with_footer(_step_tables(e, lang), checked), _heading(e, lang), lines)


def _with_footer(tables: list[Table], footer: str) -> tuple[Table, ...]:
    """The tables, the last one closing with `footer`."""
    return (*tables[:-1], replace(tables[-1], footer=footer)) if tables else ()


def _part_columns(lang: str) -> tuple[Column[Any], ...]:
    return (
        Column(text("explain.col.layer", lang), "layer", lambda r: r[0], numeric=False, code=True),
        Column(text("explain.col.type", lang), "type", lambda r: r[1], numeric=False),
        Column(text("explain.col.output", lang), "output_shape", lambda r: r[2], numeric=False),
        Column(text("explain.col.params", lang), "params", lambda r: r[3], units.exact),
        Column(text("explain.col.macs", lang), "macs", lambda r: r[4], units.exact),
        Column(text("explain.col.flops", lang), "flops", lambda r: r[5], units.exact),
        Column(text("explain.col.activations", lang), "activation_bytes", lambda r: r[6],
               lambda v: "-" if v is None else units.nbytes(v)),
    )


def _parts_table(e: BlockExplanation, lang: str) -> Table:
    prefix = f"{e.row.path}." if e.row.path else ""
    records: list[tuple[Any, ...]] = [
        (r.path.removeprefix(prefix) + (f" (call {r.call + 1})" if r.call else ""), r.type,
         units.shape(r.output_shape), r.params, r.macs, r.flops,
         r.activation_bytes) for r in e.parts
    ]
    if e.own_ops:
        records.append((text("explain.block.own", lang, ops=_op_list(e.own_ops)), "", "", 0,
                        sum(op.macs for op in e.own_ops), sum(op.flops for op in e.own_ops), None))
    row = e.row
    total = Row((text("explain.block.total", lang, path=row.path or e.model), row.type, units.shape(row.output_shape),
                 row.params, row.macs, row.flops, row.activation_bytes))
    return Table.build(text("explain.block.title", lang, path=row.path or e.model), _part_columns(lang), records,
                       total=total)


def _pct(ratio: float) -> str:
    return f"{100 * ratio:.1f}%"


def _comparison_tables(c: Comparison, lang: str) -> list[Table]:
    variants = (c.without, c.with_)
    columns: tuple[Column[Any], ...] = (
        Column(text("explain.col.variant", lang), "variant", lambda r: r[0], numeric=False),
        Column(text("explain.col.output", lang), "output_shape", lambda r: r[1], numeric=False),
        Column(text("explain.col.params", lang), "params", lambda r: r[2], units.exact),
        Column(text("explain.col.macs", lang), "macs", lambda r: r[3], units.exact),
    )
    records = [(text(f"explain.variant.{v.name}", lang), units.shape(v.output_shape), v.params, v.macs)
               for v in variants]
    notes = [Note("", text("explain.compare.ratio", lang, with_=text(f"explain.variant.{c.with_.name}", lang),
                           without=text(f"explain.variant.{c.without.name}", lang),
                           params_pct=_pct(c.params_ratio), macs_pct=_pct(c.macs_ratio)))]
    notes += [Note("", f"{text(f'explain.variant.{v.name}', lang)}: {v.c2}") for v in variants if v.c2]
    notes.append(Note("", text(f"explain.compare.note.{c.kind}", lang)))
    conv_columns: tuple[Column[Any], ...] = (
        Column(text("explain.col.variant", lang), "variant", lambda r: r[0], numeric=False),
        Column(text("explain.col.conv", lang), "conv", lambda r: r[1], numeric=False, code=True),
        Column(text("explain.col.formula", lang), "substituted", lambda r: r[2], numeric=False),
        Column(text("explain.col.params", lang), "params", lambda r: r[3], units.exact),
    )
    convs = [(text(f"explain.variant.{v.name}", lang), conv.path, conv.substituted, conv.params)
             for v in variants for conv in v.convs]
    return [Table.build(text(f"explain.compare.title.{c.kind}", lang), columns, records, notes=tuple(notes)),
            Table.build(text("explain.compare.convs", lang), conv_columns, convs)]


def block_document(e: BlockExplanation, lang: str = "en") -> Document:
    """A block's sum over its layers, and its comparison where one applies."""
    tables = [_parts_table(e, lang)]
    if e.comparison is not None:
        tables += _comparison_tables(e.comparison, lang)
    checked = text("explain.block.checked", lang, model=e.model, path=e.row.path or e.model)
    tables[0] = replace(tables[0], footer=checked)
    return Document(tuple(tables), _heading(e, lang))


def tools_document(figures: Sequence[ToolFigure], lang: str = "en") -> Document:
    """The other tools' figures beside archstat's, one line of why each differs."""
    columns: tuple[Column[Any], ...] = (
        Column(text("explain.col.tool", lang), "tool", lambda r: r[0], numeric=False),
        Column(text("explain.col.figure", lang), "figure", lambda r: r[1], lambda v: "-" if v is None else n(v)),
        Column("archstat", "archstat", lambda r: r[2], numeric=False),
        Column(text("explain.col.why", lang), "why", lambda r: r[3], numeric=False, wrap=True),
    )
    records = [(f.tool, f.value, f"{n(f.ours)} {text(f'explain.figure.{f.ours_label}', lang)}",
                text(f"explain.tool.{f.reason}", lang, **dict(f.fields))) for f in figures]
    return Document((Table.build(text("explain.tools.title", lang), columns, records),))

"""`archstat rf`: the growth table of a stack's receptive field and its comparison, in every format.

The text formats show one growth table per side with a total row, the comparison lines below;
CSV and JSON carry raw numbers instead of formatted ones.

JSON (`StackResult.to_dict`)::

    {"channels": C or null, "size": [H, W] or null, "convention": "...",
     "stack": STACK,
     "comparison": {"single_conv": bool,      # true: the other side is the default single conv
                    "same_field": bool, "same_jump": bool,
                    "weights_change_pct": float or null,   # 100·(stack − other)/other, 1 decimal
                    "macs_change_pct": float or null,
                    "other": STACK}}
    STACK = {"spec": "3x3,3x3,3x3", "rf": [rh, rw], "jump": [jh, jw], "padding": [ph, pw],
             "weights_c2": int, "weights": int or null, "macs_c2": int or null, "macs": int or null,
             "nonlinearities": int, "output_size": [H, W] or null,
             "layers": [{"name", "spec", "kind", "kernel": [kh, kw], "stride", "dilation",
                         "padding": [ph, pw], "rf": [rh, rw], "jump": [jh, jw], "weights_c2",
                         "weights", "macs_c2", "macs", "output_size", "nonlinear"}, ...]}

`weights` needs `channels`; `macs_c2` and `output_size` need `size`; `macs` needs both.

CSV: two blocks separated by one blank line. First the growth table, one row per layer of both
sides (column `side` is `stack` or `other`); then the comparison in long form, with columns
`quantity,stack,other,change_pct` (change_pct only for weights and MACs). Empty cells are
figures that need `--channels` or `--size`.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby

from archstat.analysis.rf.stack import StackLayer, StackResult, StackRow, StackSummary
from archstat.report import units
from archstat.report.table import Column, Document, Note, Row, Table, Value
from archstat.report.writers import render


def _by(a: int, b: int) -> str:
    return f"{a}×{b}"


def _one(pair: tuple[int, int]) -> str:
    """A per-axis pair: `4` when both axes agree, else `0,3`."""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]},{pair[1]}"


def _c2(n: int) -> str:
    return f"{units.exact(n)}·C²"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%".replace("-", "−")


def _plural(n: int, word: str, many: str) -> str:
    return f"{n} {word if n == 1 else many}"


Total = Callable[[StackSummary], str]


def _text(header: str, cell: Callable[[StackRow], str], total: Total, numeric: bool = True
          ) -> tuple[Column[StackRow], Total]:
    return Column(header, header, cell, numeric=numeric, data=False), total


def columns(result: StackResult) -> tuple[tuple[Column[StackRow], Total], ...]:
    """The growth table's columns, each with the cell of its total row; weights, output size and
    MACs appear when channels/size are given."""
    out = [
        _text("Layer", lambda r: r.name, lambda s: "total", numeric=False),
        _text("Kernel", lambda r: _by(*r.layer.kernel), lambda s: ""),
        _text("Stride", lambda r: str(r.layer.stride), lambda s: ""),
        _text("Dil", lambda r: str(r.layer.dilation), lambda s: ""),
        _text("Pad", lambda r: _one(r.layer.padding), lambda s: ""),
        _text("RF", lambda r: _by(*r.rf), lambda s: _by(*s.rf)),
        _text("Jump", lambda r: _one(r.jump), lambda s: _one(s.jump)),
        _text("Weights", lambda r: _c2(r.weights_c2), lambda s: _c2(s.weights_c2)),
    ]
    if result.channels is not None:
        out.append(_text(f"Weights C={result.channels}", lambda r: units.exact(r.weights or 0),
                         lambda s: units.exact(s.weights or 0)))
    if result.size is not None:
        out.append(_text("Output", lambda r: _by(*(r.output_size or (0, 0))),
                         lambda s: _by(*(s.output_size or (0, 0)))))
        if result.channels is not None:
            out.append(_text("MACs", lambda r: units.exact(r.macs or 0), lambda s: units.exact(s.macs or 0)))
        else:
            out.append(_text("MACs", lambda r: _c2(r.macs_c2 or 0), lambda s: _c2(s.macs_c2 or 0)))
    return tuple(out)


def _layer_label(layer: StackLayer) -> str:
    text = _by(*layer.kernel) + (" conv" if layer.is_conv else f" {layer.kind} pool")
    text += f" s{layer.stride}" if layer.stride != (1 if layer.is_conv else layer.kernel[0]) else ""
    return text + (f" d{layer.dilation}" if layer.dilation != 1 else "")


def describe(summary: StackSummary) -> str:
    """`3 × 3×3 conv`, `one 7×7 conv`, `7×7 conv s2 + 3×3 max pool`: runs of equal layers grouped."""
    if len(summary.layers) == 1:
        return "one " + _layer_label(summary.layers[0])
    runs = [(layer, len(list(group))) for layer, group in groupby(summary.layers)]
    return " + ".join(_layer_label(layer) if n == 1 else f"{n} × {_layer_label(layer)}" for layer, n in runs)


def titles(result: StackResult) -> list[tuple[str, StackSummary]]:
    """One growth table for the stack, and one for the other side when it was given with --vs."""
    out = [(f"receptive field of {result.stack.spec}", result.stack)]
    if not result.comparison.single_conv:
        out.append((f"compared with {result.comparison.other.spec}", result.comparison.other))
    return out


def comparison_lines(result: StackResult) -> list[str]:
    """The comparison, the warnings and the convention, one sentence per line."""
    stack, cmp = result.stack, result.comparison
    other = cmp.other
    field = f"field {_by(*stack.rf)}" if cmp.same_field else f"FIELDS DIFFER, {_by(*stack.rf)} vs {_by(*other.rf)}"
    lines = [
        f"{field}: {describe(stack)} = {_c2(stack.weights_c2)} weights, "
        f"{_plural(stack.nonlinearities, 'non-linearity', 'non-linearities')} vs {describe(other)} = "
        f"{_c2(other.weights_c2)}, {_plural(other.nonlinearities, 'non-linearity', 'non-linearities')}: "
        f"{_pct(cmp.weights_change_pct)} weights"
    ]
    if result.channels is not None and stack.weights is not None and other.weights is not None:
        lines.append(f"C = {result.channels}: {units.exact(stack.weights)} vs {units.exact(other.weights)} weights "
                     f"({_pct(cmp.weights_change_pct)})")
    if result.size is not None and stack.output_size and other.output_size:
        if stack.macs is not None and other.macs is not None:
            macs = (f"{units.exact(stack.macs)} vs {units.exact(other.macs)} MACs "
                    f"({units.si(stack.macs)} vs {units.si(other.macs)})")
        else:
            macs = f"{_c2(stack.macs_c2 or 0)} vs {_c2(other.macs_c2 or 0)} MACs"
        lines.append(f"input {_by(*result.size)}: output {_by(*stack.output_size)} vs {_by(*other.output_size)}, "
                     f"{macs}: {_pct(cmp.macs_change_pct)} MACs")
    if cmp.same_field and not cmp.same_jump:
        lines.append(f"JUMPS DIFFER: {_one(stack.jump)} vs {_one(other.jump)} (the outputs are not the same size)")
    lines.append(f"convention: {result.convention}")
    return lines


def growth_table(result: StackResult, title: str, summary: StackSummary, notes: tuple[Note, ...] = ()) -> Table:
    """One side's growth table for the text formats, with its total row."""
    pairs = columns(result)
    total = Row(tuple(total(summary) for _, total in pairs))
    return Table.build(title, [c for c, _ in pairs], summary.rows, total=total, notes=notes, data=False)


def _data(key: str, value: Callable[[tuple[str, StackRow]], Value]) -> Column[tuple[str, StackRow]]:
    return Column(key, key, value, shown=False)


def _pair(key: str, pair: Callable[[StackRow], tuple[int, int] | None]) -> list[Column[tuple[str, StackRow]]]:
    """Two data columns, `KEY_h` and `KEY_w`, from a per-axis pair (empty when not known)."""
    def axis(i: int) -> Callable[[tuple[str, StackRow]], Value]:
        return lambda r: (pair(r[1]) or (None, None))[i]

    return [_data(f"{key}_h", axis(0)), _data(f"{key}_w", axis(1))]


DATA_COLUMNS: tuple[Column[tuple[str, StackRow]], ...] = (
    _data("side", lambda r: r[0]),
    _data("layer", lambda r: r[1].name),
    _data("kind", lambda r: r[1].layer.kind),
    *_pair("kernel", lambda r: r.layer.kernel),
    _data("stride", lambda r: r[1].layer.stride),
    _data("dilation", lambda r: r[1].layer.dilation),
    *_pair("pad", lambda r: r.layer.padding),
    *_pair("rf", lambda r: r.rf),
    *_pair("jump", lambda r: r.jump),
    _data("weights_c2", lambda r: r[1].weights_c2),
    _data("weights", lambda r: r[1].weights),
    _data("macs_c2", lambda r: r[1].macs_c2),
    _data("macs", lambda r: r[1].macs),
    *_pair("out", lambda r: r.output_size),
    _data("nonlinear", lambda r: r[1].layer.is_conv),
)

QuantityRow = tuple[str, Value, Value, Value]
COMPARISON_COLUMNS: tuple[Column[QuantityRow], ...] = (
    Column("quantity", "quantity", lambda q: q[0], shown=False),
    Column("stack", "stack", lambda q: q[1], shown=False),
    Column("other", "other", lambda q: q[2], shown=False),
    Column("change_pct", "change_pct", lambda q: q[3], shown=False),
)


def quantities(result: StackResult) -> list[QuantityRow]:
    """The comparison in long form: quantity, stack, other, change in percent (weights and MACs only)."""
    stack, cmp = result.stack, result.comparison
    other = cmp.other
    s_out, o_out = stack.output_size or (None, None), other.output_size or (None, None)
    return [
        ("spec", stack.spec, other.spec, None),
        ("rf_h", stack.rf[0], other.rf[0], None),
        ("rf_w", stack.rf[1], other.rf[1], None),
        ("jump_h", stack.jump[0], other.jump[0], None),
        ("jump_w", stack.jump[1], other.jump[1], None),
        ("weights_c2", stack.weights_c2, other.weights_c2, cmp.weights_change_pct),
        ("weights", stack.weights, other.weights, cmp.weights_change_pct if result.channels else None),
        ("macs_c2", stack.macs_c2, other.macs_c2, cmp.macs_change_pct),
        ("macs", stack.macs, other.macs, cmp.macs_change_pct if result.channels else None),
        ("nonlinearities", stack.nonlinearities, other.nonlinearities, None),
        ("out_h", s_out[0], o_out[0], None),
        ("out_w", s_out[1], o_out[1], None),
    ]


def stack_document(result: StackResult) -> Document:
    """The growth table of each side and the comparison lines; for CSV the rows of both sides in one
    table and the comparison in long form; JSON as `StackResult.to_dict`."""
    sides = titles(result)
    notes = tuple(Note("", line) for line in comparison_lines(result))
    shown = tuple(growth_table(result, title, summary, notes if i == len(sides) - 1 else ())
                  for i, (title, summary) in enumerate(sides))
    rows = [(side, row) for side, summary in (("stack", result.stack), ("other", result.comparison.other))
            for row in summary.rows]
    data = (Table.build("growth", DATA_COLUMNS, rows, shown=False),
            Table.build("comparison", COMPARISON_COLUMNS, quantities(result), shown=False))
    return Document(shown + data, data=result.to_dict())


def render_stack(result: StackResult, fmt: str, *, width: int = 160) -> str:
    """`result` in one of `writers.FORMATS`; `width` bounds the terminal table."""
    return render(stack_document(result), fmt, width)

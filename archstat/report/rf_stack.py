"""`archstat rf`: the growth table of a stack's receptive field and its comparison, in every format.

One list of columns and one list of comparison lines serve the terminal, Markdown and LaTeX, so
the formats cannot drift apart. CSV and JSON carry raw numbers instead of formatted ones.

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

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

from rich import box
from rich.console import Console
from rich.table import Table

from archstat.analysis.rf.stack import StackLayer, StackResult, StackRow, StackSummary
from archstat.errors import UsageError
from archstat.report import units
from archstat.report.summary import tex

FORMATS = ("table", "json", "markdown", "latex", "csv")


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


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the growth table: header, the cell of a layer row, the cell of the total row."""

    header: str
    cell: Callable[[StackRow], str]
    total: Callable[[StackSummary], str]
    numeric: bool = True


def columns(result: StackResult) -> tuple[Column, ...]:
    """The growth table's columns; weights, output size and MACs appear when channels/size are given."""
    out = [
        Column("Layer", lambda r: r.name, lambda s: "total", numeric=False),
        Column("Kernel", lambda r: _by(*r.layer.kernel), lambda s: ""),
        Column("Stride", lambda r: str(r.layer.stride), lambda s: ""),
        Column("Dil", lambda r: str(r.layer.dilation), lambda s: ""),
        Column("Pad", lambda r: _one(r.layer.padding), lambda s: ""),
        Column("RF", lambda r: _by(*r.rf), lambda s: _by(*s.rf)),
        Column("Jump", lambda r: _one(r.jump), lambda s: _one(s.jump)),
        Column("Weights", lambda r: _c2(r.weights_c2), lambda s: _c2(s.weights_c2)),
    ]
    if result.channels is not None:
        out.append(Column(f"Weights C={result.channels}", lambda r: units.exact(r.weights or 0),
                          lambda s: units.exact(s.weights or 0)))
    if result.size is not None:
        out.append(Column("Output", lambda r: _by(*(r.output_size or (0, 0))),
                          lambda s: _by(*(s.output_size or (0, 0)))))
        if result.channels is not None:
            out.append(Column("MACs", lambda r: units.exact(r.macs or 0), lambda s: units.exact(s.macs or 0)))
        else:
            out.append(Column("MACs", lambda r: _c2(r.macs_c2 or 0), lambda s: _c2(s.macs_c2 or 0)))
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


def _grid(result: StackResult, summary: StackSummary) -> tuple[list[Column], list[list[str]]]:
    cols = list(columns(result))
    rows = [[c.cell(row) for c in cols] for row in summary.rows]
    rows.append([c.total(summary) for c in cols])
    return cols, rows


def render_text(result: StackResult, width: int = 160) -> str:
    """Aligned plain text: the growth table(s), then the comparison lines (never wrapped)."""
    blocks = []
    for title, summary in titles(result):
        cols, rows = _grid(result, summary)
        table = Table(box=box.SIMPLE_HEAD, header_style="bold")
        for c in cols:
            table.add_column(c.header, justify="right" if c.numeric else "left", no_wrap=True)
        for i, cells in enumerate(rows):
            table.add_row(*cells, end_section=i == len(rows) - 2)
        buffer = io.StringIO()
        Console(file=buffer, width=width, color_system=None, highlight=False).print(table)
        lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
        blocks.append(title + "\n" + "\n".join(lines).strip("\n"))
    return "\n\n".join([*blocks, "\n".join(comparison_lines(result))]) + "\n"


def render_markdown(result: StackResult) -> str:
    """GitHub-flavoured Markdown tables, the comparison as a list below them."""
    out: list[str] = []
    for title, summary in titles(result):
        cols, rows = _grid(result, summary)
        out += [f"**{title}**", ""]
        out.append("| " + " | ".join(c.header for c in cols) + " |")
        out.append("|" + "|".join("---:" if c.numeric else "---" for c in cols) + "|")
        out.extend("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |" for cells in rows)
        out.append("")
    out.extend(f"- {line}" for line in comparison_lines(result))
    return "\n".join(out) + "\n"


def _latex(text: str) -> str:
    return tex(text).replace("−", "$-$").replace("→", r"$\to$").replace("²", r"$^2$")


def render_latex(result: StackResult) -> str:
    """Booktabs `tabular`s, the comparison as notes below them."""
    out = ["% requires \\usepackage{booktabs}"]
    for title, summary in titles(result):
        cols, rows = _grid(result, summary)
        out += [
            "\\begin{table}[t]",
            "\\centering\\small",
            f"\\caption{{{_latex(title)}}}",
            f"\\begin{{tabular}}{{{''.join('r' if c.numeric else 'l' for c in cols)}}}",
            "\\toprule",
            " & ".join(_latex(c.header) for c in cols) + " \\\\",
            "\\midrule",
        ]
        out.extend(" & ".join(_latex(cell) for cell in cells) + " \\\\" for cells in rows[:-1])
        out += ["\\midrule", " & ".join(_latex(cell) for cell in rows[-1]) + " \\\\", "\\bottomrule",
                "\\end{tabular}", "\\end{table}"]
    out += ["", "\\begin{flushleft}\\footnotesize"]
    out.extend(_latex(line) + "\\\\" for line in comparison_lines(result))
    out.append("\\end{flushleft}")
    return "\n".join(out) + "\n"


def _blank(value: object) -> object:
    return "" if value is None else value


def render_csv(result: StackResult) -> str:
    """The growth table of both sides, a blank line, then the comparison in long form."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["side", "layer", "kind", "kernel_h", "kernel_w", "stride", "dilation", "pad_h", "pad_w",
                     "rf_h", "rf_w", "jump_h", "jump_w", "weights_c2", "weights", "macs_c2", "macs", "out_h",
                     "out_w", "nonlinear"])
    for side, summary in (("stack", result.stack), ("other", result.comparison.other)):
        for row in summary.rows:
            layer = row.layer
            out = row.output_size or (None, None)
            writer.writerow([side, row.name, layer.kind, *layer.kernel, layer.stride, layer.dilation,
                             *layer.padding, *row.rf, *row.jump, row.weights_c2, _blank(row.weights),
                             _blank(row.macs_c2), _blank(row.macs), _blank(out[0]), _blank(out[1]),
                             layer.is_conv])
    writer.writerow([])
    writer.writerow(["quantity", "stack", "other", "change_pct"])
    stack, cmp = result.stack, result.comparison
    other = cmp.other
    s_out, o_out = stack.output_size or (None, None), other.output_size or (None, None)
    quantities: list[tuple[str, object, object, float | None]] = [
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
    writer.writerows([name, _blank(a), _blank(b), _blank(pct)] for name, a, b, pct in quantities)
    return buffer.getvalue()


def render_json(result: StackResult) -> str:
    """The structure documented above, indented."""
    return json.dumps(result.to_dict(), indent=2) + "\n"


def render_stack(result: StackResult, fmt: str, *, width: int = 160) -> str:
    """`result` in one of FORMATS; `width` bounds the terminal table."""
    if fmt == "table":
        return render_text(result, width)
    renderers: dict[str, Callable[[StackResult], str]] = {
        "json": render_json, "markdown": render_markdown, "latex": render_latex, "csv": render_csv,
    }
    if fmt not in renderers:
        raise UsageError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return renderers[fmt](result)

"""One writer per output format, each turning any `Document` into text. Escaping lives here, once.

Adding a format is one function below and one entry in `FORMATS`; the commands' `--format`
choices and the `-o` suffixes are read from `FORMATS`.

- terminal (`table`): rich's table layout (`report/terminal.py` draws the rows), aligned, containers dimmed
  and indented, notes in a grid below.
- Markdown: `**title**`, a GitHub table (`|` escaped), notes as a list, the footer in italics.
- LaTeX: booktabs `tabular`s in `table` environments; all ten specials and the non-ASCII signs escaped;
  Korean text stays UTF-8, and the first line then asks for kotex.
- CSV: per table one block (header of column keys, rows, the total row last); then, when the table has
  facts or notes, a `key,value` block: the facts (raw totals, `partial`, `unsupported:OP` = calls), then
  one `note` row per note (`Label: text`). Blocks are separated by one blank line.
- JSON: the view's own document when it has one, else `{"heading", "lines", "tables": [...]}`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archstat.errors import UsageError
from archstat.report.table import Document, Row, Table, collector_paused

# -- terminal --------------------------------------------------------------------------------------


def _terminal_notes(table: Table) -> list[Any]:
    from rich.table import Table as RichTable
    from rich.text import Text

    if not any(note.label for note in table.notes):
        return [Text(note.text) for note in table.notes]
    grid = RichTable.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(overflow="fold")
    for note in table.notes:
        grid.add_row(Text(note.label, style="bold red" if note.alert else "bold"), Text(note.text))
    return [grid]


def write_terminal(document: Document, width: int = 160) -> str:
    """Plain text as the terminal shows it (`width` columns; styles apply on a real terminal only)."""
    from rich.console import Console
    from rich.text import Text

    from archstat.report.terminal import draw_table, printed

    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    out: list[str] = []

    def show(renderable: Any) -> None:
        out.append(printed(console, renderable))

    if document.heading:
        show(Text(document.heading, style="bold"))
    for line in document.lines:
        show(Text(line))
    with collector_paused():
        for n, table in enumerate(t for t in document.tables if t.shown):
            if n:
                out.append("\n")
            out.append(draw_table(table, console))
            for renderable in _terminal_notes(table):
                show(renderable)
            if table.footer:
                show(Text(table.footer))
    return "".join(out)


# -- Markdown --------------------------------------------------------------------------------------


def markdown_escape(text: str) -> str:
    """A cell's text: `|` escaped, line breaks folded, so it stays in its cell."""
    return " ".join(text.splitlines()).replace("|", "\\|")


def _markdown_code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{markdown_escape(text)}{pad}{fence}"


def _markdown_row(table: Table, row: Row) -> str:
    cells = []
    for i in table.visible():
        column = table.columns[i]
        text = column.show(row.values[i])
        cells.append(_markdown_code(text) if column.code else markdown_escape(text))
    return "| " + " | ".join(cells) + " |"


def _markdown_table(table: Table) -> list[str]:
    columns = [table.columns[i] for i in table.visible()]
    out = [f"**{markdown_escape(table.title)}**", ""] if table.title else []
    out.append("| " + " | ".join(markdown_escape(c.header) for c in columns) + " |")
    out.append("|" + "|".join("---:" if c.numeric else "---" for c in columns) + "|")
    out += [_markdown_row(table, row) for row in table.rows]
    out += [_markdown_row(table, table.total)] if table.total else []
    if table.notes:
        out.append("")
        out += [f"- **{markdown_escape(n.label)}**: {markdown_escape(n.text)}" if n.label
                else f"- {markdown_escape(n.text)}" for n in table.notes]
    if table.footer:
        out += ["", f"*{markdown_escape(table.footer)}*"]
    return out


def write_markdown(document: Document, width: int = 160) -> str:
    """GitHub-flavoured Markdown: a heading, then each table with its notes."""
    out: list[str] = []
    if document.heading:
        out += [f"### {markdown_escape(document.heading)}", ""]
    if document.lines:
        out += [f"- {markdown_escape(line)}" for line in document.lines] + [""]
    blocks = [_markdown_table(t) for t in document.tables if t.shown]
    for n, block in enumerate(blocks):
        out += ([""] if n else []) + block
    return "\n".join(out) + "\n"


# -- LaTeX -----------------------------------------------------------------------------------------

_LATEX = str.maketrans({
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "~": r"\textasciitilde{}", "%": r"\%",
    "−": "$-$", "×": r"$\times$", "·": r"$\cdot$", "†": r"\dag{}", "≥": r"$\geq$", "≤": r"$\leq$",
    "→": r"$\rightarrow$", "←": r"$\leftarrow$", "÷": r"$\div$", "∝": r"$\propto$", "±": r"$\pm$",
    "≈": r"$\approx$", "∞": r"$\infty$", "µ": r"$\mu$", "μ": r"$\mu$", "α": r"$\alpha$", "β": r"$\beta$",
    "γ": r"$\gamma$", "θ": r"$\theta$", "Σ": r"$\Sigma$", "Π": r"$\Pi$", "∂": r"$\partial$",
    "²": r"$^2$", "³": r"$^3$", "⁻": r"$^-$", "ᵀ": r"$^T$", "…": r"\ldots{}", "–": "--", "—": "---",
    "§": r"\S{}", "└": "", "⌊": r"$\lfloor$", "⌋": r"$\rfloor$", "⌈": r"$\lceil$", "⌉": r"$\rceil$",
    "′": r"$'$", "\n": " ", "\r": " ",
})


def latex_escape(text: str) -> str:
    """Text for LaTeX: every special character and every sign the tables print, escaped once."""
    return text.translate(_LATEX)


def _latex_row(table: Table, row: Row) -> str:
    cells = []
    for i in table.visible():
        column = table.columns[i]
        text = latex_escape(column.show(row.values[i]))
        cells.append(f"\\texttt{{{text}}}" if column.code else text)
    return " & ".join(cells) + " \\\\"


def _latex_table(table: Table) -> list[str]:
    columns = [table.columns[i] for i in table.visible()]
    out = ["\\begin{table}[t]", "\\centering\\small"]
    out += [f"\\caption{{{latex_escape(table.title)}}}"] if table.title else []
    out += [f"\\begin{{tabular}}{{{''.join('r' if c.numeric else 'l' for c in columns)}}}", "\\toprule",
            " & ".join(latex_escape(c.header) for c in columns) + " \\\\", "\\midrule"]
    out += [_latex_row(table, row) for row in table.rows]
    out += ["\\midrule", _latex_row(table, table.total)] if table.total else []
    out += ["\\bottomrule", "\\end{tabular}"]
    if table.notes:
        out += ["", "\\medskip", "\\begin{flushleft}\\footnotesize"]
        out += [(f"\\textbf{{{latex_escape(n.label)}}}: " if n.label else "") + latex_escape(n.text) + "\\\\"
                for n in table.notes]
        out.append("\\end{flushleft}")
    if table.footer:
        out += ["", "\\medskip", f"{{\\footnotesize {latex_escape(table.footer)}}}"]
    out.append("\\end{table}")
    return out


def _hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f" for ch in text)


def write_latex(document: Document, width: int = 160) -> str:
    """Booktabs `tabular`s, each in a `table` with its title as caption and its notes below.

    Korean text is written as it is (UTF-8), not escaped: the first line then names the package
    that typesets it, kotex (ko.TeX, in TeX Live; pdfLaTeX, XeLaTeX or LuaLaTeX).
    """
    out = ["% requires \\usepackage{booktabs}"]
    if document.heading or document.lines:
        out.append("\\begin{flushleft}\\footnotesize")
        out += [f"\\textbf{{{latex_escape(document.heading)}}}\\\\"] if document.heading else []
        out += [latex_escape(line) + "\\\\" for line in document.lines]
        out.append("\\end{flushleft}")
    for table in document.tables:
        if table.shown:
            out += _latex_table(table)
    if _hangul("".join(out)):
        out[0] += " and, for the Korean text, \\usepackage{kotex} (pdfLaTeX, XeLaTeX or LuaLaTeX)"
    return "\n".join(out) + "\n"


# -- CSV -------------------------------------------------------------------------------------------


def _csv_value(value: Any) -> Any:
    return "" if value is None else value


def write_csv(document: Document, width: int = 160) -> str:
    """Raw values: per table a block of rows, then a `key,value` block of its facts and notes."""
    blocks = []
    for table in document.tables:
        if not table.data:
            continue
        keep = table.exported()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([table.columns[i].key for i in keep])
        rows = list(table.rows) + ([table.total] if table.total else [])
        writer.writerows([_csv_value(row.values[i]) for i in keep] for row in rows)
        blocks.append(buffer.getvalue())
        if table.facts or table.notes:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["key", "value"])
            writer.writerows([key, _csv_value(value)] for key, value in table.facts)
            writer.writerows(["note", f"{n.label}: {n.text}" if n.label else n.text] for n in table.notes)
            blocks.append(buffer.getvalue())
    return "\n".join(blocks)


# -- JSON ------------------------------------------------------------------------------------------


def table_dict(table: Table) -> dict[str, Any]:
    """A table's raw values as JSON-ready data."""
    keep = table.exported()

    def record(row: Row) -> dict[str, Any]:
        return {table.columns[i].key: row.values[i] for i in keep}

    return {
        "title": table.title,
        "rows": [record(row) for row in table.rows],
        "total": record(table.total) if table.total else None,
        "facts": dict(table.facts),
        "notes": [{"label": n.label, "text": n.text} for n in table.notes],
    }


def write_json(document: Document, width: int = 160) -> str:
    """The view's own JSON document when it has one, else its tables' raw values."""
    data = document.json_data()
    if data is None:
        data = {"heading": document.heading, "lines": list(document.lines),
                "tables": [table_dict(t) for t in document.tables if t.data]}
    return json.dumps(data, indent=2) + "\n"


# -- the formats -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Writer:
    """A format: how to write a document, and the `-o` suffix that selects it."""

    write: Callable[[Document, int], str]
    suffix: str = ""


FORMATS: dict[str, Writer] = {
    "table": Writer(write_terminal),
    "json": Writer(write_json, ".json"),
    "csv": Writer(write_csv, ".csv"),
    "markdown": Writer(write_markdown, ".md"),
    "latex": Writer(write_latex, ".tex"),
}


def render(document: Document, fmt: str, width: int = 160) -> str:
    """`document` in the format named `fmt` (a key of `FORMATS`)."""
    writer = FORMATS.get(fmt)
    if writer is None:
        raise UsageError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return writer.write(document, width)

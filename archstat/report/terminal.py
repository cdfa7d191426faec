"""The terminal table: rich lays it out, the lines are joined here.

rich draws every cell through its whole layout engine (measure, pad, wrap, justify, segments):
about 600 µs a row, and millions of short-lived objects whose collections scan the whole heap,
so a table of 20,000 rows took longer than the analysis it shows and grew faster than its rows.

Here rich sizes the columns from the few rows that decide them (per column, the widest cell and
the one with the longest word: rich's widths depend on nothing else) and its box gives the edges
and rules. A cell of printable text is padded here, or cut with "…" as rich cuts it; any other
cell (line breaks, tabs, control characters, text to fold in a wrapping column, non-ASCII to cut),
the title and the header are drawn by rich, once per distinct text, and joined into the row as
rich joins them. So the text is rich's whatever the cells hold; `tests/test_terminal.py`
compares the two over real and hostile tables at many widths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from archstat.report.table import Row, Table

if TYPE_CHECKING:
    from rich.console import Console

BOX = "SIMPLE_HEAD"   # rich's box: a rule under the header, no other lines
CellLines = list[str]  # one cell's lines, each padded to its column's width


def rich_table(table: Table, rows: Sequence[Row] | None = None) -> Any:
    """`table` as a rich Table, with all its rows or only `rows` (the total row kept last)."""
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    shown = table.visible()
    shows = _shows(table)
    out = RichTable(title=Text(table.title) if table.title else None, box=getattr(box, BOX), title_style="bold",
                    header_style="bold")
    for i in shown:
        c = table.columns[i]
        out.add_column(Text(c.header), **_column_style(c.numeric, c.wrap))
    body = list(table.rows if rows is None else rows) + ([table.total] if table.total else [])
    for n, row in enumerate(body):
        out.add_row(*(Text(text) for text in _texts(shows, row)), style="dim" if row.muted else None,
                    end_section=table.total is not None and n == len(body) - 2)
    return out


def _column_style(numeric: bool, wrap: bool) -> dict[str, Any]:
    return {"justify": "right" if numeric else "left", "no_wrap": not wrap, "overflow": "fold" if wrap else "ellipsis"}


def _texts(shows: Sequence[tuple[int, Callable[[Any], str]]], row: Row) -> list[str]:
    """The display text of a row's shown cells (`shows`: each one's index and how it shows its
    value), the first indented by the row's depth."""
    values = row.values
    cells = [show(values[i]) for i, show in shows]
    if cells and row.indent:
        cells[0] = "  " * row.indent + cells[0]
    return cells


def _shows(table: Table) -> list[tuple[int, Callable[[Any], str]]]:
    return [(i, table.columns[i].show) for i in table.visible()]


def _width(text: str) -> int:
    """Terminal cells `text` takes (CJK and emoji take two, combining marks none), or -1 when it
    is not printable (line breaks, tabs, control and format characters: rich rewrites those)."""
    if text.isascii():
        return len(text) if text.isprintable() else -1
    if not text.isprintable():
        return -1
    from rich.cells import cell_len

    return cell_len(text)


def _deciding(texts: Sequence[Sequence[str]], sizes: Sequence[Sequence[int]]) -> list[int]:
    """Indices of the rows that decide the column widths: per column the widest cell and the one
    with the longest word (rich measures nothing else), and every row with a cell that is not plain."""
    columns = len(texts[0])
    widest = [(-1, 0)] * columns
    longest = [(-1, 0)] * columns
    keep: set[int] = set()
    for r, (cells, widths) in enumerate(zip(texts, sizes, strict=True)):
        for c, (text, width) in enumerate(zip(cells, widths, strict=True)):
            if width < 0:
                keep.add(r)
                continue
            if width > widest[c][0]:
                widest[c] = (width, r)
            if " " not in text:
                word = width
            else:
                word = max(map(len if text.isascii() else _width, text.split()), default=width)
            if word > longest[c][0]:
                longest[c] = (word, r)
    keep.update(r for _, r in widest + longest)
    return sorted(keep)


def draw_table(table: Table, console: Console) -> str:
    """`table` as `console.print` prints rich's table of it."""
    shown = table.visible()
    shows = _shows(table)
    rows = [_texts(shows, row) for row in table.rows]
    if not rows or not shown:
        return printed(console, rich_table(table))
    sizes = [[_width(text) for text in cells] for cells in rows]
    sizing = rich_table(table, [table.rows[r] for r in _deciding(rows, sizes)])
    try:   # rich's own sizing, on the rows that decide it
        widths: list[int] = sizing._calculate_column_widths(
            console, console.options.update_width(console.options.max_width - sizing._extra_width))
    except AttributeError:   # a rich without these internals: let it draw everything
        return printed(console, rich_table(table))
    if sum(widths) + sizing._extra_width > console.options.max_width:   # too narrow even cut: rich crops it
        return printed(console, rich_table(table))
    from rich import box

    frame = getattr(box, BOX).substitute(console.options, safe=console.safe_box)
    columns = [table.columns[i] for i in shown]
    rich_cell = _rich_cells(console, columns, widths)
    out = []
    if table.title:
        out.append(printed(console, _title(table.title), width=sum(widths) + sizing._extra_width, justify="center"))
    out.append(frame.get_top(widths) + "\n")
    header = [rich_cell(c, column.header) for c, column in enumerate(columns)]
    out += _joined(header, widths, frame.head_left, frame.head_vertical, frame.head_right, bottom=True)
    out.append(frame.get_row(widths, "head", edge=True) + "\n")
    if table.total:
        rows.append(_texts(shows, table.total))
        sizes.append([_width(text) for text in rows[-1]])
    # per column: room for text (its width less padding), right-justified, cut with an ellipsis
    layout = [(width - 2, column.numeric, not column.wrap) for width, column in zip(widths, columns, strict=True)]
    last = len(rows) - 1
    for n, (cells, cell_widths) in enumerate(zip(rows, sizes, strict=True)):
        left, divider, right = ((frame.foot_left, frame.foot_vertical, frame.foot_right) if n == last
                                else (frame.mid_left, frame.mid_vertical, frame.mid_right))
        line = _line(cells, cell_widths, layout)
        if line is not None:
            out.append(f"{left}{divider.join(line)}{right}\n")
        else:
            drawn = [[cell] if cell is not None else rich_cell(c, text)
                     for c, (text, cell) in enumerate(zip(cells, _cells(cells, cell_widths, layout), strict=True))]
            out += _joined(drawn, widths, left, divider, right, bottom=False)
        if table.total is not None and n == last - 1:
            out.append(frame.get_row(widths, "row", edge=True) + "\n")
    out.append(frame.get_bottom(widths) + "\n")
    return "".join(out)


def _cell(text: str, width: int, room: int, right: bool, cut: bool) -> str | None:
    """A plain cell padded to its column, cut to "…" where rich cuts it; None when rich must draw it."""
    gap = room - width
    if width < 0 or room < 1 or (right and text.endswith(" ")):   # rich's right-justify strips spaces first
        return None
    if gap >= 0:
        return f" {' ' * gap}{text} " if right else f" {text}{' ' * gap} "
    return f" {text[:room - 1]}… " if cut and text.isascii() else None


def _cells(cells: Sequence[str], widths: Sequence[int], layout: Sequence[tuple[int, bool, bool]]) -> list[str | None]:
    return [_cell(text, width, *style) for text, width, style in zip(cells, widths, layout, strict=True)]


def _line(cells: Sequence[str], widths: Sequence[int], layout: Sequence[tuple[int, bool, bool]]) -> list[str] | None:
    """A row whose every cell is plain, as one line of padded cells; None otherwise."""
    line = []
    for text, width, (room, right, cut) in zip(cells, widths, layout, strict=True):
        cell = _cell(text, width, room, right, cut)
        if cell is None:
            return None
        line.append(cell)
    return line


def _joined(cells: list[CellLines], widths: Sequence[int], left: str, divider: str, right: str, *,
            bottom: bool) -> list[str]:
    """A row's lines: its cells aligned at the top (the header: at the bottom), between the box's edges."""
    height = max(1, *(len(cell) for cell in cells))   # rich draws at least one line a row
    for cell, width in zip(cells, widths, strict=True):
        blank = [" " * width] * (height - len(cell))
        if bottom:
            cell[:0] = blank
        else:
            cell += blank
    return [f"{left}{divider.join(line)}{right}\n" for line in zip(*cells, strict=True)]


def _rich_cells(console: Console, columns: Sequence[Any], widths: Sequence[int]) -> Callable[[int, str], CellLines]:
    """A function drawing one cell as rich does (padded, wrapped, folded or cut as its column says),
    each distinct text of a column once."""
    from rich.padding import Padding
    from rich.text import Text

    options = [console.options.update(width=width, height=None, highlight=False,
                                      **_column_style(column.numeric, column.wrap))
               for width, column in zip(widths, columns, strict=True)]
    drawn: dict[tuple[int, str], CellLines] = {}

    def cell(column: int, text: str) -> CellLines:
        key = (column, text)
        if key not in drawn:
            lines = console.render_lines(Padding(Text(text), (0, 1)), options[column])
            drawn[key] = ["".join(segment.text for segment in segments) for segments in lines]
        return list(drawn[key])

    return cell


def _title(title: str) -> Any:
    from rich.text import Text

    return Text(title)


def printed(console: Console, renderable: Any, **options: Any) -> str:
    """What `console.print(renderable, **options)` prints, as a string."""
    with console.capture() as captured:
        console.print(renderable, **options)
    return captured.get()

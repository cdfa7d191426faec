"""The terminal table, drawn with rich from the shared column list."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from archstat.analysis.records import Analysis
from archstat.report.summary import COLUMNS, summary_lines, title


def build_table(analysis: Analysis, depth: int | None = None) -> Table:
    """Aligned columns; containers (which roll up their children) are dimmed."""
    table = Table(title=title(analysis), box=box.SIMPLE_HEAD, title_style="bold", header_style="bold")
    for column in COLUMNS:
        table.add_column(column.header, justify="right" if column.numeric else "left", no_wrap=True)
    for row in analysis.rows(depth):
        cells = [column.cell(row) for column in COLUMNS]
        indent = "  " * max(row.depth - 1, 0)
        cells[0] = indent + cells[0]
        style = "dim" if not row.is_leaf else None
        table.add_row(*cells, style=style)
    return table


def summary_grid(analysis: Analysis) -> Table:
    """The labelled totals and conventions, wrapped inside their own column."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, line in summary_lines(analysis):
        style = "bold red" if label == "PARTIAL" else "bold"
        grid.add_row(Text(label, style=style), line)
    return grid


def print_analysis(analysis: Analysis, console: Console, depth: int | None = None) -> None:
    """Table, then the summary."""
    console.print(build_table(analysis, depth))
    console.print(summary_grid(analysis))


def render_text(analysis: Analysis, depth: int | None = None, width: int = 140) -> str:
    """The terminal output as plain text (for files and tests)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    print_analysis(analysis, console, depth)
    return buffer.getvalue()

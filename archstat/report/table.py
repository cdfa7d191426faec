"""The one table model every view builds and every writer (`archstat.report.writers`) reads.

A view describes its columns once, each with a header for people, a key for machines, how to get
the raw value from a record and how to show it; `Table.build` evaluates them over the records.
Writers show the text formats (terminal, Markdown, LaTeX) from the columns marked `shown`, and
write the data formats (CSV, JSON) from the raw values of the columns marked `data`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

R = TypeVar("R")
Value = str | int | float | bool | None   # a raw cell: what CSV and JSON carry


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the garbage collector while a table is built or drawn, as it was before afterwards.

    Rows are tuples, lists and strings, which reference counting frees; a full collection while
    20,000 of them are made would find nothing, yet walk the whole heap, the analysis included
    (0.4 s beside a 21,000-row analysis, more than drawing its table), and make the cost grow
    faster than the rows.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def plain(value: Any) -> str:
    """The display text of a raw value: "-" for a missing one."""
    return "-" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Column(Generic[R]):
    """A column: header (text formats), key (CSV and JSON), raw value of a record, its display text."""

    header: str
    key: str
    value: Callable[[R], Value]
    show: Callable[[Any], str] = plain
    numeric: bool = True        # right-aligned
    code: bool = False          # set as code: Markdown `x`, LaTeX \texttt{x}
    wrap: bool = False          # long text that may fold in the terminal
    shown: bool = True          # in the terminal, Markdown and LaTeX
    data: bool = True           # in CSV and JSON

    def cell(self, record: R) -> str:
        """The display text of this column for `record`."""
        return self.show(self.value(record))


@dataclass(frozen=True, slots=True)
class Row:
    """Raw values, one per column; `indent` and `muted` style the terminal (nesting, containers)."""

    values: tuple[Value, ...]
    indent: int = 0
    muted: bool = False


@dataclass(frozen=True, slots=True)
class Note:
    """A labelled line shown under a table: a total, a convention, a warning (`alert`: PARTIAL)."""

    label: str
    text: str
    alert: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """Columns, rows of raw values, an optional total row, and what is said under the table.

    `notes` are shown in the text formats and written as `note` rows in CSV; `facts` are raw
    key/value pairs (totals, the partial flag, unsupported ops) for CSV and JSON. A table with
    `shown=False` exists only in the data formats, one with `data=False` only in the text formats.
    """

    title: str
    columns: tuple[Column[Any], ...]
    rows: tuple[Row, ...]
    total: Row | None = None
    notes: tuple[Note, ...] = ()
    facts: tuple[tuple[str, Value], ...] = ()
    footer: str = ""
    shown: bool = True
    data: bool = True

    @classmethod
    def build(cls, title: str, columns: Sequence[Column[R]], records: Iterable[R], *,
              indent: Callable[[R], int] | None = None, muted: Callable[[R], bool] | None = None,
              total: Row | None = None, notes: tuple[Note, ...] = (), facts: tuple[tuple[str, Value], ...] = (),
              footer: str = "", shown: bool = True, data: bool = True) -> Table:
        """Evaluate `columns` over `records` (`indent` and `muted` style each row in the terminal)."""
        values = [c.value for c in columns]
        with collector_paused():
            rows = tuple(
                Row(tuple([value(r) for value in values]), indent(r) if indent else 0, muted(r) if muted else False)
                for r in records
            )
        return cls(title, tuple(columns), rows, total, notes, facts, footer, shown, data)

    def visible(self) -> list[int]:
        """Indices of the columns shown in the text formats."""
        return [i for i, c in enumerate(self.columns) if c.shown]

    def exported(self) -> list[int]:
        """Indices of the columns written to CSV and JSON."""
        return [i for i, c in enumerate(self.columns) if c.data]


@dataclass(frozen=True, slots=True)
class Document:
    """What one command prints: a heading with its lines, then tables.

    `data`, when given, is the view's own JSON document (a documented schema richer than its
    tables), or a function returning it, called only when JSON is written (the text formats of a
    large model need not build it); the JSON writer prints it instead of the tables.
    """

    tables: tuple[Table, ...]
    heading: str = ""
    lines: tuple[str, ...] = ()
    data: Any = None

    def json_data(self) -> Any:
        """The view's JSON document (built now when `data` is a function), or None."""
        return self.data() if callable(self.data) else self.data

    def __add__(self, other: Document) -> Document:
        """Both documents' tables; the first's heading; JSON data merged when both are objects."""
        first, second = self, other

        def merged() -> Any:
            data, more = first.json_data(), second.json_data()
            return {**data, **more} if isinstance(data, dict) and isinstance(more, dict) else data

        data = merged if callable(self.data) or callable(other.data) else merged()
        return Document(self.tables + other.tables, self.heading or other.heading,
                        self.lines or other.lines, data)

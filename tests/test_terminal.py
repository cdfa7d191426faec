"""The terminal table draws its rows itself at the widths rich lays out: the text must be exactly what
rich prints for the same table, for real tables and hostile cells, at every terminal width."""

from __future__ import annotations

import gc
import io

import pytest
from rich.console import Console

import archstat
from archstat.report.rf_growth import growth_document
from archstat.report.summary import summary_document
from archstat.report.table import Column, Document, Row, Table
from archstat.report.terminal import draw_table, printed, rich_table
from archstat.report.writers import write_terminal
from archstat.report.zoo import zoo_document
from archstat.studies.zoo import zoo_entries

WIDTHS = (160, 100, 80, 60, 40, 24, 12)

HOSTILE = (
    "", "  ", " lead", "trail ", "a\tb", "two\nlines", "가나다라 마바사", "rocket 🚀 launch", "\x1b[31mred\x1b[0m",
    "bell\x07", "[bold]markup[/bold]", "no\u00a0break", "zero\u200bwidth", "x" * 150,
    "a long sentence of many short words that must wrap somewhere " * 2, "1x64x32x32", "12,345",
)


def hostile_table(with_total: bool) -> Table:
    columns = (
        Column("Name", "name", lambda r: r[0], numeric=False, code=True),
        Column("Count", "count", lambda r: r[1]),
        Column("hidden", "hidden", lambda r: r[0], shown=False),
        Column("Why", "why", lambda r: r[2], numeric=False, wrap=True),
        Column("Shape", "shape", lambda r: r[3], numeric=False),
    )
    n = len(HOSTILE)
    records = [(HOSTILE[i], HOSTILE[(i + 3) % n], HOSTILE[(i + 7) % n], HOSTILE[(i + 11) % n]) for i in range(n)]
    return Table.build("hostile · 表 ·" + " title" * 8, columns, records, indent=lambda r: len(r[0]) % 3,
                       muted=lambda r: len(r[1]) % 2 == 0,
                       total=Row(("total", 17, "all", "", "-")) if with_total else None)


def documents() -> dict[str, Document]:
    lenet = archstat.analyze("lenet5")
    return {
        "summary lenet5": summary_document(lenet),
        "summary resnet18": summary_document(archstat.analyze("resnet18")),
        "summary resnet18 depth 2": summary_document(archstat.analyze("resnet18"), 2),
        "summary lenet5 training": summary_document(archstat.analyze("lenet5", training=True)),
        "rf lenet5": growth_document(lenet),
        "list": zoo_document(zoo_entries()),
        "hostile": Document((hostile_table(False),)),
        "hostile with a total": Document((hostile_table(True),)),
        "empty": Document((Table("nothing", hostile_table(False).columns, ()),)),
    }


DOCUMENTS = documents()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_rows_drawn_directly_are_what_rich_draws(name: str, width: int) -> None:
    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    for table in DOCUMENTS[name].tables:
        expected = printed(console, rich_table(table))
        assert draw_table(table, console) == expected


def test_drawing_leaves_the_collector_as_it_found_it() -> None:
    table = hostile_table(True)
    assert gc.isenabled()
    write_terminal(Document((table,)))
    assert gc.isenabled()
    gc.disable()
    try:
        write_terminal(Document((table,)))
        Table.build("t", table.columns, [("a", "b", "c", "d")])
        assert not gc.isenabled()
    finally:
        gc.enable()

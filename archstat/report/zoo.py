"""`archstat list`: the zoo as a table."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from archstat.report import units
from archstat.studies.zoo import ZooEntry

HEADERS = ("Name", "Paper", "Variant", "Input", "Params", "Kind")


def short_citation(paper: str) -> str:
    """"He et al. 2015, arXiv:1512.03385" -> "He et al. 2015"."""
    match = re.match(r"^(.*?\b(?:19|20)\d\d)\b", paper)
    return match.group(1) if match else paper


def _cells(entry: ZooEntry) -> tuple[str, ...]:
    info = entry.info
    params = units.exact(entry.params)
    if entry.trainable_params != entry.params:
        params += f" ({units.exact(entry.trainable_params)} trainable)"
    citation = short_citation(info.paper)
    return (info.name, citation, info.variant, units.shape(info.input_size), params, info.kind)


def render_zoo(entries: list[ZooEntry], fmt: str) -> Any:
    """A rich Table for the terminal, or text in the other formats."""
    if fmt == "json":
        return json.dumps([
            {"name": e.info.name, "paper": e.info.paper, "year": e.info.year, "variant": e.info.variant,
             "input_size": list(e.info.input_size), "params": e.params,
             "trainable_params": e.trainable_params, "kind": e.info.kind, "summary": e.info.summary}
            for e in entries
        ], indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(
            ["name", "paper", "year", "variant", "input_size", "params", "trainable_params", "kind"]
        )
        for e in entries:
            writer.writerow([e.info.name, e.info.paper, e.info.year, e.info.variant,
                             units.shape(e.info.input_size), e.params, e.trainable_params, e.info.kind])
        return buffer.getvalue()
    if fmt == "markdown":
        lines = ["| " + " | ".join(HEADERS) + " |", "|---|---|---|---|---:|---|"]
        lines += ["| " + " | ".join(_cells(e)) + " |" for e in entries]
        return "\n".join(lines) + "\n"
    from rich import box
    from rich.table import Table

    table = Table(title=f"archstat zoo: {len(entries)} networks", box=box.SIMPLE_HEAD, header_style="bold")
    for header in HEADERS:
        table.add_column(header, justify="right" if header == "Params" else "left")
    for e in entries:
        table.add_row(*_cells(e))
    return table

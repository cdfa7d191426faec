"""`archstat list`: the zoo as a table."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from archstat.report import units
from archstat.report.table import Column, Document, Table
from archstat.studies.zoo import ZooEntry


def short_citation(paper: str) -> str:
    """"He et al. 2015, arXiv:1512.03385" -> "He et al. 2015"."""
    match = re.match(r"^(.*?\b(?:19|20)\d\d)\b", paper)
    return match.group(1) if match else paper


def _params(entry: ZooEntry) -> str:
    text = units.exact(entry.params)
    if entry.trainable_params != entry.params:
        text += f" ({units.exact(entry.trainable_params)} trainable)"
    return text


COLUMNS: tuple[Column[ZooEntry], ...] = (
    Column("Name", "name", lambda e: e.info.name, numeric=False),
    Column("Paper", "citation", lambda e: short_citation(e.info.paper), numeric=False, data=False),
    Column("paper", "paper", lambda e: e.info.paper, shown=False),
    Column("year", "year", lambda e: e.info.year, shown=False),
    Column("Variant", "variant", lambda e: e.info.variant, numeric=False),
    Column("Input", "input_size", lambda e: units.shape(e.info.input_size), numeric=False),
    Column("Params", "params_text", _params, data=False),
    Column("params", "params", lambda e: e.params, shown=False),
    Column("trainable_params", "trainable_params", lambda e: e.trainable_params, shown=False),
    Column("Kind", "kind", lambda e: e.info.kind, numeric=False),
)


def zoo_list(entries: Sequence[ZooEntry]) -> list[dict[str, Any]]:
    """The documented JSON: one object per network."""
    return [
        {"name": e.info.name, "paper": e.info.paper, "year": e.info.year, "variant": e.info.variant,
         "input_size": list(e.info.input_size), "params": e.params,
         "trainable_params": e.trainable_params, "kind": e.info.kind, "summary": e.info.summary}
        for e in entries
    ]


def zoo_document(entries: Sequence[ZooEntry]) -> Document:
    """One row per network; JSON as `zoo_list`."""
    table = Table.build(f"archstat zoo: {len(entries)} networks", COLUMNS, entries)
    return Document((table,), data=zoo_list(entries))

"""Rendering `--check`: archstat beside fvcore and FlopCounterMode, one row per category, totals last."""

from __future__ import annotations

from typing import Any

from archstat.analysis.records import Analysis
from archstat.report import units
from archstat.report.summary import summary_document
from archstat.report.table import Column, Document, Note, Row, Table
from archstat.studies.check import CheckRow, Reconciliation

TITLE = "Reconciliation on a real CPU forward (MACs: multiply-accumulates; FLOPs: a multiply-add is 2)"
TOTAL_WHY = "each engine adds a different mix of categories to the bare MACs"


def _verdict(agrees: bool | None) -> str:
    return {True: "agree", False: "DIFFER", None: "convention"}[agrees]


def _count(n: int | None) -> str:
    return "" if n is None else units.exact(n)


COLUMNS: tuple[Column[CheckRow], ...] = (
    Column("Category", "category", lambda r: r.category, numeric=False),
    Column("archstat MACs", "archstat_macs", lambda r: r.macs, _count),
    Column("archstat FLOPs", "archstat_flops", lambda r: r.flops, _count),
    Column("archstat bias FLOPs", "archstat_bias_flops", lambda r: r.bias_flops, shown=False),
    Column("fvcore", "fvcore", lambda r: r.fvcore, _count),
    Column("FlopCounterMode", "flop_counter_mode", lambda r: r.flop_counter, _count),
    Column("Verdict", "verdict", lambda r: _verdict(r.agrees), numeric=False),
    Column("Why", "explanation", lambda r: r.explanation, numeric=False, wrap=True),
)


def check_dict(result: Reconciliation) -> dict[str, Any]:
    """The reconciliation as JSON-ready data (the `check` key of `summary --check --format json`)."""
    return {
        "ok": result.ok,
        "meta_matches_cpu": result.meta_matches,
        "categories": [
            {"category": r.category, "archstat_macs": r.macs, "archstat_flops": r.flops,
             "archstat_bias_flops": r.bias_flops, "fvcore": r.fvcore, "flop_counter_mode": r.flop_counter,
             "verdict": _verdict(r.agrees), "explanation": r.explanation,
             "fvcore_uncounted_macs": r.fvcore_uncounted, "flop_counter_uncounted_macs": r.flop_counter_uncounted}
            for r in result.rows
        ],
        "fvcore_total": result.fvcore_total,
        "flop_counter_mode_total": result.flop_counter_total,
        "fvcore_skipped_ops": dict(result.fvcore_unsupported),
    }


def check_table(result: Reconciliation) -> Table:
    """The reconciliation table: a row per category, the totals row, whether meta equals CPU."""
    meta_line = (
        "meta-device counts equal the real CPU forward's"
        if result.meta_matches else "MISMATCH: the meta-device counts differ from the real CPU forward's"
    )
    skipped = ", ".join(f"{op} ×{n}" for op, n in sorted(result.fvcore_unsupported.items())) or "none"
    t = result.analysis.totals
    total = Row(("total", t.macs, t.flops, t.bias_flops, result.fvcore_total, result.flop_counter_total, "",
                 TOTAL_WHY))
    return Table.build(
        TITLE, COLUMNS, result.rows, total=total,
        notes=(Note("Meta", meta_line, alert=not result.meta_matches),
               Note("fvcore", f"skipped (counted nothing for): {skipped}")),
        facts=(("ok", result.ok), ("meta_matches_cpu", result.meta_matches),
               *((f"fvcore_skipped:{op}", n) for op, n in sorted(result.fvcore_unsupported.items()))),
    )


def summary_with_check(analysis: Analysis, result: Reconciliation, depth: int | None = None) -> Document:
    """`archstat summary --check`: the summary, then the reconciliation; one JSON document."""
    return summary_document(analysis, depth) + Document((check_table(result),), data={"check": check_dict(result)})

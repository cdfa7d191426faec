"""Rendering `--check`: archstat beside fvcore and FlopCounterMode, one row per category."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from archstat.report import units
from archstat.report.summary import tex
from archstat.studies.check import Reconciliation

HEADERS = ("Category", "archstat MACs", "archstat FLOPs", "fvcore", "FlopCounterMode", "Verdict", "Why")


def _verdict(agrees: bool | None) -> str:
    return {True: "agree", False: "DIFFER", None: "convention"}[agrees]


def check_rows(result: Reconciliation) -> list[tuple[str, ...]]:
    """Formatted cells of the reconciliation table, totals last."""
    rows: list[tuple[str, ...]] = [
        (r.category, units.exact(r.macs), units.exact(r.flops), units.exact(r.fvcore),
         units.exact(r.flop_counter), _verdict(r.agrees), r.explanation)
        for r in result.rows
    ]
    t = result.analysis.totals
    rows.append(("total", units.exact(t.macs), units.exact(t.flops), units.exact(result.fvcore_total),
                 units.exact(result.flop_counter_total), "", "each engine adds a different mix of "
                 "categories to the bare MACs"))
    return rows


def check_dict(result: Reconciliation) -> dict[str, Any]:
    """The reconciliation as JSON-ready data (the `check` key of `summary --check --format json`)."""
    return {
        "ok": result.ok,
        "meta_matches_cpu": result.meta_matches,
        "categories": [
            {"category": r.category, "archstat_macs": r.macs, "archstat_flops": r.flops,
             "archstat_bias_flops": r.bias_flops, "fvcore": r.fvcore, "flop_counter_mode": r.flop_counter,
             "verdict": _verdict(r.agrees), "explanation": r.explanation}
            for r in result.rows
        ],
        "fvcore_total": result.fvcore_total,
        "flop_counter_mode_total": result.flop_counter_total,
        "fvcore_skipped_ops": dict(result.fvcore_unsupported),
    }


def render_check(result: Reconciliation, fmt: str) -> str:
    """The reconciliation in the summary's output format."""
    meta_line = (
        "meta-device counts equal the real CPU forward's"
        if result.meta_matches else "MISMATCH: the meta-device counts differ from the real CPU forward's"
    )
    skipped = ", ".join(f"{op} ×{n}" for op, n in sorted(result.fvcore_unsupported.items())) or "none"
    if fmt == "json":
        return json.dumps({"check": check_dict(result)}, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["category", "archstat_macs", "archstat_flops", "archstat_bias_flops", "fvcore",
                         "flop_counter_mode", "verdict"])
        writer.writerows([r.category, r.macs, r.flops, r.bias_flops, r.fvcore, r.flop_counter, _verdict(r.agrees)]
                         for r in result.rows)
        return buffer.getvalue()
    rows = check_rows(result)
    if fmt == "latex":
        lines = ["\\begin{tabular}{lrrrrll}", "\\toprule", " & ".join(HEADERS) + " \\\\", "\\midrule"]
        lines += [" & ".join(tex(cell) for cell in row) + " \\\\" for row in rows]
        lines += ["\\bottomrule", "\\end{tabular}", "", tex(meta_line) + "; fvcore skipped: " + tex(skipped)]
        return "\n".join(lines) + "\n"
    if fmt == "markdown":
        lines = ["| " + " | ".join(HEADERS) + " |", "|---|---:|---:|---:|---:|---|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines += ["", f"- {meta_line}", f"- fvcore skipped: {skipped}"]
        return "\n".join(lines) + "\n"
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS[:-1])]
    out = [
        "Reconciliation on a real CPU forward (MACs: multiply-accumulates; FLOPs: a multiply-add is 2)",
        "",
    ]
    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i in (0, 5) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        )

    header = line(HEADERS)
    out.append(header)
    out.append("-" * len(header))
    for row in rows:
        out.append(line(row))
        if row[6]:
            out.append(" " * (widths[0] + 2) + "└ " + row[6])
    out += ["", meta_line, f"fvcore skipped (counted nothing for): {skipped}"]
    return "\n".join(out) + "\n"

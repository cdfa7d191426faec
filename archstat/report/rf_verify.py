"""Rendering `archstat rf --verify`: closed form against measurement, one row per layer."""

from __future__ import annotations

from typing import Any

from archstat.analysis.rf.verify import Check, Span, Verification
from archstat.report.table import Column, Document, Note, Table


def _spans(spans: tuple[Span, ...]) -> str:
    return " × ".join(f"{a}..{b} ({b - a + 1})" for a, b in spans) or "-"


COLUMNS: tuple[Column[Check], ...] = (
    Column("Layer", "path", lambda c: c.path, numeric=False),
    Column("Unit", "unit", lambda c: ",".join(map(str, c.unit)), numeric=False),
    Column("Closed form", "theory", lambda c: _spans(c.theory), numeric=False),
    Column("Measured", "measured", lambda c: _spans(c.measured), numeric=False),
    Column("Verdict", "status", lambda c: c.status, numeric=False),
)


def summary_line(result: Verification) -> str:
    """How many layers agree, what was left out, and how the probe works."""
    outside = sum(c.status.startswith("field exceeds") for c in result.checks)
    limited = sum(c.status.startswith("not probed") for c in result.checks)
    other = len(result.checks) - result.compared - outside - limited
    hint = "".join([
        f"; {outside} fields exceed the input (a larger --input brings them inside)" if outside else "",
        f"; {limited} left out by --limit" if limited else "",
        f"; {other} not compared (unaligned or not measurable)" if other else "",
    ])
    return (
        f"{sum(c.agrees for c in result.checks)} of {result.compared} compared layers agree{hint} "
        f"(gradient probe at input {'x'.join(map(str, result.input_shape))}: positive weights, "
        "max pools as average pools, unit BN statistics; extents are input pixels per axis)"
    )


def verify_dict(result: Verification) -> dict[str, Any]:
    """The verification as JSON-ready data (the `verify` key of `rf --verify --format json`)."""
    return {
        "ok": result.ok,
        "layers": [{"path": c.path, "unit": list(c.unit), "theory": [list(s) for s in c.theory],
                    "measured": [list(s) for s in c.measured], "status": c.status} for c in result.checks],
    }


def verification_document(result: Verification) -> Document:
    """Per layer the input pixels the probed unit sees, by formula and by gradient."""
    table = Table.build("receptive fields: closed form against a gradient probe", COLUMNS, result.checks,
                        notes=(Note("", summary_line(result)),),
                        facts=(("ok", result.ok), ("compared", result.compared)))
    return Document((table,), data={"verify": verify_dict(result)})

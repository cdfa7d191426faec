"""Rendering `archstat rf --verify`: closed form against measurement, one row per layer."""

from __future__ import annotations

import json

from archstat.analysis.rf.verify import Span, Verification

HEADERS = ("Layer", "Unit", "Closed form", "Measured", "Verdict")


def _spans(spans: tuple[Span, ...]) -> str:
    return " × ".join(f"{a}..{b} ({b - a + 1})" for a, b in spans) or "-"


def render_verification(result: Verification, fmt: str) -> str:
    """Per layer the input pixels the probed unit sees, by formula and by gradient."""
    outside = sum(c.status.startswith("field exceeds") for c in result.checks)
    limited = sum(c.status.startswith("not probed") for c in result.checks)
    other = len(result.checks) - result.compared - outside - limited
    hint = "".join([
        f"; {outside} fields exceed the input (a larger --input brings them inside)" if outside else "",
        f"; {limited} left out by --limit" if limited else "",
        f"; {other} not compared (unaligned or not measurable)" if other else "",
    ])
    summary = (
        f"{sum(c.agrees for c in result.checks)} of {result.compared} compared layers agree{hint} "
        f"(gradient probe at input {'x'.join(map(str, result.input_shape))}: positive weights, "
        "max pools as average pools, unit BN statistics; extents are input pixels per axis)"
    )
    if fmt == "json":
        return json.dumps({"verify": {
            "ok": result.ok,
            "layers": [{"path": c.path, "unit": list(c.unit), "theory": [list(s) for s in c.theory],
                        "measured": [list(s) for s in c.measured], "status": c.status} for c in result.checks],
        }}, indent=2) + "\n"
    rows = [(c.path, ",".join(map(str, c.unit)), _spans(c.theory), _spans(c.measured), c.status)
            for c in result.checks]
    if fmt == "csv":
        lines = ["path,unit,theory,measured,status"] + [",".join(f'"{cell}"' for cell in row) for row in rows]
        return "\n".join(lines) + "\n"
    if fmt in ("markdown", "latex"):
        lines = ["| " + " | ".join(HEADERS) + " |", "|---|---|---|---|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join([*lines, "", summary]) + "\n"
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADERS)]
    out = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True))]
    out.append("-" * len(out[0]))
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([*out, "", summary]) + "\n"

"""Human-readable numbers: thousands separators, SI counts, binary byte units."""

from __future__ import annotations

from collections.abc import Sequence

_SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K"))
_BINARY = ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"))


def exact(n: int) -> str:
    """12,345,678."""
    return f"{n:,}"


def si(n: float, digits: int = 2) -> str:
    """15.47 G for counts of operations or parameters."""
    for scale, suffix in _SI:
        if abs(n) >= scale:
            return f"{n / scale:.{digits}f} {suffix}"
    return f"{n:,.0f}"


def nbytes(n: float, digits: int = 1) -> str:
    """57.4 MiB."""
    for scale, suffix in _BINARY:
        if abs(n) >= scale:
            return f"{n / scale:.{digits}f} {suffix}"
    return f"{n:,.0f} B"


def shape(dims: Sequence[int]) -> str:
    """1x3x224x224."""
    return "x".join(str(d) for d in dims) if dims else "-"

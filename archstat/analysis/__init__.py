"""The analyzer: per-layer counts from one recorded forward."""

from __future__ import annotations

from archstat.analysis.analyze import analyze
from archstat.analysis.ops.costs import CATEGORIES, CONVENTIONS
from archstat.analysis.records import Analysis, CategoryCost, CumulativeShare, Growth, LayerStats, Totals

__all__ = [
    "CATEGORIES", "CONVENTIONS", "Analysis", "CategoryCost", "CumulativeShare", "Growth", "LayerStats", "Totals",
    "analyze",
]

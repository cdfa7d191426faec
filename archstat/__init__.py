"""archstat: the classic lessons of CNN design as numbers you can check."""

from __future__ import annotations

from archstat.analysis import CONVENTIONS, Analysis, LayerStats, Totals, analyze
from archstat.errors import ArchstatError
from archstat.registry import ModelInfo, get_model, list_models, model_info, register_model

__version__ = "0.1.0"

__all__ = [
    "CONVENTIONS",
    "Analysis",
    "ArchstatError",
    "LayerStats",
    "ModelInfo",
    "Totals",
    "analyze",
    "get_model",
    "list_models",
    "model_info",
    "register_model",
]

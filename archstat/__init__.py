"""archstat: the classic lessons of CNN design as numbers you can check."""

from __future__ import annotations

from archstat.analysis import CONVENTIONS, Analysis, LayerStats, Totals, analyze
from archstat.analysis.inputs import Call, InputSpec
from archstat.errors import ArchstatError
from archstat.models import get_model, list_models, model_info
from archstat.registry import ModelInfo, register_model
from archstat.version import __version__

__all__ = [
    "CONVENTIONS",
    "Analysis",
    "ArchstatError",
    "Call",
    "InputSpec",
    "LayerStats",
    "ModelInfo",
    "Totals",
    "__version__",
    "analyze",
    "get_model",
    "list_models",
    "model_info",
    "register_model",
]

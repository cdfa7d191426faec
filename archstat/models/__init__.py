"""The zoo: every module in this package registers its networks on import.

Importing this package fills the registry, so its `get_model`, `list_models` and `model_info`
(the registry's own, re-exported) always see every family; a new family is one new file here.
"""

from __future__ import annotations

import importlib
import pkgutil

from archstat.registry import get_model, list_models, model_info

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["get_model", "list_models", "model_info"]

"""`--check`: archstat's counts reconciled with fvcore and FlopCounterMode on a real forward."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from archstat.analysis.analyze import analyze
from archstat.analysis.loading import load_model
from archstat.analysis.records import Analysis
from archstat.analysis.tracing.execution import make_input, preserved_state

# How each engine names the ops of a category.
FVCORE_OPS: dict[str, tuple[str, ...]] = {
    "conv": ("conv",),
    "linear": ("linear", "addmm", "matmul", "bmm", "mm", "einsum", "scaled_dot_product_attention"),
    "norm": ("batch_norm", "group_norm", "layer_norm", "instance_norm"),
    "pool": ("adaptive_avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool3d"),
}
FLOPCOUNTER_OPS: dict[str, tuple[str, ...]] = {
    "conv": ("convolution", "_convolution", "cudnn_convolution", "cudnn_convolution_transpose",
             "convolution_backward"),
    "linear": ("mm", "addmm", "bmm", "baddbmm", "_scaled_dot_product_flash_attention",
               "_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_efficient_attention",
               "_scaled_dot_product_cudnn_attention"),
}

EXPLANATIONS: dict[str, str] = {
    "conv": "fvcore counts one per multiply-accumulate (= archstat MACs); FlopCounterMode counts "
    "2 per MAC (= archstat FLOPs without the bias adds)",
    "linear": "same conventions as conv: fvcore = MACs, FlopCounterMode = 2 x MACs, bias not counted",
    "norm": "fvcore: 1 per element (+1 with affine) in eval; archstat: 2 per element to normalise "
    "+ 2 for scale and shift; FlopCounterMode does not count normalisation",
    "pool": "fvcore counts adaptive average pools only (1 per input element) and skips max/avg "
    "pools; archstat counts every window element; FlopCounterMode does not count pooling",
    "activation": "neither fvcore nor FlopCounterMode counts activations; archstat: 1 per element",
    "elementwise": "neither fvcore nor FlopCounterMode counts elementwise ops (residual adds, "
    "scales); archstat: 1 per element",
    "other": "ops outside the categories above",
}


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One category: archstat's MACs and FLOPs beside the two engines' counts."""

    category: str
    macs: int
    flops: int
    bias_flops: int
    fvcore: int
    flop_counter: int
    agrees: bool | None          # None: the engines use another convention, nothing to compare
    explanation: str


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The check's result, with the real-forward analysis it was made from."""

    analysis: Analysis
    meta_matches: bool           # the meta-device pass gave the same counts as the CPU pass
    rows: tuple[CheckRow, ...]
    fvcore_unsupported: Mapping[str, int]
    fvcore_total: int
    flop_counter_total: int

    @property
    def ok(self) -> bool:
        """Every comparable category agrees and meta equals CPU."""
        return self.meta_matches and all(r.agrees is not False for r in self.rows)


def _fvcore_counts(model: nn.Module, x: torch.Tensor) -> tuple[dict[str, int], dict[str, int], int]:
    from fvcore.nn import FlopCountAnalysis

    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counter = FlopCountAnalysis(model, x)
        counter.unsupported_ops_warnings(False)
        counter.uncalled_modules_warnings(False)
        by_op = dict(counter.by_operator())
        unsupported = dict(counter.unsupported_ops())
    return by_op, unsupported, int(sum(by_op.values()))


def _flop_counter(model: nn.Module, x: torch.Tensor) -> dict[str, int]:
    from torch.utils.flop_counter import FlopCounterMode

    mode = FlopCounterMode(display=False)
    with mode, torch.no_grad():
        model(x)
    return {op.__name__: int(n) for op, n in mode.get_flop_counts().get("Global", {}).items()}


def reconcile(
    model_or_name: str | nn.Module,
    input_shape: Sequence[int] | None = None,
    *,
    options: Mapping[str, Any] | None = None,
) -> Reconciliation:
    """Count with archstat (meta and CPU), fvcore and FlopCounterMode; compare per category."""
    loaded = load_model(model_or_name, device="cpu", options=options)
    model = loaded.module
    shape = tuple(input_shape or loaded.input_shape)
    real = analyze(model, shape, device="cpu")
    meta = analyze(model, shape, device="meta")
    meta_matches = (meta.totals.macs, meta.totals.flops) == (real.totals.macs, real.totals.flops)

    with preserved_state(model):
        model.eval()
        x = make_input(shape, torch.float32, torch.device("cpu"))
        fv_by_op, fv_unsupported, fv_total = _fvcore_counts(model, x)
        fc_by_op = _flop_counter(model, x)

    rows = []
    categories = real.totals.by_category
    for name in ("conv", "linear", "norm", "activation", "pool", "elementwise", "other"):
        cost = categories.get(name)
        fv = sum(fv_by_op.get(op, 0) for op in FVCORE_OPS.get(name, ()))
        fc = sum(fc_by_op.get(op, 0) for op in FLOPCOUNTER_OPS.get(name, ()))
        if cost is None and not fv and not fc:
            continue
        macs = cost.macs if cost else 0
        flops = cost.flops if cost else 0
        bias = _bias_flops(real, name)
        agrees: bool | None = None
        if name in ("conv", "linear"):
            agrees = fv == macs and fc == 2 * macs
        rows.append(CheckRow(name, macs, flops, bias, fv, fc, agrees, EXPLANATIONS[name]))
    return Reconciliation(real, meta_matches, tuple(rows), fv_unsupported, fv_total, sum(fc_by_op.values()))


def _bias_flops(analysis: Analysis, category: str) -> int:
    """Bias adds inside a category: FLOPs beyond 2 x MACs for conv and linear."""
    if category not in ("conv", "linear"):
        return 0
    cost = analysis.totals.by_category.get(category)
    return cost.flops - 2 * cost.macs if cost else 0

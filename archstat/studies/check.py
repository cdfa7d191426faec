"""`--check`: archstat's counts reconciled with fvcore and FlopCounterMode on a real forward."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from archstat.analysis.analyze import analyze
from archstat.analysis.inputs import Call, InputSpec, as_call, map_call, materialize, tensors_of
from archstat.analysis.loading import load_model
from archstat.analysis.ops.call import named_args
from archstat.analysis.ops.costs import attention_cost, formula_for
from archstat.analysis.records import Analysis
from archstat.analysis.tracing.execution import preserved_state, run_model
from archstat.analysis.tracing.recorder import tensors_in

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
    fvcore_uncounted: int = 0        # archstat MACs of ops fvcore does not count (its gap)
    flop_counter_uncounted: int = 0  # archstat MACs of ops FlopCounterMode has no formula for


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


class _Positional(nn.Module):
    """The model as fvcore's tracer needs it: the call's tensors as positional arguments (the
    rest of the call kept as it is), every tensor of the output, whatever its structure, as a tuple."""

    def __init__(self, model: nn.Module, call: Call) -> None:
        super().__init__()
        self.model, self.call = model, call

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        given = iter(tensors)
        call = map_call(self.call, lambda item, name: next(given) if isinstance(item, torch.Tensor) else item)
        return tuple(tensors_in(run_model(self.model, None, call)))


def _fvcore_counts(model: nn.Module, call: Call) -> tuple[dict[str, int], dict[str, int], int]:
    from fvcore.nn import FlopCountAnalysis

    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counter = FlopCountAnalysis(_Positional(model, call), tuple(tensors_of(call)))
        counter.unsupported_ops_warnings(False)
        counter.uncalled_modules_warnings(False)
        by_op = dict(counter.by_operator())
        unsupported = dict(counter.unsupported_ops())
    return by_op, unsupported, int(sum(by_op.values()))


# The function fvcore's tracer sees for attention, and the name it reports it by when it has no
# handle for it (fvcore 0.1.5 has none).
FVCORE_ATTENTION = "aten::scaled_dot_product_attention"


class _Uncounted(TorchDispatchMode):
    """archstat's MACs, per category, of the ops FlopCounterMode has no formula for (on the
    cpu: the fused attention kernel `_scaled_dot_product_flash_attention_for_cpu`)."""

    def __init__(self, registered: Any) -> None:
        super().__init__()
        self.registered = registered
        self.macs: dict[str, int] = {}

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        entry = formula_for(func.overloadpacket)
        if entry is not None and func.overloadpacket not in self.registered:
            category, formula = entry
            cost = formula(tensors_in(out)[0], **named_args(func, args, kwargs or {}))
            self.macs[category] = self.macs.get(category, 0) + cost.macs
        return out


class _Attention(TorchFunctionMode):
    """The MACs of every `scaled_dot_product_attention` call (QKᵀ and AV), as the tracer that
    fvcore reads sees it, however the call is then dispatched (fused or as its decomposition)."""

    def __init__(self) -> None:
        super().__init__()
        self.macs = 0

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if func is torch.nn.functional.scaled_dot_product_attention:
            named = dict(zip(("query", "key", "value"), args, strict=False)) | (kwargs or {})
            query, key, value = named["query"], named["key"], named["value"]
            self.macs += attention_cost(math.prod(query.shape[:-2]), query.shape[-2], key.shape[-2],
                                        query.shape[-1], value.shape[-1], False, False).macs
        return func(*args, **(kwargs or {}))


def _flop_counter(model: nn.Module, call: Call) -> tuple[dict[str, int], dict[str, int], int]:
    """FlopCounterMode's counts by op, archstat's MACs of the ops it does not count, and the
    MACs of the attention products."""
    from torch.utils.flop_counter import FlopCounterMode, flop_registry

    mode = FlopCounterMode(display=False)
    uncounted, attention = _Uncounted(flop_registry), _Attention()
    with attention, mode, uncounted, torch.no_grad():
        run_model(model, None, call)
    counts = {op.__name__: int(n) for op, n in mode.get_flop_counts().get("Global", {}).items()}
    return counts, uncounted.macs, attention.macs


def reconcile(
    model_or_name: str | nn.Module,
    input_shape: Sequence[int] | None = None,
    *,
    inputs: Any = None,
    options: Mapping[str, Any] | None = None,
    seq: int | None = None,
) -> Reconciliation:
    """Count with archstat (meta and CPU), fvcore and FlopCounterMode; compare per category.

    The inputs are as `analyze` takes them (by default the model's own). Where an engine does
    not count an op (FlopCounterMode has no formula for the fused cpu attention kernel; fvcore
    none for `scaled_dot_product_attention`), its count is compared with archstat's less those
    ops' MACs, and the row says so: the gap is explained, not a disagreement.
    """
    loaded = load_model(model_or_name, device="cpu", options=options, seq=seq)
    model = loaded.module
    if inputs is None:
        inputs = loaded.inputs if input_shape is None and loaded.inputs is not None else \
            InputSpec(tuple(input_shape or loaded.input_shape))
    call = as_call(inputs)
    real = analyze(model, inputs=call, device="cpu")
    meta = analyze(model, inputs=call, device="meta")
    meta_matches = (meta.totals.macs, meta.totals.flops) == (real.totals.macs, real.totals.flops)

    with preserved_state(model):
        model.eval()
        made = materialize(call, torch.float32, torch.device("cpu"))
        fv_by_op, fv_unsupported, fv_total = _fvcore_counts(model, made)
        fc_by_op, fc_uncounted, attention_macs = _flop_counter(model, made)
    fv_uncounted = {"linear": attention_macs} if FVCORE_ATTENTION in fv_unsupported else {}

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
        fv_gap, fc_gap = fv_uncounted.get(name, 0), fc_uncounted.get(name, 0)
        agrees: bool | None = None
        explanation = EXPLANATIONS[name]
        if name in ("conv", "linear"):
            agrees = fv == macs - fv_gap and fc == 2 * (macs - fc_gap)
            explanation += _gap_text(fv_gap, fc_gap)
        rows.append(CheckRow(name, macs, flops, bias, fv, fc, agrees, explanation, fv_gap, fc_gap))
    return Reconciliation(real, meta_matches, tuple(rows), fv_unsupported, fv_total, sum(fc_by_op.values()))


def _gap_text(fvcore: int, flop_counter: int) -> str:
    """The explained part of a row's gap, in words."""
    parts = []
    if fvcore:
        parts.append(f"fvcore does not count scaled_dot_product_attention: its gap is exactly the attention "
                     f"products, {fvcore:,} MACs")
    if flop_counter:
        parts.append(f"FlopCounterMode has no formula for the fused attention kernel: its gap is exactly the "
                     f"attention products, {flop_counter:,} MACs ({2 * flop_counter:,} FLOPs)")
    return "".join(f"; {p}" for p in parts)


def _bias_flops(analysis: Analysis, category: str) -> int:
    """Bias adds inside a category: FLOPs beyond 2 x MACs for conv and linear."""
    if category not in ("conv", "linear"):
        return 0
    cost = analysis.totals.by_category.get(category)
    return cost.flops - 2 * cost.macs if cost else 0

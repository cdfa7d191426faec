"""`archstat explain --vs-tools`: the other tools' figures for the same layer, and why each differs.

fvcore and PyTorch's `FlopCounterMode` are run on a cpu copy of the layer alone (random weights;
counts depend on shapes only), on a random input of the shape the analysis recorded for it.
The paper's figure is given where `../shared/REFERENCES.md` has it for that layer.
"""

from __future__ import annotations

import copy
import logging
import warnings
from dataclasses import dataclass

import torch
from torch import nn

from archstat.analysis.records import LayerStats
from archstat.errors import one_line

# (zoo model, layer path) -> (the paper's parameter count, its source), from REFERENCES.md section 2.
PAPER_PARAMS: dict[tuple[str, str], tuple[int, str]] = {
    ("vgg16", "classifier.0"): (102_764_544, "Simonyan & Zisserman 2014 (FC6)"),
    ("alexnet", "features.0"): (34_944, "Krizhevsky et al. 2012 (conv1)"),
}


@dataclass(frozen=True, slots=True)
class ToolFigure:
    """Another tool's figure for the row, the archstat figure it is set against, and why they differ."""

    tool: str                        # "fvcore", "FlopCounterMode", "paper"
    value: int | None                # None: the tool could not be run on this layer
    ours: int                        # archstat's figure of the same kind
    ours_label: str                  # message id of that figure: "macs", "flops", "params"
    reason: str                      # message id under explain.tool.
    fields: tuple[tuple[str, str], ...] = ()


def _cpu_copy(module: nn.Module) -> nn.Module:
    """The layer with real (random) tensors on the cpu: counts need shapes, the forward needs values."""
    clone = copy.deepcopy(module)
    if any(t.is_meta for t in [*clone.parameters(), *clone.buffers()]):
        clone = clone.to_empty(device="cpu")
        with torch.no_grad():
            for t in [*clone.parameters(), *clone.buffers()]:
                if t.is_floating_point():
                    t.normal_()
            for m in clone.modules():
                if isinstance(m, nn.modules.batchnorm._NormBase) and m.running_var is not None:
                    m.running_var.abs_()
    return clone.eval()


def tool_figures(model_name: str, module: nn.Module, row: LayerStats) -> tuple[ToolFigure, ...]:
    """fvcore's and FlopCounterMode's counts for the row's module, and the paper's where known."""
    figures: list[ToolFigure] = []
    bias = sum(c.flops - 2 * c.macs for name, c in row.by_category.items() if name in ("conv", "linear"))
    if len(row.input_shapes) != 1:
        reason = (("why", "the layer takes more than one tensor"),)
        figures += [ToolFigure("fvcore", None, row.macs, "macs", "not_run", reason),
                    ToolFigure("FlopCounterMode", None, row.flops, "flops", "not_run", reason)]
    else:
        try:
            fv, skipped, fcm = _run(module, row.input_shapes[0])
        except Exception as exc:   # the layer alone may not run (it reads state its model sets)
            reason = (("why", one_line(exc)[:120]),)
            figures += [ToolFigure("fvcore", None, row.macs, "macs", "not_run", reason),
                        ToolFigure("FlopCounterMode", None, row.flops, "flops", "not_run", reason)]
        else:
            figures.append(_fvcore(fv, skipped, row))
            figures.append(_flop_counter(fcm, row, bias))
    paper = PAPER_PARAMS.get((model_name, row.path))
    if paper is not None:
        figures.append(ToolFigure("paper", paper[0], row.params, "params",
                                  "paper_same" if paper[0] == row.params else "paper_differs",
                                  (("source", paper[1]),)))
    return tuple(figures)


def _run(module: nn.Module, shape: tuple[int, ...]) -> tuple[int, list[str], int]:
    from fvcore.nn import FlopCountAnalysis
    from torch.utils.flop_counter import FlopCounterMode

    clone = _cpu_copy(module)
    x = torch.randn(shape)
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        counter = FlopCountAnalysis(clone, (x,))
        counter.unsupported_ops_warnings(False)
        counter.uncalled_modules_warnings(False)
        fv = int(counter.total())
        skipped = sorted(name.removeprefix("aten::") for name in counter.unsupported_ops())
        with FlopCounterMode(display=False) as mode:
            clone(x)
    return fv, skipped, int(mode.get_total_flops())


def _fvcore(value: int, skipped: list[str], row: LayerStats) -> ToolFigure:
    if value == row.macs and row.macs:
        return ToolFigure("fvcore", value, row.macs, "macs", "fvcore_macs")
    norm, pool = row.by_category.get("norm"), row.by_category.get("pool")
    if value and norm is not None and row.type.startswith("BatchNorm"):
        return ToolFigure("fvcore", value, norm.flops, "flops", "fvcore_bn")
    if value and pool is not None and value == pool.flops:
        return ToolFigure("fvcore", value, pool.flops, "flops", "fvcore_adaptive_pool")
    if value == 0:
        what = ", ".join(skipped) if skipped else "-"
        return ToolFigure("fvcore", value, row.flops, "flops", "fvcore_none", (("ops", what),))
    return ToolFigure("fvcore", value, row.macs, "macs", "fvcore_other")


def _flop_counter(value: int, row: LayerStats, bias: int) -> ToolFigure:
    rest = row.flops - 2 * row.macs - bias
    if value == 2 * row.macs and row.macs and not rest:
        return ToolFigure("FlopCounterMode", value, row.flops, "flops", "flop_counter_bias", (("bias", f"{bias:,}"),))
    if value == 2 * row.macs and row.macs:
        return ToolFigure("FlopCounterMode", value, row.flops, "flops", "flop_counter_2macs",
                          (("bias", f"{bias:,}"), ("rest", f"{rest:,}")))
    if value == 0:
        return ToolFigure("FlopCounterMode", value, row.flops, "flops", "flop_counter_none")
    return ToolFigure("FlopCounterMode", value, row.flops, "flops", "flop_counter_other")

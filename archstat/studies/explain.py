"""`archstat explain`: how each number of one row of an analysis comes about, operands substituted.

Every operand is read from the module's attributes and from the analysis row (its input and
output shapes, the receptive field after it, the ops it recorded); every result is checked
against the row's own number (`Mismatch` otherwise), so an explanation can never disagree with
`summary`. A layer type without a closed form here is explained from its recorded ops.
Blocks (a row with children) are explained in `studies.explain_block`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import torch
from torch import nn

from archstat.analysis.records import Analysis, LayerStats, OpStats
from archstat.analysis.rf.field import AxisField
from archstat.errors import UsageError

SECTIONS = ("shape", "params", "cost", "rf", "memory")
AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Hardswish,
               nn.Hardsigmoid, nn.Mish, nn.PReLU)
CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
WINDOW_POOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
ADAPTIVE_POOLS = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool1d,
                  nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


class Mismatch(AssertionError):
    """An explanation's result differs from the analysis row's number: a bug in archstat."""


@dataclass(frozen=True, slots=True)
class Step:
    """One quantity: what it is (a message id under `explain.label.` with its fields), the
    formula in symbols, the formula with the values substituted, and the result."""

    section: str                             # one of SECTIONS
    label: str                               # "output_size", "params", "macs", ...
    formula: str = ""
    substituted: str = ""
    value: int | None = None
    fields: tuple[tuple[str, str], ...] = ()  # the label's fields: (("axis", "H"), ...)
    bytes: bool = False                       # the value is a number of bytes


@dataclass(frozen=True, slots=True)
class LayerExplanation:
    """How one leaf row's numbers come about."""

    model: str
    row: LayerStats
    closed_form: bool                # False: counted from the recorded ops (`ops`), no formula shown
    steps: tuple[Step, ...]
    ops: tuple[OpStats, ...]         # the ops the row recorded


def find_row(analysis: Analysis, path: str) -> LayerStats:
    """The first call of the module at `path` ("" is the model); a one-line error with close paths otherwise."""
    for row in analysis.layers:
        if row.path == path:
            return row
    paths = [r.path for r in analysis.layers if r.path]
    close = difflib.get_close_matches(path, paths, n=4, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; `archstat summary {analysis.model}` lists them"
    raise UsageError(f"unknown layer {path!r} in {analysis.model} (or not run by its forward){hint}")


def check(value: int, recorded: int, what: str) -> int:
    """`value`, after checking that it is the analysis' number."""
    if value != recorded:
        raise Mismatch(f"explain: {what} comes out as {value:,} but the analysis says {recorded:,}")
    return value


def n(value: int) -> str:
    """A number as the explanations write it: 12,845,056; −1."""
    return f"{value:,}".replace("-", "−")


def product(factors: Sequence[int]) -> str:
    """1·64·224·224."""
    return "·".join(n(f) for f in factors)


def cost_of(row: LayerStats, category: str) -> tuple[int, int]:
    """The row's MACs and FLOPs in one category."""
    cost = row.by_category.get(category)
    return (cost.macs, cost.flops) if cost else (0, 0)


def _itemsize(analysis: Analysis) -> int:
    return int(getattr(torch, analysis.dtype).itemsize)


def _axes(row: LayerStats) -> tuple[str, ...]:
    return AXES.get(len(row.output_shape) - 2, ())


def _per_axis(value: int | Sequence[int], count: int) -> list[int]:
    return [value] * count if isinstance(value, int) else list(value)


# -- output size -----------------------------------------------------------------------------------


def _window_output(row: LayerStats, kernel: list[int], stride: list[int], padding: list[int],
                   dilation: list[int] | None, ceil: bool = False) -> list[Step]:
    """out = ⌊(in + 2·pad − dil·(k−1) − 1)/stride⌋ + 1 per axis (⌈⌉ with ceil_mode; no dil for avg pools)."""
    steps = []
    axes = _axes(row)
    size_in = row.input_shapes[0][-len(axes):]
    for i, axis in enumerate(axes):
        k, s, p = kernel[i], stride[i], padding[i]
        lo, hi = ("⌈", "⌉") if ceil else ("⌊", "⌋")
        if dilation is None:
            formula = f"{lo}(in + 2·pad − k)/stride{hi} + 1"
            inner, sub = size_in[i] + 2 * p - k, f"{lo}({size_in[i]} + {2 * p} − {k})/{s}{hi} + 1"
        else:
            reach = dilation[i] * (k - 1)
            formula = f"{lo}(in + 2·pad − dil·(k−1) − 1)/stride{hi} + 1"
            inner = size_in[i] + 2 * p - reach - 1
            sub = f"{lo}({size_in[i]} + {2 * p} − {reach} − 1)/{s}{hi} + 1"
        value = (-(-inner // s) if ceil else inner // s) + 1
        if ceil and (value - 1) * s >= size_in[i] + p:   # PyTorch: the last window must start inside
            value, sub = value - 1, sub + " − 1"
        steps.append(Step("shape", "output_size", formula, sub,
                          check(value, row.output_shape[2 + i], f"output size {axis}"), (("axis", axis),)))
    return steps


def _same_shape(row: LayerStats, label: str = "output_same") -> list[Step]:
    return [Step("shape", label, fields=(("shape", "×".join(map(str, row.output_shape))),))]


# -- parameters ------------------------------------------------------------------------------------


def _params_step(row: LayerStats, module: nn.Module, formula: str, sub: str, value: int) -> Step:
    own = sum(p.numel() for p in module.parameters(recurse=False))
    check(value, own, "parameters")
    if not row.shared:
        check(value, row.params, "parameters")
    return Step("params", "params", formula, sub, value)


def _listed_params(row: LayerStats, module: nn.Module) -> list[Step]:
    """Parameters of any module: each tensor's shape, multiplied out, summed."""
    tensors = list(module.named_parameters(recurse=False))
    if not tensors:
        return [Step("params", "no_params", value=check(0, row.params, "parameters"))]
    formula = " + ".join(name for name, _ in tensors)
    sub = " + ".join(product(p.shape) for _, p in tensors)
    return [_params_step(row, module, formula, sub, sum(p.numel() for _, p in tensors))]


# -- receptive field -------------------------------------------------------------------------------


def _source(analysis: Analysis, row: LayerStats, axis: int, field: AxisField) -> str:
    """The layer whose output field is `field` and whose output this row read, or "input"."""
    if field == AxisField():
        return "input"
    for earlier in reversed(analysis.layers[: row.index]):
        if (earlier.output_shape == row.input_shapes[0] and earlier.rf is not None and earlier.rf.axes
                and earlier.rf.axes[axis] == field):
            return earlier.path
    return ""


def _window_field(analysis: Analysis, row: LayerStats, kernel: list[int], stride: list[int],
                  padding: list[int], dilation: list[int]) -> list[Step]:
    """The receptive-field recurrence: r = r_in + (k'−1)·j_in, j = j_in·s, start = start_in − p·j_in."""
    field = row.rf
    if field is None or field.whole or field.unknown or not field.axes:
        return _field_as_is(row)
    steps: list[Step] = []
    shown: dict[tuple[int, ...], int] = {}
    for i, (axis, out) in enumerate(zip(_axes(row), field.axes, strict=False)):
        k, s, p, d = kernel[i], stride[i], padding[i], dilation[i]
        reach = d * (k - 1) + 1
        jump_in = out.jump // s
        before = AxisField(out.size - (reach - 1) * jump_in, jump_in, out.start + p * jump_in)
        after = before.then(k, s, p, d)
        check(after.size, out.size, f"receptive field {axis}")
        check(after.jump, out.jump, f"jump {axis}")
        check(after.start, out.start, f"start {axis}")
        key = (before.size, before.jump, before.start, k, s, p, d)
        if key in shown:   # the same numbers as an earlier axis: name both axes once
            first = shown[key]
            steps[first:first + 3] = [_add_axis(step, axis) for step in steps[first:first + 3]]
            continue
        shown[key] = len(steps)
        source = (("from", _source(analysis, row, i, before)),)
        kernel_text = f"{k}" if d == 1 else f"{d}·({k}−1)+1"
        steps += [
            Step("rf", "rf_size", "r = r_in + (k′−1)·j_in", f"{n(before.size)} + ({kernel_text}−1)·{n(jump_in)}",
                 after.size, (("axis", axis), *source)),
            Step("rf", "rf_jump", "j = j_in·stride", f"{n(jump_in)}·{s}", after.jump, (("axis", axis),)),
            Step("rf", "rf_start", "start = start_in − pad·j_in", f"{n(before.start)} − {p}·{n(jump_in)}",
                 after.start, (("axis", axis),)),
        ]
    return steps


def _add_axis(step: Step, axis: str) -> Step:
    fields = tuple((k, f"{v}, {axis}" if k == "axis" else v) for k, v in step.fields)
    return Step(step.section, step.label, step.formula, step.substituted, step.value, fields)


def _field_as_is(row: LayerStats) -> list[Step]:
    """A field this layer does not grow: passed through, whole input, or not modelled."""
    field = row.rf
    if field is None:
        return []
    if field.whole:
        return [Step("rf", "rf_whole")]
    if field.unknown or not field.axes:
        return [Step("rf", "rf_unknown", fields=(("reason", field.unknown or "-"),))]
    sizes = "×".join(str(a.size) for a in field.axes)
    return [Step("rf", "rf_kept", fields=(("size", sizes), ("jump", str(field.axes[0].jump)),
                                          ("start", n(field.axes[0].start))))]


# -- cost ------------------------------------------------------------------------------------------


def _per_element(row: LayerStats, category: str, per: int, formula: str, sub_per: str) -> list[Step]:
    elements = math.prod(row.output_shape)
    _, flops = cost_of(row, category)
    return [Step("cost", "flops", f"elements · {formula}", f"{product(row.output_shape)} · {sub_per}",
                 check(elements * per, flops, f"{category} FLOPs"), (("category", category),))]


def _recorded_cost(analysis: Analysis, row: LayerStats) -> list[Step]:
    """Cost from the recorded ops, grouped by op: count × FLOPs, checked against the row."""
    groups: dict[tuple[str, str], list[OpStats]] = {}
    for op in analysis.ops_of(row):
        groups.setdefault((op.name, op.category or "free"), []).append(op)
    steps = [Step("cost", "op", f"{name} ×{len(ops)}", " + ".join(n(o.flops) for o in ops) if len(ops) > 1 else "",
                  sum(o.flops for o in ops), (("op", name), ("category", category)))
             for (name, category), ops in groups.items()]
    check(sum(s.value or 0 for s in steps), row.flops, "FLOPs of the recorded ops")
    return steps or [Step("cost", "no_ops", value=check(0, row.flops, "FLOPs"))]


def _totals(row: LayerStats) -> list[Step]:
    if len(row.by_category) <= 1:
        return []
    sub = " + ".join(n(c.flops) for c in row.by_category.values())
    return [Step("cost", "flops_total", "Σ FLOPs", sub, check(sum(c.flops for c in row.by_category.values()),
                                                              row.flops, "FLOPs"))]


# -- memory ----------------------------------------------------------------------------------------


def _memory(analysis: Analysis, row: LayerStats, module: nn.Module, modules: dict[str, nn.Module]) -> list[Step]:
    size = _itemsize(analysis)
    elements = math.prod(row.output_shape)
    steps: list[Step] = []
    if row.activation_bytes == elements * size:
        steps.append(Step("memory", "activation", "elements · bytes", f"{product(row.output_shape)} · {size}",
                          row.activation_bytes, bytes=True))
    elif row.activation_bytes == 0:
        steps.append(Step("memory", "activation_in_place", value=0, bytes=True))
    else:
        steps.append(Step("memory", "activation_recorded", value=row.activation_bytes, bytes=True))
    params = sum(p.numel() for p in module.parameters(recurse=False))
    if params:
        float_bytes = sum(p.numel() * (size if p.is_floating_point() else p.element_size())
                          for p in module.parameters(recurse=False))
        steps.append(Step("memory", "param_bytes", "params · bytes", f"{n(params)} · {size}",
                          float_bytes, bytes=True))
        if not row.shared:
            check(float_bytes, row.param_bytes, "parameter bytes")
    if row.shared:
        steps.append(Step("memory", "shared", fields=(("first", _first_owner(analysis, row, module, modules)),)))
    return steps


def _first_owner(analysis: Analysis, row: LayerStats, module: nn.Module, modules: dict[str, nn.Module]) -> str:
    """The first row whose module holds one of this module's parameters: where they were counted."""
    mine = {id(p) for p in module.parameters(recurse=False)}
    for earlier in analysis.layers[: row.index]:
        other = modules.get(earlier.path)
        if other is not None and mine & {id(p) for p in other.parameters(recurse=False)}:
            return earlier.path + (f" (call {earlier.call + 1})" if earlier.call else "")
    return row.path


# -- layer types -----------------------------------------------------------------------------------


def _conv(analysis: Analysis, row: LayerStats, m: nn.Module) -> list[Step]:
    assert isinstance(m, CONVS)
    dims = len(m.kernel_size)
    kernel, stride, dilation = list(m.kernel_size), list(m.stride), list(m.dilation)
    if isinstance(m.padding, str):
        same = m.padding == "same"
        padding = [d * (k - 1) // 2 if same else 0 for k, d in zip(kernel, dilation, strict=True)]
    else:
        padding = list(m.padding)
    groups, c_in, c_out = m.groups, m.in_channels, m.out_channels
    k_sym = "·".join(f"k_{a.lower()}" for a in AXES[dims])
    per_group = f"{c_in}/{groups}" if groups > 1 else f"{c_in}"
    g_sym = "C_in/groups" if groups > 1 else "C_in"
    bias = m.bias is not None
    weights = math.prod(kernel) * c_in // groups * c_out
    if bias:
        params = ("(" + k_sym + f"·{g_sym} + 1)·C_out", f"({product(kernel)}·{per_group} + 1)·{c_out}", weights + c_out)
    else:
        params = (f"{k_sym}·{g_sym}·C_out", f"{product(kernel)}·{per_group}·{c_out}", weights)
    out_elements = math.prod(row.output_shape)
    macs, flops = cost_of(row, "conv")
    mac_value = check(out_elements * (c_in // groups) * math.prod(kernel), macs, "conv MACs")
    out_sym = "N·C_out·" + "·".join(f"{a}_out" for a in AXES[dims])
    bias_part = (" + " + out_sym, f" + {n(out_elements)}") if bias else ("", "")
    return [
        *_window_output(row, kernel, stride, padding, dilation),
        _params_step(row, m, *params),
        Step("cost", "macs", f"{out_sym} · {g_sym} · {k_sym}",
             f"{product(row.output_shape)} · {per_group} · {product(kernel)}", mac_value, (("category", "conv"),)),
        Step("cost", "flops", "2·MACs" + bias_part[0], f"2·{n(mac_value)}" + bias_part[1],
             check(2 * mac_value + (out_elements if bias else 0), flops, "conv FLOPs"), (("category", "conv"),)),
        *_window_field(analysis, row, kernel, stride, padding, dilation),
    ]


def _linear(analysis: Analysis, row: LayerStats, m: nn.Module) -> list[Step]:
    assert isinstance(m, nn.Linear)
    rows = math.prod(row.input_shapes[0][:-1])
    bias = m.bias is not None
    k, o = m.in_features, m.out_features
    params = ("(in + 1)·out", f"({n(k)} + 1)·{n(o)}", (k + 1) * o) if bias else ("in·out", f"{n(k)}·{n(o)}", k * o)
    macs, flops = cost_of(row, "linear")
    mac_value = check(rows * k * o, macs, "linear MACs")
    return [
        Step("shape", "output_features", "out", n(o), check(o, row.output_shape[-1], "output features")),
        _params_step(row, m, *params),
        Step("cost", "macs", "rows·in·out", f"{n(rows)}·{n(k)}·{n(o)}", mac_value, (("category", "linear"),)),
        Step("cost", "flops", "2·MACs + rows·out" if bias else "2·MACs",
             f"2·{n(mac_value)}" + (f" + {n(rows)}·{n(o)}" if bias else ""),
             check(2 * mac_value + (rows * o if bias else 0), flops, "linear FLOPs"), (("category", "linear"),)),
        *_field_as_is(row),
    ]


def _batch_norm(analysis: Analysis, row: LayerStats, m: nn.Module) -> list[Step]:
    assert isinstance(m, BATCH_NORMS)
    # analyze records an eval forward: running statistics unless the module keeps none
    statistics = not m.track_running_stats
    per = 2 + (2 if m.affine else 0) + (4 if statistics else 0)
    sub = "(2 + 2)" if m.affine and not statistics else f"{per}"
    return [
        *_same_shape(row),
        _params_step(row, m, "2·C" if m.affine else "0", f"2·{m.num_features}" if m.affine else "0",
                     2 * m.num_features if m.affine else 0),
        *_per_element(row, "norm", per, "(2 normalise + 2 scale and shift)" if m.affine else "2", sub),
        *_field_as_is(row),
    ]


def _pool(analysis: Analysis, row: LayerStats, m: nn.Module) -> list[Step]:
    assert isinstance(m, WINDOW_POOLS)
    dims = len(_axes(row))
    kernel = _per_axis(m.kernel_size, dims)
    stride = _per_axis(m.stride if m.stride else m.kernel_size, dims)
    padding = _per_axis(m.padding, dims)
    is_max = isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d))
    dilation = _per_axis(cast("int | Sequence[int]", m.dilation), dims) if is_max else None
    window = math.prod(kernel)
    return [
        *_window_output(row, kernel, stride, padding, dilation, bool(m.ceil_mode)),
        *_listed_params(row, m),
        *_per_element(row, "pool", window, "k_h·k_w" if dims == 2 else "window", product(kernel)),
        *_window_field(analysis, row, kernel, stride, padding, dilation or [1] * dims),
    ]


def _adaptive_pool(analysis: Analysis, row: LayerStats, m: nn.Module) -> list[Step]:
    axes = _axes(row)
    size_in, size_out = row.input_shapes[0][-len(axes):], row.output_shape[-len(axes):]
    sums, subs = [], []
    for i, o in zip(size_in, size_out, strict=True):
        windows = [math.ceil((j + 1) * i / o) - (j * i) // o for j in range(o)]
        sums.append(sum(windows))
        if len(set(windows)) == 1:
            subs.append(f"{o}·{windows[0]}" if o > 1 else str(windows[0]))
        else:
            subs.append(f"({'+'.join(map(str, windows))})")
    lead = row.output_shape[: -len(axes)]
    _, flops = cost_of(row, "pool")
    value = check(math.prod(lead) * math.prod(sums), flops, "pool FLOPs")
    return [
        Step("shape", "output_size_given", "output_size", "×".join(map(str, size_out)),
             fields=(("axis", ", ".join(axes)),)),
        *_listed_params(row, m),
        Step("cost", "flops", "N·C · Σ windows", f"{product(lead)} · {'·'.join(subs)}", value,
             (("category", "pool"),)),
        *_field_as_is(row),
    ]


def _lrn(analysis: Analysis, row: LayerStats, m: nn.Module) -> list[Step]:
    assert isinstance(m, nn.LocalResponseNorm)
    return [*_same_shape(row), *_listed_params(row, m),
            *_per_element(row, "norm", m.size + 5, "(size + 5)", f"({m.size} + 5)"),
            *_recorded_cost(analysis, row), *_field_as_is(row)]


def _activation(analysis: Analysis, row: LayerStats, m: nn.Module) -> list[Step]:
    return [*_same_shape(row), *_listed_params(row, m), *_per_element(row, "activation", 1, "1", "1"),
            *_field_as_is(row)]


Explainer = Callable[[Analysis, LayerStats, nn.Module], list[Step]]
EXPLAINERS: tuple[tuple[tuple[type[nn.Module], ...], Explainer], ...] = (
    (CONVS, _conv),
    ((nn.Linear,), _linear),
    (BATCH_NORMS, _batch_norm),
    (WINDOW_POOLS, _pool),
    (ADAPTIVE_POOLS, _adaptive_pool),
    ((nn.LocalResponseNorm,), _lrn),
    (ACTIVATIONS, _activation),
)


def explain_layer(analysis: Analysis, model: nn.Module, row: LayerStats) -> LayerExplanation:
    """The steps behind a leaf row's numbers, each checked against the row."""
    modules = dict(model.named_modules())
    module = modules[row.path]
    explainer = next((fn for kinds, fn in EXPLAINERS if isinstance(module, kinds)), None)
    if explainer is not None:
        steps = explainer(analysis, row, module)
    else:
        steps = [*_same_shape(row, "output_recorded"), *_listed_params(row, module), *_recorded_cost(analysis, row),
                 *_field_as_is(row)]
    steps += _totals(row)
    steps += _memory(analysis, row, module, modules)
    order = {s: i for i, s in enumerate(SECTIONS)}
    return LayerExplanation(analysis.model, row, explainer is not None,
                            tuple(sorted(steps, key=lambda s: order[s.section])), tuple(analysis.ops_of(row)))

"""`archstat explain` for a block: the sum over its layers, and what its 1×1 convs buy.

The sum is checked against the block's row. The comparison (the lectures' "with and without")
analyses the block's counterpart on the same input with the same analyzer: an Inception module
with reductions against the naive module of the same filter counts; a ResNet bottleneck's
residual path against the same path with two 3×3 convs at full width; a stack of C → C convs
against the single conv of the same receptive field.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from archstat.analysis.analyze import analyze
from archstat.analysis.records import Analysis, LayerStats, OpStats
from archstat.models.blocks import Residual
from archstat.models.googlenet import Inception
from archstat.models.resnet import Bottleneck
from archstat.studies.explain import LayerExplanation, check, explain_layer, find_row, n


@dataclass(frozen=True, slots=True)
class Conv:
    """One conv of a variant: its path, its parameters' formula with values, the result."""

    path: str
    substituted: str
    params: int


@dataclass(frozen=True, slots=True)
class Variant:
    """One side of a comparison, as the analyzer counted it."""

    name: str                        # message id under explain.variant.
    params: int
    macs: int
    output_shape: tuple[int, ...]
    convs: tuple[Conv, ...]
    c2: str = ""                     # conv stacks: "3·3 + 3·3 + 3·3 = 27"


@dataclass(frozen=True, slots=True)
class Comparison:
    """The block without and with its 1×1 convs (for a stack: the single conv, then the stack)."""

    kind: str                        # "inception", "bottleneck", "stack"
    without: Variant
    with_: Variant

    @property
    def params_ratio(self) -> float:
        """With ÷ without, parameters."""
        return self.with_.params / self.without.params

    @property
    def macs_ratio(self) -> float:
        """With ÷ without, MACs."""
        return self.with_.macs / self.without.macs


@dataclass(frozen=True, slots=True)
class BlockExplanation:
    """A block's row as the sum of its layers and the ops its containers ran themselves."""

    model: str
    row: LayerStats
    parts: tuple[LayerStats, ...]    # the leaf rows inside the block, in execution order
    own_ops: tuple[OpStats, ...]     # ops run directly in the block's (or an inner container's) forward
    comparison: Comparison | None


def subtree(analysis: Analysis, row: LayerStats) -> list[LayerStats]:
    """Every row inside `row` (calls are in pre-order)."""
    inside = []
    for other in analysis.layers[row.index + 1:]:
        if other.depth <= row.depth:
            break
        inside.append(other)
    return inside


def explain_block(analysis: Analysis, model: nn.Module, row: LayerStats) -> BlockExplanation:
    """The block's sum over its layers, checked against its row, and its comparison where one applies."""
    inside = subtree(analysis, row)
    parts = tuple(r for r in inside if r.is_leaf)
    containers = {row.index} | {r.index for r in inside if not r.is_leaf}
    own = tuple(op for op in analysis.ops if op.call in containers)
    check(sum(r.params for r in parts), row.params, f"parameters of {row.path or analysis.model}")
    check(sum(r.macs for r in parts) + sum(op.macs for op in own), row.macs, "MACs")
    check(sum(r.flops for r in parts) + sum(op.flops for op in own), row.flops, "FLOPs")
    module = dict(model.named_modules())[row.path]
    return BlockExplanation(analysis.model, row, parts, own, _comparison(analysis, model, module, row, parts))


def _convs(analysis: Analysis, model: nn.Module, rows: list[LayerStats] | tuple[LayerStats, ...],
           prefix: str = "") -> tuple[Conv, ...]:
    modules = dict(model.named_modules())
    out = []
    for r in rows:
        if isinstance(modules.get(r.path), nn.Conv2d):
            step = next(s for s in explain_layer(analysis, model, r).steps if s.label == "params")
            assert step.value is not None
            out.append(Conv(r.path.removeprefix(prefix), step.substituted, step.value))
    return tuple(out)


def _variant(name: str, analysis: Analysis, model: nn.Module, rows: list[LayerStats] | tuple[LayerStats, ...],
             prefix: str, shape: tuple[int, ...], c2: str = "") -> Variant:
    return Variant(name, sum(r.params for r in rows), sum(r.macs for r in rows), shape,
                   _convs(analysis, model, rows, prefix), c2)


def _counterpart(module: nn.Module, row: LayerStats, label: str) -> tuple[nn.Module, Analysis]:
    return module, analyze(module, row.input_shapes[0], label=label)


def _comparison(analysis: Analysis, model: nn.Module, module: nn.Module, row: LayerStats,
                parts: tuple[LayerStats, ...]) -> Comparison | None:
    prefix = f"{row.path}." if row.path else ""
    if isinstance(module, Inception) and isinstance(module.branch3x3, nn.Sequential) and \
            hasattr(module.branch3x3, "reduce"):
        first, three, five = (_last_conv(b) for b in (module.branch1x1, module.branch3x3, module.branch5x5))
        with torch.device("meta"):
            naive = Inception(first.in_channels, first.out_channels, three.out_channels, five.out_channels)
        other, counted = _counterpart(naive, row, "naive Inception")
        base = counted.layers[0]
        without = _variant("inception_naive", counted, other, counted.leaves(), "", base.output_shape)
        return Comparison("inception", without,
                          _variant("inception_reduced", analysis, model, parts, prefix, row.output_shape))
    path = _bottleneck_path(module)
    if path is not None:
        c_in, c_out, stride = path
        with torch.device("meta"):
            full = _full_width(c_in, c_out, stride)
        other, counted = _counterpart(full, row, "3×3 at full width")
        mine = [r for r in parts if ".downsample." not in f".{r.path.removeprefix(prefix)}"]
        without = _variant("full_width", counted, other, counted.leaves(), "", counted.layers[0].output_shape)
        return Comparison("bottleneck", without,
                          _variant("bottleneck", analysis, model, mine, prefix, row.output_shape))
    return _stack_comparison(analysis, model, row, parts, prefix)


def _last_conv(branch: nn.Module) -> nn.Conv2d:
    return [m for m in branch.modules() if isinstance(m, nn.Conv2d)][-1]


def _bottleneck_path(module: nn.Module) -> tuple[int, int, int] | None:
    """(C_in, C_out, stride) of a bottleneck block's residual path, or None for another module."""
    if isinstance(module, Bottleneck):
        return module.conv1.in_channels, module.conv3.out_channels, module.stride
    if isinstance(module, Residual):
        convs = [m for m in module.body.modules() if isinstance(m, nn.Conv2d)]
        if len(convs) == 3 and convs[0].kernel_size == (1, 1):
            return convs[0].in_channels, convs[-1].out_channels, 1
    return None


def _full_width(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    """The residual path without the 1×1 convs: two 3×3 convs at the block's output width, with BN."""
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)),
        ("bn1", nn.BatchNorm2d(c_out)),
        ("relu", nn.ReLU(inplace=True)),
        ("conv2", nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)),
        ("bn2", nn.BatchNorm2d(c_out)),
    ]))  # fmt: skip


def _stack_comparison(analysis: Analysis, model: nn.Module, row: LayerStats, parts: tuple[LayerStats, ...],
                      prefix: str) -> Comparison | None:
    """Two or more C → C stride-1 convs (with activations and norms only): against one conv of their field."""
    modules = dict(model.named_modules())
    layers = [modules[r.path] for r in parts]
    convs = [m for m in layers if isinstance(m, nn.Conv2d)]
    allowed = (nn.Conv2d, nn.ReLU, nn.BatchNorm2d)
    if len(convs) < 2 or not all(isinstance(m, allowed) for m in layers):
        return None
    width = convs[0].in_channels
    if any(c.in_channels != width or c.out_channels != width or c.stride != (1, 1) or c.groups != 1
           or c.dilation != (1, 1) or c.kernel_size[0] != c.kernel_size[1] for c in convs):
        return None
    field = 1 + sum(c.kernel_size[0] - 1 for c in convs)
    bias = convs[0].bias is not None
    with torch.device("meta"):
        conv = nn.Conv2d(width, width, field, padding=field // 2, bias=bias)
    single = nn.Sequential(OrderedDict([("conv", conv)]))
    other, counted = _counterpart(single, row, f"one {field}×{field} conv")
    terms = [f"{c.kernel_size[0]}·{c.kernel_size[1]}" for c in convs]
    total = sum(c.kernel_size[0] * c.kernel_size[1] for c in convs)
    stack = _variant("stack", analysis, model, parts, prefix, row.output_shape,
                     _in_c2(" + ".join(terms), total, width, sum(c.weight.numel() for c in convs)))
    without = _variant("single_conv", counted, other, counted.leaves(), "", counted.layers[0].output_shape,
                       _in_c2(f"{field}·{field}", field * field, width, conv.weight.numel()))
    return Comparison("stack", without, stack)


def _in_c2(terms: str, total: int, width: int, weights: int) -> str:
    """"3·3 + 3·3 + 3·3 = 27 → 27·C² = 27·64² = 110,592", checked against the convs' weights."""
    check(total * width * width, weights, "weights in C²")
    return f"{terms} = {total} → {total}·C² = {total}·{width}² = {n(weights)}"


def explain(analysis: Analysis, model: nn.Module, path: str) -> LayerExplanation | BlockExplanation:
    """The derivation of the row at `path` ("" is the whole model): a layer's or a block's."""
    row = find_row(analysis, path)
    return explain_layer(analysis, model, row) if row.is_leaf else explain_block(analysis, model, row)

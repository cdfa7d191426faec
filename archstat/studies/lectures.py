"""The numbers behind the lectures' figures, one pure function per figure, each returning a DataFrame.

Everything is computed by the analyzer (`analyze`) or the stack calculator (`analyze_stack`) at
the time of the call; nothing here is a transcribed number. Plotting lives in
`archstat.report.figures`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from archstat.analysis.analyze import analyze
from archstat.analysis.records import Analysis, LayerStats
from archstat.analysis.rf.erf import effective_fields, seeded
from archstat.analysis.rf.stack import analyze_stack, parse_stack
from archstat.models import list_models, model_info
from archstat.registry import INPUT_SIZE_ATTR, Kind
from archstat.studies.sweep import Swept, sweep

if TYPE_CHECKING:
    import pandas as pd

MIB = 1 << 20

# Figure 7: the effective receptive field at each network's own initialisation, kept small so
# that the gallery (and its staleness test) computes it in seconds: few images, small inputs.
ERF_NETWORKS = ("plain3x3", "vgg16", "resnet50")
ERF_DISPLAY = {"plain3x3": "plain 3×3 stack", **{"vgg16": "VGG16", "resnet50": "ResNet-50"}}
ERF_INPUT = (3, 128, 128)
ERF_IMAGES = 4
ERF_SEED = 0
PLAIN_DEPTH = 16
PLAIN_WIDTH = 16
ERF_DIGITS = 3

# Figure 8: cost and memory against input size, from 96 to 512 px in steps of 32.
SWEEP_SIZES = "96:512:32"

# Figure 1: stacks of 3×3 convs against the single conv of the same field, C → C, no bias.
STACK_CHANNELS = (32, 64, 128, 256, 512)
STACK_SIZE = (56, 56)
STACKS = ("3x3x2", "3x3x3")   # against one 5×5 and one 7×7

# Figures 4 and 6: the networks the lectures contrast, with the names they go by on a slide.
DISPLAY = {"vgg16": "VGG16", "resnet50": "ResNet-50", "googlenet": "GoogLeNet"}
CONTRASTED = tuple(DISPLAY)

# Figure 5: the zoo's families, by the module that defines each network (9: the palette's 8 and a grey).
FAMILIES = {
    "lenet": "LeNet",
    "alexnet": "AlexNet, ZFNet",
    "vgg": "VGG",
    "nin": "NIN",
    "googlenet": "GoogLeNet, Inception",
    "inception_v3": "GoogLeNet, Inception",
    "inception_v4": "GoogLeNet, Inception",
    "inception_resnet_v2": "GoogLeNet, Inception",
    "resnet": "ResNet",
    "cifar_resnet": "ResNet",
    "preact_resnet": "ResNet",
    "densenet": "DenseNet",
    "mobilenet": "MobileNet, SqueezeNet, EfficientNet",
    "squeezenet": "MobileNet, SqueezeNet, EfficientNet",
    "efficientnet": "MobileNet, SqueezeNet, EfficientNet",
    "convnext": "ConvNeXt, ViT",
    "vit": "ConvNeXt, ViT",
}


@dataclass(frozen=True, slots=True)
class Pair:
    """A building block without and with its 1×1 convs: two zoo entries or option sets. `key` names
    it in the message catalogue (`figures.bottlenecks.<key>.lesson` ...), which words it in every
    language; `lesson` to `with_` are its English words, kept in the data."""

    key: str                            # "inception3a"
    lesson: str                         # "Inception 3a"
    setting: str                        # "192 → 256 ch · 28×28"
    without: str                        # "naive"
    with_: str                          # "with 1×1 reductions"
    block: tuple[str, str]              # zoo names (without, with)
    options: tuple[Mapping[str, Any], Mapping[str, Any]] = field(default=({}, {}))
    row: str = ""                       # the analysis row to measure ("" for the whole block)


# Figure 2: what the 1×1 convolution buys. DenseNet is measured on its dense block alone (the
# transition is the same in both variants), once at DenseNet-121's first block and once at its
# third, because the 1×1 only pays once the concatenated input is wide.
BOTTLENECKS = (
    Pair("inception3a", "Inception 3a", "192 → 256 ch · 28×28", "naive", "with 1×1 reductions",
         ("inception_naive", "inception_reduced")),
    Pair("resnet_block", "ResNet block", "256 ch · 56×56", "basic (two 3×3)", "bottleneck (1×1, 3×3, 1×1)",
         ("resnet_basic_block", "resnet_bottleneck_block")),
    Pair("densenet121_block1",
         "DenseNet-121 block 1", "64 → 256 ch · 6 layers, k = 32 · 56×56", "3×3 only", "1×1 to 4k, then 3×3",
         ("dense_block", "dense_block"), ({"bottleneck": False}, {"bottleneck": True}), row="denseblock"),
    Pair("densenet121_block3",
         "DenseNet-121 block 3", "256 → 1024 ch · 24 layers, k = 32 · 14×14", "3×3 only", "1×1 to 4k, then 3×3",
         ("dense_block", "dense_block"),
         ({"bottleneck": False, "layers": 24, "in_channels": 256, "size": 14},
          {"bottleneck": True, "layers": 24, "in_channels": 256, "size": 14}),
         row="denseblock"),
)


def _pct(part: float, whole: float) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


def _factor(before: int, after: int) -> float:
    return round(before / after, 2) if after else 0.0


def _analyze_zoo(name: str, options: Mapping[str, Any] | None = None, *,
                 receptive_fields: bool = True) -> tuple[nn.Module, Analysis]:
    """A zoo entry built on the meta device and analysed at its default input (or the one its options set)."""
    info = model_info(name)
    with torch.device("meta"):
        model = info.builder(**(options or {}))
    shape = (1, *getattr(model, INPUT_SIZE_ATTR, info.input_size))
    return model, analyze(model, shape, label=name, receptive_fields=receptive_fields)


def _row(analysis: Analysis, path: str) -> LayerStats:
    """The first row at `path` ("" is the whole model)."""
    return next(r for r in analysis.layers if r.path == path)


def stacked_convs(channels: Sequence[int] = STACK_CHANNELS, size: tuple[int, int] = STACK_SIZE) -> pd.DataFrame:
    """Figure 1: stacked 3×3 convs vs the single conv of the same field, weights and MACs per C.

    One row per (C, stack): C → C convs without bias at `size` ("same" padding), weights and
    MACs of both sides and the change in percent (from `analyze_stack`).
    """
    import pandas as pd

    records = []
    for spec in STACKS:
        for c in channels:
            result = analyze_stack(parse_stack(spec), channels=c, size=size)
            stack, other = result.stack, result.comparison.other
            assert stack.weights is not None and other.weights is not None
            assert stack.macs is not None and other.macs is not None
            records.append({
                "field_px": stack.rf[0],
                "channels": c,
                "size": f"{size[0]}x{size[1]}",
                "stack": stack.spec,
                "single": other.spec,
                "stack_weights_c2": stack.weights_c2,
                "single_weights_c2": other.weights_c2,
                "stack_weights": stack.weights,
                "single_weights": other.weights,
                "stack_macs": stack.macs,
                "single_macs": other.macs,
                "weights_change_pct": result.comparison.weights_change_pct,
                "macs_change_pct": result.comparison.macs_change_pct,
                "stack_nonlinearities": stack.nonlinearities,
                "single_nonlinearities": other.nonlinearities,
            })
    return pd.DataFrame.from_records(records)


def bottlenecks(pairs: Sequence[Pair] = BOTTLENECKS) -> pd.DataFrame:
    """Figure 2: parameters and MACs of each block without and with its 1×1 convs.

    Parameters include biases and batch norm; a factor is without ÷ with (above 1: the 1×1 saves),
    a ratio with ÷ without.
    """
    import pandas as pd

    records = []
    for pair in pairs:
        measured = [_row(_analyze_zoo(name, opts)[1], pair.row) for name, opts in zip(pair.block, pair.options,
                                                                                       strict=True)]
        before, after = measured
        records.append({
            "pair": pair.key,
            "lesson": pair.lesson,
            "setting": pair.setting,
            "without": pair.without,
            "with": pair.with_,
            "params_without": before.params,
            "params_with": after.params,
            "params_factor": _factor(before.params, after.params),
            "params_ratio": _factor(after.params, before.params),
            "macs_without": before.macs,
            "macs_with": after.macs,
            "macs_factor": _factor(before.macs, after.macs),
            "macs_ratio": _factor(after.macs, before.macs),
        })
    return pd.DataFrame.from_records(records)


def _vgg_names(model: nn.Module, leaves: Sequence[LayerStats]) -> dict[str, str]:
    """The paper's layer names: conv<block>_<i>, pool<block>, fc6, fc7, fc8."""
    modules = dict(model.named_modules())
    names: dict[str, str] = {}
    block, conv, fc = 1, 0, 6
    for row in leaves:
        module = modules[row.path]
        if isinstance(module, nn.Conv2d):
            conv += 1
            names[row.path] = f"conv{block}_{conv}"
        elif isinstance(module, nn.MaxPool2d):
            names[row.path] = f"pool{block}"
            block, conv = block + 1, 0
        elif isinstance(module, nn.Linear):
            names[row.path] = f"fc{fc}"
            fc += 1
    return names


def vgg_memory_params(name: str = "vgg16") -> pd.DataFrame:
    """Figure 3: per-layer activation memory and parameters of a VGG, with cumulative shares.

    One row per leaf that holds parameters or writes an output (convs, pools, FC layers; in-place
    ReLUs and dropout write nothing); shares are of the whole network's totals.
    """
    import pandas as pd

    model, analysis = _analyze_zoo(name)
    shares = [c for c in analysis.cumulative if c.row.params or c.row.activation_bytes]
    names = _vgg_names(model, [c.row for c in shares])
    total_bytes, total_params = analysis.totals.activation_bytes, analysis.totals.params
    records = []
    for share in shares:
        row = share.row
        records.append({
            "layer": names.get(row.path, row.path),
            "path": row.path,
            "type": row.type,
            "output_shape": "x".join(map(str, row.output_shape)),
            "activation_bytes": row.activation_bytes,
            "activation_mib": round(row.activation_bytes / MIB, 3),
            "activation_pct": _pct(row.activation_bytes, total_bytes),
            "activation_cum_pct": _pct(share.activation_bytes, total_bytes),
            "params": row.params,
            "params_pct": _pct(row.params, total_params),
            "params_cum_pct": _pct(share.params, total_params),
        })
    return pd.DataFrame.from_records(records)


def _subtree_end(layers: Sequence[LayerStats], row: LayerStats) -> int:
    """One past the last call inside `row` (calls are in pre-order)."""
    return next((r.index for r in layers[row.index + 1:] if r.depth <= row.depth), len(layers))


def rf_growth_curves(names: Sequence[str] = CONTRASTED) -> pd.DataFrame:
    """Figure 4: how the receptive field grows along each network, against the compute spent.

    One row per step of `analysis.growth.rows` where the largest field seen so far grows; x is
    the MACs of every layer executed up to and including that layer. `covers_input` marks the
    first row whose field spans the whole input.
    """
    import pandas as pd

    records = []
    for name in names:
        _, analysis = _analyze_zoo(name)
        grown = analysis.growth
        input_px = max(grown.input_size)
        largest = 0
        for step, row in enumerate(grown.rows, start=1):
            assert row.rf is not None
            size = max(axis.size for axis in row.rf.axes)
            if size <= largest:
                continue
            largest = size
            end = _subtree_end(analysis.layers, row)
            records.append({
                "model": name,
                "display": DISPLAY.get(name, name),
                "step": step,
                "path": row.path,
                "type": row.type,
                "rf_px": size,
                "jump_px": max(axis.jump for axis in row.rf.axes),
                "cum_macs": next((c.macs for c in reversed(analysis.cumulative) if c.row.index < end), 0),
                "input_px": input_px,
                "covers_input": row is grown.covering,
            })
    return pd.DataFrame.from_records(records)


def zoo_costs(kind: Kind | None = "model") -> pd.DataFrame:
    """Figure 5: every zoo network at its paper's input: MACs, activation memory and parameters.

    `inference_params` leaves out modules an inference forward does not run (GoogLeNet's and
    Inception-v3's auxiliary heads); `activation_bytes` is the lecture convention (layer outputs).
    """
    import pandas as pd

    records = []
    for info in list_models(kind=kind):
        _, analysis = _analyze_zoo(info.name, receptive_fields=False)
        t = analysis.totals
        module = info.builder.__module__.rsplit(".", 1)[-1]
        records.append({
            "model": info.name,
            "family": FAMILIES.get(module, module),
            "paper": info.paper,
            "year": info.year,
            "input": "x".join(map(str, analysis.input_shape[1:])),
            "params": t.params,
            "inference_params": t.executed_params,
            "macs": t.macs,
            "gmacs": round(t.macs / 1e9, 4),
            "activation_bytes": t.activation_bytes,
            "activation_mib": round(t.activation_bytes / MIB, 2),
        })
    return pd.DataFrame.from_records(records)


def _head(analysis: Analysis) -> list[LayerStats]:
    """The classifier: leaves with parameters after the last spatial map (2-D outputs)."""
    return [r for r in analysis.leaves() if r.params and len(r.output_shape) == 2]


def _head_input(analysis: Analysis, head: Sequence[LayerStats]) -> tuple[int, ...]:
    """The map the head starts from (C, H, W): the last spatial output before it, else the input."""
    first = head[0].index
    spatial = [r for r in analysis.leaves() if r.index < first and len(r.output_shape) == 4]
    return tuple(spatial[-1].output_shape[1:] if spatial else analysis.input_shape[1:])


def classifier_heads(blocks: Sequence[str] = ("gap_head", "fc_head"),
                     models: Sequence[str] = CONTRASTED) -> pd.DataFrame:
    """Figure 6: parameters and MACs of a GAP head and an FC head, and of the real networks' heads.

    A head is every parametrised layer after the last spatial map; it is a GAP head when that map
    has been pooled to 1×1. For the blocks `share_pct` is 100; for a network it is the head's share
    of the parameters an inference forward uses (GoogLeNet's auxiliary heads left out).
    """
    import pandas as pd

    records = []
    for name in (*blocks, *models):
        _, analysis = _analyze_zoo(name)
        head = _head(analysis)
        params = sum(r.params for r in head)
        total = analysis.totals.executed_params
        start = _head_input(analysis, head)
        pooled = all(d == 1 for d in start[1:])
        layers = f"{len(head)} FC" if len(head) > 1 else "FC"
        records.append({
            "name": name,
            "display": DISPLAY.get(name, name),
            "is_block": name in blocks,
            "input": "x".join(map(str, analysis.input_shape[1:])),
            "head": f"GAP + {layers}" if pooled else f"flatten + {layers}",
            "pooled": pooled,
            "fc_layers": len(head),
            "head_layers": ", ".join(r.path for r in head),
            "head_input": "x".join(map(str, start)),
            "head_params": params,
            "head_macs": sum(r.macs for r in head),
            "model_params": total,
            "share_pct": _pct(params, total),
        })
    return pd.DataFrame.from_records(records)


def plain_stack(depth: int = PLAIN_DEPTH, width: int = PLAIN_WIDTH, in_channels: int = 3) -> nn.Sequential:
    """`depth` 3×3 convs of `width` channels, stride 1, padding 1, each followed by a ReLU (PyTorch's
    default initialisation): the plain stack the lectures draw."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Conv2d(in_channels if i == 0 else width, width, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers)


def _erf_subject(name: str) -> tuple[nn.Module, list[str] | None]:
    """The network built from `ERF_SEED`, and its layers (None: the default, one per resolution)."""
    with seeded(ERF_SEED):
        if name == "plain3x3":
            model = plain_stack()
            return model, [str(2 * i) for i in range(PLAIN_DEPTH)]
        return model_info(name).builder(), None


def erf_vs_trf(names: Sequence[str] = ERF_NETWORKS) -> pd.DataFrame:
    """Figure 7: effective against theoretical receptive field along a plain 3×3 stack, VGG16 and ResNet-50.

    Each network at its own initialisation (seed `ERF_SEED`), at `ERF_INPUT`, averaged over
    `ERF_IMAGES` Gaussian inputs; one row per layer, with the network's growth exponents.
    Numbers are rounded to `ERF_DIGITS` decimals so that regenerating the gallery is byte-stable.
    """
    import pandas as pd

    records = []
    for name in names:
        model, paths = _erf_subject(name)
        analysis = analyze(model, (1, *ERF_INPUT), label=name)
        result = effective_fields(model, analysis, paths, images=ERF_IMAGES, seed=ERF_SEED)
        for layer in result.layers:
            records.append({
                "model": name,
                "display": ERF_DISPLAY.get(name, name),
                "path": layer.path,
                "depth": layer.depth,
                "trf_px": max(layer.trf),
                "erf_std_px": round(sum(layer.erf_std) / len(layer.erf_std), ERF_DIGITS),
                "r95_px": round(max(layer.r95), ERF_DIGITS),
                "ratio_95_pct": round(100 * layer.ratio_95, ERF_DIGITS - 2),
                "erf_exponent": round(result.fit.erf_exponent or 0.0, ERF_DIGITS - 1),
                "trf_exponent": round(result.fit.trf_exponent or 0.0, ERF_DIGITS - 1),
            })
    return pd.DataFrame.from_records(records)


def _size_agnostic(name: str) -> nn.Module:
    """The zoo network on meta; GoogLeNet's 7×7 average pool (the paper's, which fixes the input at
    224) becomes a global one, as torchvision has it, so that it runs at every size (the same
    arithmetic at 224)."""
    with torch.device("meta"):
        model = model_info(name).builder()
    if name == "googlenet":
        model.avgpool = nn.AdaptiveAvgPool2d(1)
    return model


def size_sweep(names: Sequence[str] = CONTRASTED, sizes: str = SWEEP_SIZES) -> pd.DataFrame:
    """Figure 8: MACs and memory of each network against its input size (batch 1, square inputs).

    One row per network and size, with the power-law exponents of MACs and activation memory
    (layer outputs) against size, and `covered_until` on the largest size the final receptive
    field still covers (from `archstat.studies.sweep`).
    """
    import pandas as pd

    records = []
    swept = Swept.of("size", sizes)
    for name in names:
        result = sweep(_size_agnostic(name), swept, label=name)
        mark = result.marks.get("rf_covers")
        for point in result.points:
            records.append({
                "model": name,
                "display": DISPLAY.get(name, name),
                "size": point.value,
                "input": "x".join(map(str, point.input_shape[1:])),
                "params": point.params,
                "macs": point.macs,
                "gmacs": round(point.macs / 1e9, 4),
                "flops": point.flops,
                "activation_bytes": point.activation_bytes,
                "activation_mib": round(point.activation_bytes / MIB, 2),
                "peak_activation_bytes": point.peak_activation_bytes,
                "training_activation_bytes": point.training_activation_bytes,
                "rf_px": max(point.rf_px) if point.rf_px else None,
                "rf_coverage": point.rf_coverage,
                "covered_until": bool(mark and mark["until"] and mark["value"] == point.value),
                "macs_exponent": round(result.fits["macs"].exponent, 2),
                "activation_exponent": round(result.fits["activation_bytes"].exponent, 2),
                "paper_input": model_info(name).input_size[-1],
            })
    return pd.DataFrame.from_records(records)

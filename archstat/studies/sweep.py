"""What-if sweeps: one model analysed on meta at each value of one knob (input size, batch,
sequence length or a builder/config option), a power law fitted to every figure, and the marks
a reader looks for (the paper's input, where the final receptive field stops or starts covering
the input).

`parse_values` reads the value lists the command line writes (`128:512:32`, `128:4096:x2`,
`1,8,64`, `224x224,320x240`); `sweep` takes them as text or as a sequence. The fits are the
least-squares line through (log x, log y): `y ≈ prefactor · x^exponent`, with r² of that line.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from archstat.analysis.analyze import analyze
from archstat.analysis.inputs import Call, InputSpec, as_call, at_batch, describe, map_call
from archstat.analysis.loading import LoadedModel, load_model
from archstat.analysis.records import Analysis
from archstat.analysis.training import GIB, GPU_MEMORY_GIB, GPU_NAMES
from archstat.errors import UsageError, abbreviate
from archstat.models import model_info

Axis = Literal["size", "batch", "seq", "option"]
AXES: tuple[Axis, ...] = ("size", "batch", "seq", "option")
Size = int | tuple[int, ...]

MAX_POINTS = 256        # a sweep longer than this is almost surely a typo in the step
MAX_VALUE = 2**31 - 1
# The figures every point carries and every fit is made for (Analysis.totals field names), then
# those only some points carry: a training step's memory (`training=True`) and the MACs per kind
# of product (`macs.conv`, `macs.linear`: products with a weight, `macs.attention`: of two activations).
FIGURES = ("params", "macs", "flops", "activation_bytes", "peak_activation_bytes", "training_activation_bytes",
           "param_bytes")
TRAINING_FIGURES = ("training_bytes", "step_activation_bytes")
MAC_KINDS = ("conv", "linear", "attention")
OPTIONAL_FIGURES = (*TRAINING_FIGURES, *(f"macs.{kind}" for kind in MAC_KINDS))
# A breakpoint fit is tried when one power law leaves this much of the log-variance unexplained
# and there are at least BREAK_MIN points on each side (the break point itself counted in both).
BREAK_R2 = 0.9999
BREAK_MIN = 3
BREAK_GAIN = 0.1        # the exponents on both sides must differ by this much to be worth a break

_RANGE = re.compile(r"\s*(\d+)\s*:\s*(\d+)\s*(?::\s*(x?)\s*(\d+(?:\.\d+)?)\s*)?", re.IGNORECASE)


# -- the values swept ---------------------------------------------------------------------------------

def parse_range(text: str, what: str) -> tuple[int, ...] | None:
    """`START:STOP:STEP` (arithmetic) or `START:STOP:xFACTOR` (geometric), STOP included when
    reached; None when `text` is not a range. A range that is empty or runs the wrong way is a
    one-line error naming `what`."""
    match = _RANGE.fullmatch(text)
    if match is None:
        if ":" in text:
            raise UsageError(f"malformed {what} {abbreviate(text)}: write START:STOP:STEP or START:STOP:xFACTOR, "
                             "like 128:512:32 or 128:4096:x2")
        return None
    start, stop, geometric, step_text = int(match[1]), int(match[2]), bool(match[3]), match[4]
    if start <= 0:
        raise UsageError(f"{what} {text}: the start must be a positive integer")
    if stop < start:
        raise UsageError(f"{what} {text}: the end {stop} is below the start {start}")
    if step_text is None:
        raise UsageError(f"{what} {text}: give a step, like {start}:{stop}:32 or {start}:{stop}:x2")
    step = float(step_text)
    if geometric and step <= 1:
        raise UsageError(f"{what} {text}: the factor must be above 1, like x2")
    if not geometric and (step != int(step) or step < 1):
        raise UsageError(f"{what} {text}: the step must be a positive integer")
    values: list[int] = []
    current = float(start)
    while round(current) <= stop and len(values) <= MAX_POINTS:
        value = round(current)
        if not values or value != values[-1]:
            values.append(value)
        current = current * step if geometric else current + step
    return _checked(values, text, what)


def _checked(values: Sequence[Any], text: str, what: str) -> tuple[Any, ...]:
    if len(values) > MAX_POINTS:
        raise UsageError(f"{what} {abbreviate(text)}: more than {MAX_POINTS} points; take a larger step")
    seen: list[Any] = []
    for v in values:
        if v in seen:
            raise UsageError(f"{what} {abbreviate(text)}: {label_of(v, 'option')} is given twice")
        seen.append(v)
    return tuple(values)


def split_list(text: str) -> list[str]:
    """`a,b,(1, 2)` → ["a", "b", "(1, 2)"]: commas inside brackets or quotes do not split."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _positive(part: str, text: str, what: str) -> int:
    if not (part.isascii() and part.isdigit()) or int(part) <= 0 or int(part) > MAX_VALUE:
        raise UsageError(f"malformed {what} {abbreviate(text)}: {abbreviate(part)} is not a positive integer")
    return int(part)


def parse_values(axis: Axis, text: str | Sequence[Any], what: str | None = None) -> tuple[Any, ...]:
    """The values of a size, batch or sequence sweep, from text (a range or a comma list; sizes
    also as HxW) or from a sequence; every problem is one UsageError naming `what`."""
    what = what or f"--{axis}"
    if axis == "option":
        raise UsageError("option values are parsed by the caller; pass them as a sequence")
    if not isinstance(text, str):
        return _checked([_normal(axis, v, what) for v in text], repr(list(text)), what)
    if not text.strip():
        raise UsageError(f"{what} is empty: give a range like 128:512:32 or a list like 1,8,64")
    ranged = parse_range(text, what)
    if ranged is not None:
        return ranged
    values: list[Any] = []
    for part in split_list(text):
        if axis == "size" and re.search(r"[x×]", part, re.IGNORECASE):
            dims = tuple(_positive(p.strip(), text, what) for p in re.split(r"[x×]", part, flags=re.IGNORECASE))
            values.append(dims[0] if len(set(dims)) == 1 and len(dims) == 2 else dims)
        else:
            values.append(_positive(part, text, what))
    return _checked(values, text, what)


def _normal(axis: Axis, value: Any, what: str) -> Any:
    if axis == "size" and isinstance(value, (tuple, list)):
        dims = tuple(_normal("batch", v, what) for v in value)
        return dims[0] if len(set(dims)) == 1 and len(dims) == 2 else dims
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_VALUE:
        raise UsageError(f"{what}: {value!r} is not a positive integer")
    return value


def label_of(value: Any, axis: Axis = "size") -> str:
    """How a swept value is written: 224, 224x320 (a size), 0.5, A, (6, 12)."""
    if axis == "size" and isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return "x".join(map(str, value))
    if isinstance(value, str):
        return value
    return repr(value) if not isinstance(value, (int, float)) or isinstance(value, bool) else f"{value:g}"


def _literal(text: str) -> Any:
    """An option value: a Python literal (True, None, 0.5, (6, 12)), else the text itself."""
    lowered = text.strip().lower()
    if lowered in ("true", "false", "none"):
        return {"true": True, "false": False, "none": None}[lowered]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text.strip()


@dataclass(frozen=True, slots=True)
class Swept:
    """What a sweep varies: the axis, its name (the option's key for an option) and the values."""

    axis: Axis
    name: str
    values: tuple[Any, ...]

    @classmethod
    def of(cls, axis: Axis, values: str | Sequence[Any], name: str | None = None) -> Swept:
        """Values as text or a sequence; `name` is required for an option."""
        if axis not in AXES:
            raise UsageError(f"unknown sweep axis {axis!r}: choose one of {', '.join(AXES)}")
        if axis == "option":
            if not name:
                raise UsageError("an option sweep needs the option's name")
            parsed = parse_range(values, f"-O {name}") if isinstance(values, str) else None
            items = list(parsed if parsed is not None else
                         (map(_literal, split_list(values)) if isinstance(values, str) else values))
            if not items:
                raise UsageError(f"-O {name}: no values to sweep")
            return cls(axis, name, _checked(items, ",".join(label_of(v, axis) for v in items), f"-O {name}"))
        return cls(axis, axis, parse_values(axis, values))

    @property
    def numeric(self) -> bool:
        """Whether every value is a number a power law can be fitted against."""
        return all(_x_of(v) is not None for v in self.values)


def _x_of(value: Any) -> float | None:
    """The number a value stands for on a log axis: the side of a square (√(H·W) for HxW), else itself."""
    if isinstance(value, bool):
        return None
    if isinstance(value, tuple) and value and all(isinstance(v, int) for v in value):
        return math.prod(value) ** (1 / len(value))
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    return None


# -- one point ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SweepPoint:
    """The headline figures of one analysed point (totals of `Analysis`, see its conventions)."""

    value: Any
    label: str                        # the value as written (`label_of`)
    input_shape: tuple[int, ...]
    inputs: str                       # every input, as `describe` names them
    params: int
    macs: int
    flops: int
    activation_bytes: int             # layer outputs (the lecture convention)
    peak_activation_bytes: int        # peak live tensors in an inference forward
    training_activation_bytes: int    # saved for backward
    param_bytes: int
    rf_px: tuple[int, ...] | None     # final receptive field, size per spatial axis
    rf_coverage: float | None         # final field over the input, the smaller axis (1 or more: covers it)
    rf_covers: bool | None            # some layer's field spans the whole input
    partial: bool
    macs_by_kind: Mapping[str, int] = field(default_factory=dict)   # MAC_KINDS present at this point
    training_bytes: int | None = None         # a training step's memory (TrainingMemory.total_bytes)
    step_activation_bytes: int | None = None  # its activations (TrainingMemory.activation_bytes)

    @property
    def x(self) -> float | None:
        return _x_of(self.value)

    def figure(self, name: str) -> int | None:
        """A figure of `FIGURES` or `OPTIONAL_FIGURES` by name; None where the point has none."""
        if name.startswith("macs."):
            return self.macs_by_kind.get(name.removeprefix("macs."))
        value: int | None = getattr(self, name)
        return value

    def to_dict(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "value": value if isinstance(value, (int, float, str, bool, list)) or value is None else repr(value),
            "label": self.label,
            "input_shape": list(self.input_shape),
            "inputs": self.inputs,
            **{name: getattr(self, name) for name in FIGURES},
            "rf_px": list(self.rf_px) if self.rf_px else None,
            "rf_coverage": self.rf_coverage,
            "rf_covers": self.rf_covers,
            "partial": self.partial,
            "macs_by_kind": dict(self.macs_by_kind),
            "training_bytes": self.training_bytes,
            "step_activation_bytes": self.step_activation_bytes,
        }


def point_of(value: Any, analysis: Analysis, axis: Axis = "size") -> SweepPoint:
    """One point from one analysis."""
    t = analysis.totals
    grown = analysis.growth
    final = grown.final
    sizes = tuple(a.size for a in final.rf.axes) if final is not None and final.rf is not None else None
    coverage = (round(min(s / i for s, i in zip(sizes, grown.input_size, strict=False)), 4)
                if sizes and grown.input_size else None)
    conv, linear = (t.by_category[c].macs if c in t.by_category else 0 for c in ("conv", "linear"))
    kinds = {"conv": conv, "linear": linear - t.attention_macs, "attention": t.attention_macs}
    memory = analysis.training.memory if analysis.training is not None else None
    return SweepPoint(
        value=value, label=label_of(value, axis), input_shape=analysis.input_shape, inputs=analysis.inputs,
        params=t.params, macs=t.macs,
        flops=t.flops, activation_bytes=t.activation_bytes, peak_activation_bytes=t.peak_activation_bytes,
        training_activation_bytes=t.saved_bytes(), param_bytes=t.param_bytes, rf_px=sizes,
        rf_coverage=coverage, rf_covers=(grown.covering is not None) if sizes else None, partial=t.partial,
        macs_by_kind={kind: n for kind, n in kinds.items() if n > 0},
        training_bytes=memory.total_bytes if memory is not None else None,
        step_activation_bytes=memory.activation_bytes if memory is not None else None,
    )


# -- fits ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Break:
    """Two power laws meeting at `at`: one up to it, one beyond."""

    at: float
    below: float          # exponent up to `at`
    beyond: float         # exponent beyond `at`
    r2: float             # of both lines together, on log y

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "exponent_below": self.below, "exponent_beyond": self.beyond, "r2": self.r2}


@dataclass(frozen=True, slots=True)
class Fit:
    """`y ≈ prefactor · x^exponent`, least squares on (log x, log y); r² on log y."""

    exponent: float
    prefactor: float
    r2: float
    points: int
    breakpoint: Break | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"exponent": self.exponent, "prefactor": self.prefactor, "r2": self.r2, "points": self.points,
                "breakpoint": self.breakpoint.to_dict() if self.breakpoint else None}


def _line(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float]:
    """Slope, intercept and residual sum of squares of the least-squares line."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    intercept = my - slope * mx
    sse = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return slope, intercept, sse


def _r2(sse: float, ys: Sequence[float]) -> float:
    my = sum(ys) / len(ys)
    sst = sum((y - my) ** 2 for y in ys)
    # a constant figure is fitted exactly by exponent 0; relative to its size, rounding is no misfit
    return 1.0 if sst <= 1e-24 * max(1.0, my * my) else max(0.0, 1 - sse / sst)


def fit_power_law(xs: Sequence[float], ys: Sequence[float]) -> Fit | None:
    """The power law through the points (None for fewer than 2 distinct x or a y that is not
    positive); with `BREAK_MIN` points or more on each side of some point and a first fit below
    `BREAK_R2`, the best two-piece fit too, when its exponents differ by `BREAK_GAIN` or more."""
    pairs = sorted((x, y) for x, y in zip(xs, ys, strict=True))
    if len({x for x, _ in pairs}) < 2 or any(x <= 0 or y <= 0 for x, y in pairs):
        return None
    lx, ly = [math.log(x) for x, _ in pairs], [math.log(y) for _, y in pairs]
    slope, intercept, sse = _line(lx, ly)
    r2 = _r2(sse, ly)
    found = None
    if r2 < BREAK_R2 and len(pairs) >= 2 * BREAK_MIN - 1:
        best = None
        for k in range(BREAK_MIN - 1, len(pairs) - BREAK_MIN + 1):
            left, right = _line(lx[: k + 1], ly[: k + 1]), _line(lx[k:], ly[k:])
            if best is None or left[2] + right[2] < best[0]:
                best = (left[2] + right[2], k, left[0], right[0])
        assert best is not None
        total, k, below, beyond = best
        if abs(beyond - below) >= BREAK_GAIN:
            found = Break(pairs[k][0], round(below, 4), round(beyond, 4), round(_r2(total, ly), 6))
    return Fit(round(slope, 4), float(f"{math.exp(intercept):.6g}"), round(r2, 6), len(pairs), found)


# -- the sweep ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Sweep:
    """Every point of a sweep, the power law of each figure against the swept value, and the marks.

    `fits` is keyed by figure: `FIGURES`, and `OPTIONAL_FIGURES` where every point has one
    (`training_bytes`, `step_activation_bytes`, `macs.conv`, `macs.linear`, `macs.attention`).
    `marks` holds, where they apply: `paper_input` (the zoo's input size, for a size sweep),
    `default` (the builder's default for a swept option), `rf_covers` (where the final receptive
    field stops covering the input, `{"value", "until": True}`, or starts to, `{"value", "until": False}`),
    `gpu` (with a training step: per GPU size the step passes, the first value whose step no longer
    fits, `[{"gib", "name", "value", "label", "training_bytes"}]`).
    """

    model: str
    swept: Swept
    points: tuple[SweepPoint, ...]
    fits: Mapping[str, Fit]
    marks: Mapping[str, Any]
    dtype: str
    device: str = "meta"
    fixed_options: Mapping[str, Any] = field(default_factory=dict)
    training: Mapping[str, Any] | None = None   # {"optimizer", "amp", "freeze", "gpu_memory"} with a training step

    def to_dict(self) -> dict[str, Any]:
        """`{"model", "swept", "points", "fits", "marks", ...}` with raw numbers."""
        return {
            "model": self.model,
            "swept": {"axis": self.swept.axis, "name": self.swept.name,
                      "values": [p.to_dict()["value"] for p in self.points]},
            "dtype": self.dtype,
            "device": self.device,
            "options": {k: repr(v) if not isinstance(v, (int, float, str, bool)) else v
                        for k, v in self.fixed_options.items()},
            "points": [p.to_dict() for p in self.points],
            "fits": {name: fit.to_dict() for name, fit in self.fits.items()},
            "training": dict(self.training) if self.training is not None else None,
            "marks": {name: [dict(m) for m in mark] if isinstance(mark, (list, tuple)) else dict(mark)
                      for name, mark in self.marks.items()},
        }


ProgressFn = Callable[[int, int, str], None]


def sweep(
    model: str | nn.Module,
    swept: Swept,
    *,
    options: Mapping[str, Any] | None = None,
    input_shape: Sequence[int] | None = None,
    inputs: Any = None,
    seq: int | None = None,
    dtype: str | torch.dtype = torch.float32,
    label: str | None = None,
    progress: ProgressFn | None = None,
    training: bool = False,
    freeze: Sequence[str] = (),
    optimizer: str = "adam",
    amp: str | None = None,
    gpu_memory: Sequence[float] = GPU_MEMORY_GIB,
) -> Sweep:
    """Analyse `model` on meta at every value of `swept`; fit and mark the result.

    `options` are fixed builder (or hf: config) options; `input_shape` or `inputs` the base input
    that a size, batch or sequence sweep changes (default: the model's own). An option sweep
    builds the model once per value. `progress(i, n, label)` is called before point i of n.
    `training=True` also counts each point's training step (`freeze`, `optimizer`, `amp` as
    `analyze` takes them) and marks where its memory passes each of `gpu_memory` (GiB).
    """
    fixed = dict(options or {})
    if swept.axis == "option" and swept.name in fixed:
        raise UsageError(f"-O {swept.name} is both swept and fixed; give it once")
    if swept.axis == "option" and not isinstance(model, str):
        raise UsageError("an option sweep builds the model once per value: name it (zoo name, file.py:attr or hf:)")
    loaded = None if swept.axis == "option" else load_model(model, options=fixed, seq=seq)
    points: list[SweepPoint] = []
    for i, value in enumerate(swept.values):
        if progress is not None:
            progress(i, len(swept.values), f"{swept.name} {label_of(value, swept.axis)}")
        if swept.axis == "option":
            assert isinstance(model, str)
            here = load_model(model, options={**fixed, swept.name: value}, seq=seq)
            call = _base_call(here, input_shape, inputs)
        else:
            assert loaded is not None
            here = loaded
            call = _changed(_base_call(loaded, input_shape, inputs), swept, value, loaded.label)
        step: dict[str, Any] = dict(training=True, freeze=tuple(freeze), optimizer=optimizer, amp=amp,
                                    gpu_memory=()) if training else {}
        analysis = analyze(here.module, inputs=call, dtype=dtype, label=label or here.label,
                           saved_for_backward=True, **step)
        points.append(point_of(value, analysis, swept.axis))
    name = label or (loaded.label if loaded is not None else _label(model))
    marks = _marks(model, swept, points, gpu_memory if training else ())
    setup = {"optimizer": optimizer, "amp": amp, "freeze": list(freeze), "gpu_memory": list(gpu_memory)}
    return Sweep(name, swept, tuple(points), _fits(swept, points), marks, str(analysis.dtype), fixed_options=fixed,
                 training=setup if training else None)


def _label(model: str | nn.Module) -> str:
    return model if isinstance(model, str) else type(model).__name__


def _base_call(loaded: LoadedModel, input_shape: Sequence[int] | None, inputs: Any) -> Call:
    if inputs is not None:
        return as_call(inputs)
    if input_shape is not None:
        return Call((InputSpec(tuple(input_shape)),))
    if loaded.inputs is not None:
        return loaded.inputs
    return Call((InputSpec(loaded.input_shape),))


def _spec(item: Any) -> InputSpec:
    return item if isinstance(item, InputSpec) else InputSpec(tuple(item.shape), item.dtype)


def _changed(call: Call, swept: Swept, value: Any, label: str) -> Call:
    """The base inputs with the swept dimension set to `value`."""
    if swept.axis == "batch":
        return at_batch(call, int(value))
    if swept.axis == "seq":
        ids = [0]

        def tokens(item: Any, name: str | None) -> Any:
            spec = _spec(item)
            if spec.dtype.is_floating_point or len(spec.shape) < 2:
                return item
            ids[0] += spec.dtype != torch.bool
            return InputSpec((spec.shape[0], value, *spec.shape[2:]), spec.dtype, spec.name)

        changed = map_call(call, tokens)
        if not ids[0]:
            raise UsageError(f"--seq sweeps token inputs (integer ids, batch × sequence), and {label} takes "
                             f"{describe(call)}; sweep --size or --batch instead")
        return changed
    done = [False]

    def image(item: Any, name: str | None) -> Any:
        spec = _spec(item)
        if done[0] or not spec.dtype.is_floating_point or len(spec.shape) < 3:
            return item
        done[0] = True
        spatial = len(spec.shape) - 2
        dims = (value,) * spatial if isinstance(value, int) else tuple(value)
        if len(dims) != spatial:
            raise UsageError(f"--size {label_of(value, 'size')}: {label}'s input {describe(call)} has {spatial} "
                             f"spatial axes, so give {spatial} sizes")
        return InputSpec((*spec.shape[:2], *dims), spec.dtype, spec.name)

    changed = map_call(call, image)
    if not done[0]:
        raise UsageError(f"--size sweeps an image input (batch × channels × height × width), and {label} takes "
                         f"{describe(call)}; sweep --seq or --batch instead")
    return changed


def _fits(swept: Swept, points: Sequence[SweepPoint]) -> dict[str, Fit]:
    if not swept.numeric:
        return {}
    xs = [p.x for p in points]
    out: dict[str, Fit] = {}
    for name in (*FIGURES, *OPTIONAL_FIGURES):
        ys = [p.figure(name) for p in points]
        if any(y is None for y in ys):
            continue
        fit = fit_power_law([x for x in xs if x is not None], [y for y in ys if y is not None])
        if fit is not None:
            out[name] = fit
    return out


def gpu_passes(points: Sequence[SweepPoint], sizes: Sequence[float]) -> list[dict[str, Any]]:
    """Per GPU size (GiB), the first point whose training step no longer fits in it, in the
    order of the sizes; a size no point passes is left out."""
    passes = []
    for gib in sizes:
        first = next((p for p in points if p.training_bytes is not None and p.training_bytes > gib * GIB), None)
        if first is not None:
            passes.append({"gib": gib, "name": GPU_NAMES.get(gib), "value": first.to_dict()["value"],
                           "label": first.label, "training_bytes": first.training_bytes})
    return passes


def _marks(model: str | nn.Module, swept: Swept, points: Sequence[SweepPoint],
           gpu_memory: Sequence[float] = ()) -> dict[str, Any]:
    marks: dict[str, Any] = {}
    zoo = isinstance(model, str) and ":" not in model
    if zoo and swept.axis == "size":
        assert isinstance(model, str)
        size = model_info(model).input_size[1:]
        marks["paper_input"] = {"value": size[0] if len(set(size)) == 1 else list(size)}
    if zoo and swept.axis == "option":
        assert isinstance(model, str)
        parameter = inspect.signature(model_info(model).builder).parameters.get(swept.name)
        if parameter is not None and parameter.default is not inspect.Parameter.empty:
            marks["default"] = {"value": parameter.default}
    covers = [p.rf_covers for p in points]
    change = next((i for i, c in enumerate(covers) if c is not None and covers[0] is not None and c != covers[0]),
                  None)
    if change is not None:
        until = bool(covers[0])
        point = points[change - 1] if until else points[change]
        marks["rf_covers"] = {"value": point.to_dict()["value"], "label": point.label, "until": until,
                              "rf_px": list(point.rf_px or ())}
    passes = gpu_passes(points, gpu_memory)
    if passes:
        marks["gpu"] = passes
    return marks

"""Stacks of convs and pools written as a short spec, their receptive fields and costs.

The lecture's lesson in numbers: three 3×3 convs see the same 7×7 field as one 7×7 conv with
27·C² weights instead of 49·C² and three non-linearities instead of one (Simonyan & Zisserman
2014, arXiv:1409.1556, section 2.3).

Grammar of a spec (`parse_stack`), comma-separated layers, whitespace around commas allowed:
- conv `KxK[sS][dD][pP][xN]`: kernel kh×kw (`1x7` allowed), stride S (default 1), dilation D
  (default 1), padding P on both axes (default "same": d·(k − 1)//2 per axis), suffixes in any
  order, then `xN` repeats the layer N times: `3x3x3`, `3x3d2x3`, `7x7s2`.
- pool `maxK[sS][pP][xN]` or `avgK[sS][pP][xN]`: square kernel K, stride S (default K, as in
  PyTorch), padding P (default 0, at most K//2, as in PyTorch).

Every conv maps C → C channels without bias, so its weights are kh·kw·C² and its MACs
kh·kw·C²·H_out·W_out; pools have no weights and no MACs. Each conv brings one non-linearity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from archstat.analysis.rf.field import Field
from archstat.errors import UsageError, abbreviate

GRAMMAR = "KxK[sS][dD][pP][xN] or max|avgK[sS][pP][xN], comma-separated, e.g. 3x3x3 or 7x7s2,max3s2"
CONVENTION = "weights of C→C convs without bias, in multiples of C²; MACs = multiply-accumulates"
POOLS = ("max", "avg")
MAX_LAYERS = 1000  # a spec is typed by hand; more than this is a typo such as x10000
MAX_NUMBER = 100_000  # a kernel, stride, dilation, padding or repeat; larger is a typo too

_CONV = re.compile(r"([0-9]+)x([0-9]+)((?:[sdp][0-9]+)*)(?:x([0-9]+))?", re.ASCII)
_POOL = re.compile(r"(max|avg)([0-9]+)((?:[sp][0-9]+)*)(?:x([0-9]+))?", re.ASCII)
_SUFFIX = re.compile(r"([sdp])([0-9]+)", re.ASCII)


@dataclass(frozen=True, slots=True)
class StackLayer:
    """One conv (C → C, no bias) or pool of a stack; padding is per axis (H, W), already resolved."""

    kind: str                      # "conv", "max" or "avg"
    kernel: tuple[int, int]        # (kh, kw)
    stride: int = 1
    dilation: int = 1
    padding: tuple[int, int] = (0, 0)

    @property
    def is_conv(self) -> bool:
        return self.kind == "conv"

    @property
    def weights_c2(self) -> int:
        """Weights in multiples of C²: kh·kw for a conv, 0 for a pool."""
        return self.kernel[0] * self.kernel[1] if self.is_conv else 0

    @property
    def spec(self) -> str:
        """The layer in the spec grammar, defaults left out: `7x7s2`, `max3s2p1`."""
        kh, kw = self.kernel
        if self.is_conv:
            text = f"{kh}x{kw}"
            text += f"s{self.stride}" if self.stride != 1 else ""
            text += f"d{self.dilation}" if self.dilation != 1 else ""
            ph, pw = self.padding
            if self.padding != same_padding(self.kernel, self.dilation):
                # pH/W only arises for the synthesized single conv; a typed spec pads both axes alike
                text += f"p{ph}" if ph == pw else f"p{ph}/{pw}"
            return text
        text = f"{self.kind}{kh}" + (f"s{self.stride}" if self.stride != kh else "")
        return text + (f"p{self.padding[0]}" if self.padding[0] else "")

    def output_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """out = floor((in + 2p − d(k − 1) − 1) / s) + 1 per axis (REFERENCES.md section 2)."""
        return (
            (size[0] + 2 * self.padding[0] - self.dilation * (self.kernel[0] - 1) - 1) // self.stride + 1,
            (size[1] + 2 * self.padding[1] - self.dilation * (self.kernel[1] - 1) - 1) // self.stride + 1,
        )


def same_padding(kernel: tuple[int, int], dilation: int) -> tuple[int, int]:
    """The default conv padding, d·(k − 1)//2 per axis: the size is kept for odd kernels and stride 1."""
    return dilation * (kernel[0] - 1) // 2, dilation * (kernel[1] - 1) // 2


class _FieldSizes:
    """Per-axis (H, W) receptive field and jump of a record's `field`."""

    __slots__ = ()
    field: Field

    @property
    def rf(self) -> tuple[int, int]:
        """The receptive field's size per axis."""
        return _pair(self.field, "size")

    @property
    def jump(self) -> tuple[int, int]:
        """The effective stride per axis."""
        return _pair(self.field, "jump")


@dataclass(frozen=True, slots=True)
class StackRow(_FieldSizes):
    """One layer of the growth table, with the receptive field after it."""

    name: str                               # "conv1 3×3", "pool1 max 3×3"
    layer: StackLayer
    field: Field                            # of one unit after this layer, on the stack's input
    weights_c2: int                         # kh·kw for a conv, 0 for a pool
    weights: int | None                     # kh·kw·C², when channels are given
    macs_c2: int | None                     # kh·kw·H_out·W_out, when the size is given
    macs: int | None                        # kh·kw·C²·H_out·W_out, when channels and size are given
    output_size: tuple[int, int] | None     # (H_out, W_out), when the size is given

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the layer, its field and its costs."""
        layer = self.layer
        return {
            "name": self.name,
            "spec": layer.spec,
            "kind": layer.kind,
            "kernel": list(layer.kernel),
            "stride": layer.stride,
            "dilation": layer.dilation,
            "padding": list(layer.padding),
            "rf": list(self.rf),
            "jump": list(self.jump),
            "weights_c2": self.weights_c2,
            "weights": self.weights,
            "macs_c2": self.macs_c2,
            "macs": self.macs,
            "output_size": list(self.output_size) if self.output_size else None,
            "nonlinear": layer.is_conv,
        }


@dataclass(frozen=True, slots=True)
class StackSummary(_FieldSizes):
    """A whole stack: its rows and totals."""

    layers: tuple[StackLayer, ...]
    rows: tuple[StackRow, ...]
    field: Field                            # of one output unit on the input
    weights_c2: int
    weights: int | None
    macs_c2: int | None
    macs: int | None
    nonlinearities: int                     # one per conv
    output_size: tuple[int, int] | None

    @property
    def spec(self) -> str:
        """The stack in the spec grammar, runs of equal layers as repeats."""
        return layer_list(self.layers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready totals and rows."""
        return {
            "spec": self.spec,
            "rf": list(self.rf),
            "jump": list(self.jump),
            "padding": [axis.padding for axis in self.field.axes],
            "weights_c2": self.weights_c2,
            "weights": self.weights,
            "macs_c2": self.macs_c2,
            "macs": self.macs,
            "nonlinearities": self.nonlinearities,
            "output_size": list(self.output_size) if self.output_size else None,
            "layers": [row.to_dict() for row in self.rows],
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """The stack against another: by default the single conv of the same field and total stride."""

    other: StackSummary
    single_conv: bool                       # True: `other` is the default single rh×rw conv
    same_field: bool
    same_jump: bool
    weights_change_pct: float | None        # 100·(stack − other)/other, 1 decimal; None if other is 0
    macs_change_pct: float | None           # the same for MACs, when the size is given

    def to_dict(self) -> dict[str, Any]:
        return {
            "single_conv": self.single_conv,
            "same_field": self.same_field,
            "same_jump": self.same_jump,
            "weights_change_pct": self.weights_change_pct,
            "macs_change_pct": self.macs_change_pct,
            "other": self.other.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class StackResult:
    """What `analyze_stack` returns: the stack, what it is compared with, and the inputs used."""

    stack: StackSummary
    comparison: Comparison
    channels: int | None
    size: tuple[int, int] | None
    convention: str = CONVENTION

    def to_dict(self) -> dict[str, Any]:
        """The JSON structure documented in `archstat.report.rf_stack`."""
        return {
            "channels": self.channels,
            "size": list(self.size) if self.size else None,
            "convention": self.convention,
            "stack": self.stack.to_dict(),
            "comparison": self.comparison.to_dict(),
        }


def _pair(field: Field, attr: str) -> tuple[int, int]:
    h, w = (getattr(axis, attr) for axis in field.axes)
    return h, w


def _malformed(option: str, spec: str, detail: str) -> UsageError:
    return UsageError(f"malformed {option} {abbreviate(spec, 60)}: {detail}; expected {GRAMMAR}")


def _number(text: str, option: str, spec: str) -> int:
    """One number of a spec; more digits than a hand-typed layer has is refused before int() reads them."""
    if len(text) > len(str(MAX_NUMBER)) or int(text) > MAX_NUMBER:
        raise _malformed(option, spec, f"{abbreviate(text, 20)} is larger than {MAX_NUMBER:,}")
    return int(text)


def _parse_piece(piece: str, option: str, spec: str) -> tuple[StackLayer, int]:
    """One comma-separated piece: the layer and how many times it repeats."""
    conv = _CONV.fullmatch(piece)
    pool = _POOL.fullmatch(piece)
    match = conv or pool
    if match is None:
        raise _malformed(option, spec, f"{abbreviate(piece)} is not a layer")
    suffixes: dict[str, int] = {}
    for letter, number in _SUFFIX.findall(match.group(3)):
        if letter in suffixes:
            raise _malformed(option, spec, f"{abbreviate(piece)} gives {letter} twice")
        suffixes[letter] = _number(number, option, spec)
    repeat = _number(match.group(4), option, spec) if match.group(4) is not None else 1
    if conv is not None:
        kernel = (_number(conv.group(1), option, spec), _number(conv.group(2), option, spec))
        dilation = suffixes.get("d", 1)
        padding = (suffixes["p"],) * 2 if "p" in suffixes else same_padding(kernel, dilation)
        layer = StackLayer("conv", kernel, suffixes.get("s", 1), dilation, (padding[0], padding[1]))
    else:
        k = _number(match.group(2), option, spec)
        pad = suffixes.get("p", 0)
        layer = StackLayer(match.group(1), (k, k), suffixes.get("s", k), 1, (pad, pad))
        if pad > k // 2:
            raise _malformed(option, spec, f"{abbreviate(piece)} pads {pad}, more than half its kernel {k}")
    for what, value in (("kernel", min(layer.kernel)), ("stride", layer.stride), ("dilation", layer.dilation),
                        ("repeat", repeat)):
        if value < 1:
            raise _malformed(option, spec, f"{abbreviate(piece)} has {what} {value} (must be at least 1)")
    return layer, repeat


def parse_stack(spec: str, *, option: str = "--stack") -> tuple[StackLayer, ...]:
    """The layers of a spec such as `3x3x3` or `7x7s2,max3s2`, repeats expanded.

    `option` names the command-line option in error messages (`--stack`, `--vs`).
    Raises `UsageError` with a one-line message that names the bad piece and shows the grammar.
    """
    if not spec.strip():
        raise _malformed(option, spec, "no layers")
    layers: list[StackLayer] = []
    for number, raw in enumerate(spec.split(","), start=1):
        piece = raw.strip().lower()
        if not piece:
            raise _malformed(option, spec, f"layer {number} is empty")
        layer, repeat = _parse_piece(piece, option, spec)
        if len(layers) + repeat > MAX_LAYERS:
            raise _malformed(option, spec, f"more than {MAX_LAYERS} layers")
        layers.extend([layer] * repeat)
    return tuple(layers)


def _grow(layers: tuple[StackLayer, ...], channels: int | None,
          size: tuple[int, int] | None) -> StackSummary:
    """Walk the stack: the field after each layer via `Field.then`, and each layer's costs."""
    field = Field.of_input(2)
    counts = {"conv": 0, "pool": 0}
    rows: list[StackRow] = []
    current = size
    for layer in layers:
        field = field.then(layer.kernel, (layer.stride,) * 2, layer.padding, (layer.dilation,) * 2)
        kernel_text = f"{layer.kernel[0]}×{layer.kernel[1]}"
        group = "conv" if layer.is_conv else "pool"
        counts[group] += 1
        name = f"{group}{counts[group]} " + ("" if layer.is_conv else f"{layer.kind} ") + kernel_text
        macs_c2 = None
        if current is not None:
            out = layer.output_size(current)
            if min(out) < 1:
                given = "x".join(map(str, size or ()))
                raise UsageError(
                    f"input {given} is too small for {layer_list(layers)}: {name} would output {out[0]}x{out[1]}"
                )
            current = out
            macs_c2 = layer.weights_c2 * out[0] * out[1]
        rows.append(StackRow(
            name=name,
            layer=layer,
            field=field,
            weights_c2=layer.weights_c2,
            weights=layer.weights_c2 * channels**2 if channels is not None else None,
            macs_c2=macs_c2,
            macs=macs_c2 * channels**2 if macs_c2 is not None and channels is not None else None,
            output_size=current,
        ))
    return StackSummary(
        layers=layers,
        rows=tuple(rows),
        field=field,
        weights_c2=sum(r.weights_c2 for r in rows),
        weights=sum(r.weights or 0 for r in rows) if channels is not None else None,
        macs_c2=sum(r.macs_c2 or 0 for r in rows) if size is not None else None,
        macs=sum(r.macs or 0 for r in rows) if size is not None and channels is not None else None,
        nonlinearities=sum(1 for layer in layers if layer.is_conv),
        output_size=current,
    )


def layer_list(layers: tuple[StackLayer, ...]) -> str:
    """The stack in the spec grammar, runs of equal layers as repeats: `3x3x2,max2s2`."""
    runs = ((layer.spec, len(list(run))) for layer, run in groupby(layers))
    return ",".join(spec if n == 1 else f"{spec}x{n}" for spec, n in runs)


def single_conv(field: Field) -> StackLayer:
    """One rh×rw conv that sees exactly the pixels one unit of `field` sees, output for output.

    Its stride is the stack's jump and its padding the stack's effective padding, so unit u of
    both covers the same input window and, with a size given, both outputs have the same size.
    """
    (rh, rw), (jh, jw) = _pair(field, "size"), _pair(field, "jump")
    if jh != jw:  # strides in a spec are square, so jumps are too
        raise ValueError(f"unequal jumps {jh}, {jw}")
    ph, pw = (axis.padding for axis in field.axes)
    return StackLayer("conv", (rh, rw), stride=jh, dilation=1, padding=(ph, pw))


def _change_pct(new: int | None, old: int | None) -> float | None:
    if new is None or old is None or old == 0:
        return None
    return round(100 * (new - old) / old, 1)


def analyze_stack(layers: tuple[StackLayer, ...], *, vs: tuple[StackLayer, ...] | None = None,
                  channels: int | None = None, size: tuple[int, int] | None = None) -> StackResult:
    """Receptive field and costs of `layers`, compared with `vs` or with the single conv of the same field.

    `channels` (C, for C → C convs) adds absolute weights and, with `size` (H, W of the input),
    MACs; `size` alone adds output sizes and MACs in multiples of C².
    """
    if not layers:
        raise UsageError("the stack has no layers")
    if vs is not None and not vs:
        raise UsageError("--vs has no layers")
    if channels is not None and channels < 1:
        raise UsageError(f"--channels must be at least 1, got {channels}")
    if size is not None and (len(size) != 2 or min(size) < 1):
        raise UsageError(f"--size must be two positive numbers HxW, got {'x'.join(map(str, size))}")
    stack = _grow(layers, channels, size)
    other = _grow(vs if vs is not None else (single_conv(stack.field),), channels, size)
    comparison = Comparison(
        other=other,
        single_conv=vs is None,
        same_field=stack.rf == other.rf,
        same_jump=stack.jump == other.jump,
        weights_change_pct=_change_pct(stack.weights_c2, other.weights_c2),
        macs_change_pct=_change_pct(stack.macs_c2, other.macs_c2),
    )
    return StackResult(stack=stack, comparison=comparison, channels=channels, size=size)

"""Receptive fields: the closed form for one spatial axis, and how layers and merges change it.

For a chain of layers with kernel k, stride s, dilation d and padding p (effective kernel
k' = d·(k − 1) + 1), per axis:
- size r_L = 1 + Σ_l (k'_l − 1) · Π_{i<l} s_i
- jump (effective stride) j_L = Π_l s_l
- start = −Σ_l p_l · Π_{i<l} s_i, the input coordinate of the first pixel output unit 0 sees,
  so unit u sees input pixels [start + u·j, start + u·j + r − 1] and is centred on
  u·j + start + (r − 1)/2.
Where paths merge (a residual add, an Inception or DenseNet concat) the field of the result is
the union of the inputs' fields: the largest of them when they are aligned (same jump, same
centre); otherwise it is marked unaligned, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class AxisField:
    """The receptive field of output unit 0 along one spatial axis, in input pixels."""

    size: int = 1
    jump: int = 1
    start: int = 0

    @property
    def padding(self) -> int:
        """The effective padding P (how far unit 0's field reaches before the input)."""
        return -self.start

    def center(self, unit: int = 0) -> float:
        """The input coordinate at the centre of output unit `unit`'s field."""
        return self.start + unit * self.jump + (self.size - 1) / 2

    def span(self, unit: int) -> tuple[int, int]:
        """First and last input pixel that output unit `unit` sees (may fall outside the input)."""
        first = self.start + unit * self.jump
        return first, first + self.size - 1

    def then(self, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> AxisField:
        """The field after one more conv or pool layer."""
        reach = dilation * (kernel - 1) + 1
        return AxisField(
            size=self.size + (reach - 1) * self.jump,
            jump=self.jump * stride,
            start=self.start - padding * self.jump,
        )

    def shifted(self, pixels: int) -> AxisField:
        """The field after padding the map by `pixels` before its first unit."""
        return replace(self, start=self.start - pixels * self.jump)


@dataclass(frozen=True, slots=True)
class Field:
    """The receptive field of a feature map: one `AxisField` per spatial axis (H, W).

    `whole` marks maps whose every unit sees the whole input (after global pooling or flatten);
    `unaligned` says why merged paths disagree in jump or centre; `unknown` why an op's effect
    on the field is not modelled (a transposed conv, a spatial reshape), rather than a guess.
    """

    axes: tuple[AxisField, ...] = ()
    whole: bool = False
    unaligned: str | None = None
    unknown: str | None = None

    @staticmethod
    def not_modelled(reason: str) -> Field:
        """A map whose field archstat does not model, with the reason."""
        return Field(unknown=reason)

    @staticmethod
    def of_input(spatial: int = 2) -> Field:
        """An input map: every unit sees itself."""
        return Field(axes=tuple(AxisField() for _ in range(spatial)))

    @staticmethod
    def whole_input() -> Field:
        """Every unit sees the whole input."""
        return Field(whole=True)

    def then(self, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int],
             dilation: Sequence[int]) -> Field:
        """The field after a conv or pool over the last len(axes) axes."""
        if self.whole or self.unknown:
            return self
        axes = tuple(
            axis.then(kernel[i], stride[i], padding[i], dilation[i]) for i, axis in enumerate(self.axes)
        )
        return replace(self, axes=axes)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: size, stride (jump) and padding per axis, or whole_input."""
        if self.whole:
            return {"whole_input": True}
        if self.unknown:
            return {"unknown": self.unknown}
        out: dict[str, object] = {
            "size": [a.size for a in self.axes],
            "stride": [a.jump for a in self.axes],
            "padding": [a.padding for a in self.axes],
        }
        if self.unaligned:
            out["unaligned"] = self.unaligned
        return out


def merge(fields: Sequence[Field]) -> Field:
    """The field of a map computed from several maps (add, mul, cat): the union of their fields."""
    unknown = next((f for f in fields if f.unknown), None)
    if unknown is not None:
        return unknown
    if not fields or any(f.whole for f in fields):
        return Field.whole_input()
    rank = len(fields[0].axes)
    if any(len(f.axes) != rank for f in fields):
        return Field.not_modelled("merged maps of different spatial rank")
    reasons = [f.unaligned for f in fields if f.unaligned]
    axes = []
    for i in range(rank):
        column = [f.axes[i] for f in fields]
        first = min(a.start for a in column)
        last = max(a.start + a.size - 1 for a in column)
        jumps = {a.jump for a in column}
        centers = {a.center() for a in column}
        if len(jumps) > 1:
            reasons.append(f"axis {i}: merged jumps {sorted(jumps)}")
        elif len(centers) > 1:
            reasons.append(f"axis {i}: merged centres {sorted(centers)}")
        axes.append(AxisField(size=last - first + 1, jump=max(jumps), start=first))
    return Field(axes=tuple(axes), unaligned="; ".join(dict.fromkeys(reasons)) or None)

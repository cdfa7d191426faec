"""The accuracy-versus-operations bubble chart of Canziani, Paszke & Culurciello 2016 ("An Analysis
of Deep Neural Network Models for Practical Applications", arXiv:1605.07678, figure 2): one bubble
per model at (operations, top-1), its area proportional to the parameter count.

Where the paper's x axis is linear in G-Ops, ours is GMACs on a log scale, so the cheap networks
(MobileNetV2, SqueezeNet, AlexNet) do not pile up at the left edge. The figure is drawn at the
shared style's fixed size, which lets the labels be placed in pixels: each goes to the free spot
nearest its bubble, away from the other labels and bubbles, with a leader line when it had to move
away. Nothing here computes a metric; the rows come from `archstat.studies.compare`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from archstat.errors import ArchstatError, UsageError
from archstat.report import style, units
from archstat.report.output import atomic_write
from archstat.studies.compare import ComparisonRow

if TYPE_CHECKING:
    import plotly.graph_objects as go

PLOT_FORMATS = {".html": "html", ".svg": "svg", ".png": "png", ".pdf": "pdf"}
REFERENCE_PARAMS = (5_000_000, 50_000_000, 150_000_000)   # the size legend's bubbles
MAX_DIAMETER = 64          # px, of the largest of the reference bubbles and the models
MIN_RADIUS = 4             # px, so that the smallest networks stay visible
LABEL_SIZE = 15            # px; smaller than the axes' text so 20+ names fit
MAIN_DOMAIN = (0.0, 0.85)  # x share of the plot area for the chart; the size legend takes the rest
LEGEND_DOMAIN = (0.9, 1.0)
_CHAR_WIDTH = 0.56         # average glyph width of a sans-serif lowercase label, in font sizes
_MAX_LISTED = 6            # models named in the subtitle as "not shown" before "and N more"


@dataclass(frozen=True, slots=True)
class Box:
    """A label's rectangle in pixels (y grows downwards, as on screen)."""

    cx: float
    cy: float
    hw: float
    hh: float

    def overlap(self, other: Box) -> float:
        dx = min(self.cx + self.hw, other.cx + other.hw) - max(self.cx - self.hw, other.cx - other.hw)
        dy = min(self.cy + self.hh, other.cy + other.hh) - max(self.cy - self.hh, other.cy - other.hh)
        return max(dx, 0.0) * max(dy, 0.0)

    def distance(self, x: float, y: float) -> float:
        """From a point to the nearest point of the box (0 inside)."""
        nx = min(max(x, self.cx - self.hw), self.cx + self.hw)
        ny = min(max(y, self.cy - self.hh), self.cy + self.hh)
        return math.hypot(x - nx, y - ny)

    def depth_into(self, x: float, y: float, r: float) -> float:
        """How far a circle of radius r at (x, y) reaches into the box (0 when apart)."""
        return max(r - self.distance(x, y), 0.0)


@dataclass(frozen=True, slots=True)
class _Frame:
    """Data to pixels for the chart's axes at the style's figure size."""

    left: float
    top: float
    width: float
    height: float
    x_range: tuple[float, float]   # log10 of GMACs
    y_range: tuple[float, float]   # percent

    def px(self, gmacs: float) -> float:
        lo, hi = self.x_range
        return self.left + (math.log10(gmacs) - lo) / (hi - lo) * self.width

    def py(self, top1: float) -> float:
        lo, hi = self.y_range
        return self.top + (hi - top1) / (hi - lo) * self.height


def plot_format(path: str | os.PathLike[str]) -> str:
    """"html", "svg", "png" or "pdf" from the file's suffix; a UsageError for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in PLOT_FORMATS:
        raise UsageError(f"--plot {path}: unknown suffix {suffix or '(none)'!r}; use one of "
                         f"{', '.join(PLOT_FORMATS)}")
    return PLOT_FORMATS[suffix]


def _family(name: str) -> str:
    match = re.match(r"[A-Za-z]+", name)
    return match.group(0).lower() if match else name


def colors(names: Sequence[str]) -> dict[str, str]:
    """One palette colour per model; with more models than colours, one per family (vgg, resnet, ...)."""
    palette = style.PALETTE
    if len(names) <= len(palette):
        return {name: palette[i] for i, name in enumerate(names)}
    families: dict[str, str] = {}
    for name in names:
        families.setdefault(_family(name), palette[len(families) % len(palette)])
    return {name: families[_family(name)] for name in names}


def _sizeref(rows: Sequence[ComparisonRow]) -> float:
    # plotly's area mode draws a bubble of diameter sqrt(2 * size / sizeref) px.
    largest = max([*REFERENCE_PARAMS, *(r.params for r in rows)])
    return 2.0 * largest / MAX_DIAMETER**2


def _radius(params: float, sizeref: float) -> float:
    return max(math.sqrt(params / (2.0 * sizeref)), MIN_RADIUS)


def _frame(rows: Sequence[ComparisonRow]) -> _Frame:
    gmacs = [r.macs / 1e9 for r in rows]
    top1 = [r.top1 for r in rows if r.top1 is not None]
    x_lo, x_hi = math.log10(min(gmacs)) - 0.25, math.log10(max(gmacs)) + 0.25
    y_lo, y_hi = math.floor(min(top1)) - 4.0, math.ceil(max(top1)) + 3.0
    margin = {"l": 90, "r": 40, "t": 110, "b": 90}      # style.apply's margins
    width = (style.WIDTH - margin["l"] - margin["r"]) * (MAIN_DOMAIN[1] - MAIN_DOMAIN[0])
    height = style.HEIGHT - margin["t"] - margin["b"]
    return _Frame(margin["l"], margin["t"], width, height, (x_lo, x_hi), (y_lo, y_hi))


_DIRECTIONS = tuple((math.cos(a), math.sin(a)) for a in (math.radians(d) for d in range(0, 360, 20)))
_GAPS = (3.0, 10.0, 22.0, 36.0, 54.0, 76.0)
LEADER_GAP = 18.0          # px between bubble and label beyond which a leader line is drawn


@dataclass(frozen=True, slots=True)
class Label:
    box: Box
    leader: bool


def _leader_points(x: float, y: float, r: float, box: Box, n: int = 10) -> list[tuple[float, float]]:
    """Sample points of the line from the bubble's edge to the label's centre."""
    length = math.hypot(box.cx - x, box.cy - y) or 1.0
    ux, uy = (box.cx - x) / length, (box.cy - y) / length
    return [(x + ux * (r + (length - r) * k / n), y + uy * (r + (length - r) * k / n)) for k in range(n)]


@dataclass(frozen=True, slots=True)
class _Candidate:
    label: Label
    line: tuple[tuple[float, float], ...]   # samples of its leader line (empty without one)
    cost: float                             # everything that does not depend on the other labels


def _inside(box: Box, line: Sequence[tuple[float, float]]) -> int:
    return sum(box.distance(a, b) == 0.0 for a, b in line)


def place_labels(points: Sequence[tuple[float, float, float]], names: Sequence[str],
                 frame: _Frame) -> list[Label]:
    """A label per bubble (x, y, radius in px): greedy, most crowded first, then passes that move
    each label to its best spot given all the others. The cost counts overlaps with other labels,
    bubbles and leader lines, leaving the plot, and a label that sits nearer another bubble than
    its own."""

    def candidate(i: int, box: Box, preference: float) -> _Candidate:
        x, y, r = points[i]
        leader = box.distance(x, y) > r + LEADER_GAP
        line = tuple(_leader_points(x, y, r, box)) if leader else ()
        own = max(box.distance(x, y) - r, 0.0)
        total = preference
        for j, (u, v, w) in enumerate(points):
            if j == i:
                total += 400.0 * box.depth_into(u, v, w + 2)
                continue
            total += 12.0 * box.depth_into(u, v, w)
            if not leader:      # a label nearer another bubble than its own reads as that bubble's
                total += 15.0 * max(own + 6.0 - max(box.distance(u, v) - w, 0.0), 0.0)
            total += 40.0 * sum(math.hypot(a - u, b - v) < w for a, b in line)
        outside = (max(frame.left - (box.cx - box.hw), 0) + max(box.cx + box.hw - frame.left - frame.width, 0)
                   + max(frame.top - (box.cy - box.hh), 0) + max(box.cy + box.hh - frame.top - frame.height, 0))
        return _Candidate(Label(box, leader), line, total + 2000.0 * outside)

    def candidates(i: int) -> list[_Candidate]:
        x, y, r = points[i]
        hw, hh = _CHAR_WIDTH * LABEL_SIZE * len(names[i]) / 2 + 3, LABEL_SIZE * 0.65 + 1
        out = [
            # prefer close labels, and beside the bubble rather than above or below it
            candidate(i, Box(x + dx * (r + gap + hw), y + dy * (r + gap + hh), hw, hh), gap * 2.0 + abs(dy) * 4.0)
            for gap in _GAPS for dx, dy in _DIRECTIONS
        ]
        return sorted(out, key=lambda c: c.cost)

    def best(i: int, placed: dict[int, _Candidate]) -> _Candidate:
        chosen, lowest = options[i][0], math.inf
        for c in options[i]:
            if c.cost >= lowest:        # sorted by the fixed part: nothing later can win
                break
            total = c.cost
            for j, other in placed.items():
                if j != i:
                    total += 50.0 * c.label.box.overlap(other.label.box)
                    total += 300.0 * (_inside(c.label.box, other.line) + _inside(other.label.box, c.line))
            if total < lowest:
                chosen, lowest = c, total
        return chosen

    def crowding(i: int) -> int:
        x, y, _ = points[i]
        return sum(1 for (u, v, _) in points if math.hypot(u - x, v - y) < 120)

    options = [candidates(i) for i in range(len(points))]
    placed: dict[int, _Candidate] = {}
    order = sorted(range(len(points)), key=lambda i: -crowding(i))
    for sweep in range(4):
        for i in order:
            placed[i] = best(i, placed)
        if sweep == 0:
            order = order[::-1]
    return [placed[i].label for i in range(len(points))]


def _subtitle(left_out: Sequence[str]) -> str:
    text = "top-1: torchvision V1 weights, ImageNet-1k val · after Canziani et al. 2016"
    if not left_out:
        return text
    names = ", ".join(left_out[:_MAX_LISTED])
    more = f" and {len(left_out) - _MAX_LISTED} more" if len(left_out) > _MAX_LISTED else ""
    return f"{text} · not shown, no published top-1: {names}{more}"


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the chart draws each bubble and its label, in pixels of the exported figure."""

    frame: _Frame
    sizeref: float                                   # plotly's marker.sizeref for every bubble
    bubbles: tuple[tuple[float, float, float], ...]  # x, y, radius
    labels: tuple[Label, ...]


def layout(shown: Sequence[ComparisonRow]) -> Layout:
    """Bubble positions and sizes and the label placement for rows that all have a top-1."""
    frame = _frame(shown)
    sizeref = _sizeref(shown)
    bubbles = tuple((frame.px(r.macs / 1e9), frame.py(r.top1 or 0.0), _radius(r.params, sizeref)) for r in shown)
    return Layout(frame, sizeref, bubbles, tuple(place_labels(bubbles, [r.model for r in shown], frame)))


def bubble_figure(rows: Sequence[ComparisonRow]) -> go.Figure:
    """Top-1 against GMACs (log), bubble area ∝ parameters; models without a top-1 are left out."""
    import plotly.graph_objects as go

    shown = [r for r in rows if r.top1 is not None and r.macs > 0]      # a log axis has no place for 0
    left_out = [r.model for r in rows if r.top1 is None]
    if not shown:
        raise ArchstatError("none of these models has a published top-1, so there is nothing to plot")
    placed = layout(shown)
    frame, sizeref = placed.frame, placed.sizeref
    palette = colors([r.model for r in shown])
    fig = go.Figure()
    for r in shown:
        fig.add_trace(go.Scatter(
            x=[r.macs / 1e9], y=[r.top1], mode="markers", name=r.model, meta="model",
            marker={"size": [r.params], "sizemode": "area", "sizeref": sizeref, "sizemin": MIN_RADIUS,
                    "color": palette[r.model], "opacity": 0.75, "line": {"color": "#333", "width": 1}},
            customdata=[[units.exact(r.params), units.si(r.macs), units.shape(r.input_shape)]],
            hovertemplate=(f"<b>{r.model}</b><br>top-1 %{{y:.3f}}%<br>%{{customdata[1]}}MAC "
                           "at %{customdata[2]}<br>%{customdata[0]} parameters<extra></extra>"),
            showlegend=False,
        ))
    annotations = []
    for r, (x, y, radius), label in zip(shown, placed.bubbles, placed.labels, strict=True):
        dx, dy, far = label.box.cx - x, label.box.cy - y, label.leader
        annotations.append({
            # a log axis places annotations by the log of the value
            "x": math.log10(r.macs / 1e9), "y": r.top1, "text": r.model,
            "font": {"size": LABEL_SIZE, "color": "#222"}, "bgcolor": "rgba(255,255,255,0.6)", "borderpad": 0,
            "showarrow": far, "arrowhead": 0, "arrowwidth": 1, "arrowcolor": "#888", "standoff": radius,
            "ax": dx, "ay": dy, "xshift": 0 if far else dx, "yshift": 0 if far else -dy,
            "xanchor": "center", "yanchor": "middle",
        })
    fig.update_layout(annotations=annotations)   # at once: add_annotation re-validates them all each time
    _size_legend(fig, sizeref)
    style.apply(
        fig, "ImageNet top-1 against operations; bubble area ∝ parameters",
        x_title="operations per image [GMACs, log scale; 1 MAC = 2 FLOPs]", y_title="top-1 accuracy [%]",
        subtitle=_subtitle(left_out),
    )
    ticks = [m * 10.0**e for e in range(-3, 4) for m in (1, 2, 5)]
    ticks = [t for t in ticks if frame.x_range[0] <= math.log10(t) <= frame.x_range[1]]
    fig.update_layout(
        xaxis={"type": "log", "range": list(frame.x_range), "domain": list(MAIN_DOMAIN), "tickvals": ticks,
               "ticktext": [f"{t:g}" for t in ticks], "showline": True, "linecolor": "#444", "zeroline": False},
        yaxis={"range": list(frame.y_range), "showline": True, "linecolor": "#444", "zeroline": False},
        showlegend=False,
    )
    return fig


def _size_legend(fig: go.Figure, sizeref: float) -> None:
    """Reference bubbles on their own hidden axes beside the chart, drawn at the same scale."""
    import plotly.graph_objects as go

    steps = list(range(len(REFERENCE_PARAMS)))
    fig.add_trace(go.Scatter(
        x=[0.0] * len(steps), y=steps, xaxis="x2", yaxis="y2", mode="markers+text", name="size legend",
        meta="size legend", marker={"size": list(REFERENCE_PARAMS), "sizemode": "area", "sizeref": sizeref,
                                    "color": "#bbb", "opacity": 0.7, "line": {"color": "white", "width": 1}},
        text=[f"{units.si(p, 0)}" for p in REFERENCE_PARAMS], textposition="middle right",
        textfont={"size": LABEL_SIZE}, hoverinfo="skip", showlegend=False, cliponaxis=False,
    ))
    fig.update_layout(
        xaxis2={"domain": list(LEGEND_DOMAIN), "range": [-1.0, 3.0], "visible": False, "fixedrange": True},
        yaxis2={"domain": [0.25, 0.8], "range": [-0.8, len(steps) - 0.2], "visible": False, "fixedrange": True,
                "anchor": "x2"},
    )
    fig.add_annotation(
        x=sum(LEGEND_DOMAIN) / 2, y=0.82, xref="paper", yref="paper", text="parameters",
        showarrow=False, xanchor="center", yanchor="bottom", font={"size": LABEL_SIZE},
    )


def export(fig: go.Figure, path: str | os.PathLike[str]) -> None:
    """Write the figure by suffix: .html self-contained (plotly.js embedded, no CDN), or
    .svg/.png/.pdf through kaleido, which needs Chrome or Chromium (BROWSER_PATH to name one)."""
    fmt = plot_format(path)
    data: str | bytes
    if fmt == "html":
        data = fig.to_html(include_plotlyjs=True, full_html=True, include_mathjax=False,
                           config={"displaylogo": False})
    else:
        data = _static(fig, fmt)
    atomic_write(path, data)


def _static(fig: go.Figure, fmt: str) -> bytes:
    """SVG, PNG or PDF bytes through the figures' renderer (`figures.render_image`: one headless
    Chromium under archstat's control; kaleido's own sync server bound a new page to a script
    context without its renderer now and then on a loaded machine)."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        raise ArchstatError(f"writing .{fmt} needs kaleido (pip install kaleido) and Chrome or Chromium; "
                            ".html needs neither") from None
    from archstat.report.figures import render_image  # plotly's figure builders, only for an image

    try:
        return render_image(fig, fmt)
    except ArchstatError:
        raise
    except Exception as exc:  # kaleido reports a missing or broken browser in many ways
        message = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ArchstatError(f"writing .{fmt} failed in kaleido ({type(exc).__name__}: {message}); it needs "
                            "Chrome or Chromium (set BROWSER_PATH to its executable), or write .html") from exc

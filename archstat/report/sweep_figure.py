"""Figures of sweeps: one model's cost and memory against the swept value (`archstat sweep --plot`,
`archstat report --sweep`), and the gallery's lecture figure of several networks against input size.

Both only draw: every number on them (points, exponents, marks) comes from the sweep or the
DataFrame. Log axes where the values span a factor of `LOG_SPAN` or more, so that a power law is a
straight line; the fitted exponents are in the legend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from archstat.report import style
from archstat.report.messages import DEFAULT_LANG, text
from archstat.report.sweep import axis_name, law, mark_line, marks_of, present
from archstat.studies.sweep import Sweep

if TYPE_CHECKING:
    import pandas as pd

LOG_SPAN = 4.0
TICK_SIZE = 16
LABEL_SIZE = 15
MIB = 1 << 20
COUNTS = (("params", style.QUANTITY_COLORS["params"], "dot"), ("macs", style.QUANTITY_COLORS["macs"], "solid"),
          ("flops", style.PALETTE[1], "dash"))
KINDS = (("macs.conv", style.PALETTE[2], "longdash"), ("macs.linear", style.PALETTE[3], "longdash"),
         ("macs.attention", "#7B3294", "longdashdot"))
MEMORY = (("activation_bytes", style.QUANTITY_COLORS["activations"], "solid"),
          ("peak_activation_bytes", style.PALETTE[5], "dash"),
          ("training_activation_bytes", style.PALETTE[4], "dashdot"),
          ("param_bytes", style.QUANTITY_COLORS["params"], "dot"))
TRAINING = (("training_bytes", "#222", "solid"), ("step_activation_bytes", "#777", "longdash"))
GPU_COLOR = "#b22222"
GIB = 1 << 30
MARK_STYLE = {"paper_input": ("#444", "dash"), "default": ("#444", "dash"), "rf_covers": (style.QUANTITY_COLORS["rf"],
                                                                                          "dot"),
              "gpu": (GPU_COLOR, "dashdot")}
LEGEND = {"orientation": "v", "xanchor": "left", "yanchor": "top", "bgcolor": "rgba(255,255,255,0.85)",
          "font": {"size": LABEL_SIZE}}


def _log(values: Sequence[float]) -> bool:
    positive = [v for v in values if v > 0]
    return len(positive) == len(values) and len(values) > 1 and max(positive) / min(positive) >= LOG_SPAN


def _position(value: float, log: bool) -> float:
    """A data value as plotly places shapes and annotations: log10 of it on a log axis."""
    return math.log10(value) if log else value


def spread(values: Sequence[float], most: int = 7) -> list[float]:
    """At most about `most` of the values, evenly spread on a log axis, the first and last kept."""
    ordered = sorted(set(values))
    if len(ordered) <= most:
        return ordered
    gap = 0.9 * (math.log(ordered[-1]) - math.log(ordered[0])) / (most - 1)
    kept = [ordered[0]]
    for v in ordered[1:-1]:
        if math.log(v) - math.log(kept[-1]) >= gap and math.log(ordered[-1]) - math.log(v) >= gap / 2:
            kept.append(v)
    return [*kept, ordered[-1]]


def _mark_x(sweep: Sweep, mark: Any) -> Any:
    value = mark["value"]
    if isinstance(value, list):
        return math.prod(value) ** (1 / len(value))
    return value


def sweep_figure(sweep: Sweep, lang: str = DEFAULT_LANG) -> go.Figure:
    """Two panels against the swept value: counts (parameters, MACs, FLOPs, and the MACs per kind of
    product where there are several) and memory (layer outputs, peak live, saved for backward,
    weights, and with a training step its memory and activations), each trace named with its
    fitted law; a training sweep's GPU sizes are lines across the memory panel."""
    numeric = sweep.swept.numeric
    xs: list[Any] = [p.x for p in sweep.points] if numeric else [p.label for p in sweep.points]
    log_x = numeric and _log(xs)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(text("sweep.panel.counts", lang), text("sweep.panel.memory", lang)))
    optional = present(sweep)
    counts = COUNTS + tuple(k for k in KINDS if k[0] in optional)
    memory = MEMORY + tuple(t for t in TRAINING if t[0] in optional)
    for col, (group, legend) in enumerate(((counts, "legend"), (memory, "legend2")), start=1):
        for key, color, dash in group:
            ys = [p.figure(key) for p in sweep.points]
            fit = sweep.fits.get(key)
            name = law(sweep, key, fit, lang) if fit is not None else text(f"sweep.figure.{key}", lang)
            fig.add_trace(go.Scatter(
                x=xs, y=ys, name=name, mode="lines+markers", legend=legend,
                line={"color": color, "width": 3, "dash": dash}, marker={"size": 8},
                customdata=[p.label for p in sweep.points],
                hovertemplate="%{customdata}: %{y:.4s}<extra>" + name + "</extra>",
            ), row=1, col=col)
        values: list[float] = [v for key, _, _ in group for p in sweep.points if (v := p.figure(key)) is not None]
        if col == 2:
            values += [mark["gib"] * GIB for name, mark in marks_of(sweep) if name == "gpu"]
        if _log(values):
            ticks = style.ticks_125(min(values), max(values))
            fig.update_yaxes(type="log", tickvals=ticks, row=1, col=col)
        fig.update_yaxes(tickformat="~s", tickfont={"size": TICK_SIZE}, row=1, col=col)
    fig.update_yaxes(title_text=text("sweep.yaxis.counts", lang), row=1, col=1)
    fig.update_yaxes(title_text=text("sweep.yaxis.memory", lang), row=1, col=2)
    unit = text(f"sweep.unit.{sweep.swept.axis}", lang, name=sweep.swept.name)
    fig.update_xaxes(title_text=unit, tickfont={"size": TICK_SIZE})
    if log_x:
        shown = spread([x for x in xs if x is not None])
        fig.update_xaxes(type="log", tickvals=shown, ticktext=[f"{t:,.4g}" for t in shown])
    if numeric:
        _draw_marks(fig, sweep, log_x, lang)
    first = sweep.points[0]
    style.apply(fig, text("sweep.title", lang, model=sweep.model, axis=axis_name(sweep, lang)),
                subtitle=text("sweep.subtitle", lang, inputs=first.inputs if len(sweep.points) == 1 else
                              f"{first.inputs} … {sweep.points[-1].inputs}", dtype=sweep.dtype,
                              convention=text("common.macs_convention", lang)))
    fig.update_annotations(selector={"text": text("sweep.panel.counts", lang)}, font_size=style.FONT_SIZE)
    fig.update_annotations(selector={"text": text("sweep.panel.memory", lang)}, font_size=style.FONT_SIZE)
    fig.update_layout(legend={**LEGEND, "x": 0.01, "y": 0.99}, legend2={**LEGEND, "x": 0.56, "y": 0.99},
                      margin={"b": 100})
    return fig


def _merged(sweep: Sweep) -> list[tuple[str, dict[str, Any]]]:
    """The marks to draw: GPU sizes passed at the same value share one line ("80, 141 GiB")."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, mark in marks_of(sweep):
        same = next((m for n, m in out if n == "gpu" and name == "gpu" and m["label"] == mark["label"]), None)
        if same is None:
            out.append((name, dict(mark)))
        else:
            same["gib"] = f"{same['gib']:g}, {mark['gib']:g}"
            same["name"] = None
    return out


def _draw_marks(fig: go.Figure, sweep: Sweep, log_x: bool, lang: str) -> None:
    xs = [p.x for p in sweep.points if p.x is not None]
    low, high = min(xs), max(xs)
    for name, mark in marks_of(sweep):
        if name == "gpu":   # the card's memory across the memory panel
            fig.add_hline(y=mark["gib"] * GIB, line={"color": GPU_COLOR, "dash": "dot", "width": 1.5}, row=1, col=2)
    for name, mark in _merged(sweep):
        line = mark_line(sweep, name, mark, lang)
        x = _mark_x(sweep, mark)
        if not isinstance(x, (int, float)) or isinstance(x, bool) or not low <= x <= high:
            continue
        color, dash = MARK_STYLE.get(name, ("#444", "dash"))
        for col in (1, 2):   # shapes take data values, annotations log10 of them on a log axis
            fig.add_vline(x=float(x), line={"color": color, "dash": dash, "width": 2}, row=1, col=col)
            fig.add_annotation(x=_position(float(x), log_x), xref=f"x{col if col > 1 else ''}", yref="paper",
                               y=0.01, yanchor="bottom", xanchor="right", textangle=-90, showarrow=False, text=line,
                               font={"size": LABEL_SIZE - 2, "color": color}, bgcolor="rgba(255,255,255,0.8)")


# -- the gallery's lecture figure ------------------------------------------------------------------

def size_sweep_figure(df: pd.DataFrame, lang: str = DEFAULT_LANG) -> go.Figure:
    """GMACs and activation memory against input size (log-log), one colour per network; the
    legend gives each fitted exponent, a star the largest size the final field still covers."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(text("sweep.lecture.macs", lang), text("sweep.lecture.memory", lang)))
    for i, (_, part) in enumerate(df.groupby("model", sort=False)):
        first = part.iloc[0]
        color = style.PALETTE[i % len(style.PALETTE)]
        for col, (key, exponent) in enumerate((("gmacs", "macs_exponent"), ("activation_mib", "activation_exponent")),
                                              start=1):
            fig.add_trace(go.Scatter(
                x=part["size"], y=part[key], mode="lines+markers", legendgroup=first["model"],
                legend="legend" if col == 1 else "legend2",
                name=text("sweep.lecture.legend", lang, display=first["display"], exponent=f"{first[exponent]:.2f}"),
                line={"color": color, "width": 3}, marker={"size": 7},
            ), row=1, col=col)
            covered = part[part["covered_until"]]
            if len(covered):
                star = covered.iloc[0]
                fig.add_trace(go.Scatter(
                    x=[star["size"]], y=[star[key]], mode="markers", showlegend=False, hoverinfo="skip",
                    marker={"symbol": "star", "size": 20, "color": color, "line": {"color": "white", "width": 1}},
                ), row=1, col=col)
    paper = int(df["paper_input"].iloc[0])
    for col in (1, 2):   # shapes take data values, annotations log10 of them on a log axis
        fig.add_vline(x=paper, line={"color": "#444", "dash": "dash", "width": 2}, row=1, col=col)
        fig.add_annotation(x=math.log10(paper), xref=f"x{col if col > 1 else ''}", yref="paper", y=0.01,
                           yanchor="bottom", xanchor="right", textangle=-90, showarrow=False,
                           text=text("sweep.mark.paper_input", lang, value=paper),
                           font={"size": LABEL_SIZE - 1, "color": "#444"})
    sizes = sorted(df["size"].unique())
    ticks = spread(sizes, 6)
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[str(t) for t in ticks], tickfont={"size": TICK_SIZE},
                     title_text=text("sweep.unit.size", lang))
    for col, key in ((1, "gmacs"), (2, "activation_mib")):
        fig.update_yaxes(type="log", tickvals=style.ticks_125(df[key].min(), df[key].max()), tickformat="~g",
                         tickfont={"size": TICK_SIZE}, row=1, col=col)
    fig.update_yaxes(title_text=text("sweep.lecture.macs", lang), row=1, col=1)
    fig.update_yaxes(title_text=text("sweep.lecture.memory", lang), row=1, col=2)
    style.apply(fig, text("figures.size_sweep.title", lang), subtitle=text("sweep.lecture.subtitle", lang))
    for key in ("sweep.lecture.macs", "sweep.lecture.memory"):
        fig.update_annotations(selector={"text": text(key, lang)}, font_size=style.FONT_SIZE)
    fig.update_layout(legend={**LEGEND, "x": 0.01, "y": 0.99}, legend2={**LEGEND, "x": 0.56, "y": 0.99})
    return fig

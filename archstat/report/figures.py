"""The lectures' figures: plotly builders, their tables (Markdown, LaTeX, CSV), export and the gallery.

Every builder takes the DataFrame its `archstat.studies.lectures` function returns and only
draws it: numbers shown on a figure are read from the data, never computed here. `write_gallery`
writes `NN_name.<format>` for each image format and `NN_name.{md,tex,csv}` beside it.

Every word a figure or table shows comes from the message catalogue (`archstat.report.messages`,
section "figures"), in the language `lang` names; builders take `(df, lang)` and a figure's
columns are `columns(lang)`, so a figure added to `GALLERY` follows every language at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import signal
import subprocess
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from archstat.errors import ArchstatError, one_line
from archstat.report.messages import CATALOGUE, DEFAULT_LANG, check_lang, text
from archstat.report.output import atomic_write
from archstat.report.style import FONT_SIZE, HEIGHT, PALETTE, QUANTITY_COLORS, WIDTH, apply, ticks_125
from archstat.report.sweep_figure import size_sweep_figure
from archstat.report.table import Column, Document, Table
from archstat.report.writers import write_csv, write_latex, write_markdown
from archstat.studies import lectures

if TYPE_CHECKING:
    import pandas as pd

IMAGE_FORMATS = ("svg", "png", "pdf")
TABLE_FORMATS = ("md", "tex", "csv")
SYSTEM_CHROMIUM = "/usr/bin/chromium"
PNG_SCALE = 2                       # 2560×1440: crisp on a projector
CLOSE_TIMEOUT_S = 10.0              # a polite browser close takes well under a second
KILL_WAIT_S = 1.0                   # for the killed browser, and then for kaleido's tasks to end
TICK_SIZE = 16
LABEL_SIZE = 15

# Axis ticks as 10k, 1M, 10G rather than 10000, 1e+06.
LOG_TICKS = {"type": "log", "dtick": 1, "tickformat": "~s"}
STACKED = "#0072B2"                  # the design each lesson recommends
SINGLE = "#E69F00"                   # the one it replaces
MARKERS = ("circle", "square", "diamond", "triangle-up")
MARGIN = {"l": 90, "r": 40, "t": 110, "b": 90}   # style.apply's margins, for label placement


# -- tables -----------------------------------------------------------------------------------------

def _int(v: Any) -> str:
    return f"{int(v):,}"


def _pct(v: Any) -> str:
    return f"{float(v):.1f}%"


def _change(v: Any) -> str:
    return f"{float(v):+.1f}%".replace("-", "−")


def _x(v: Any) -> str:
    return f"{float(v):.2f}×"


def _g(v: Any) -> str:
    return f"{float(v) / 1e9:.2f}"


def _mib(v: Any) -> str:
    return f"{float(v):.2f}"


def _text(v: Any) -> str:
    return str(v)


Record = dict[str, Any]


def _column(header: str, key: str, fmt: Callable[[Any], str] = _int, numeric: bool = True,
            shown: bool = True) -> Column[Record]:
    """A column of a figure's table: header, the DataFrame column, how to print a cell."""
    return Column(header, key, lambda record: record[key], fmt, numeric=numeric, shown=shown)


def _text_col(header: str, key: str) -> Column[Record]:
    return _column(header, key, _text, numeric=False)


def _header(lang: str) -> Callable[[str], str]:
    """The column headers of the figures' tables in `lang`: `h("layer")`."""
    return lambda name: text(f"figures.col.{name}", lang)


def _log(axis: str, lang: str) -> str:
    return text("figures.log_scale", lang, axis=axis)


def figure_table(df: pd.DataFrame, columns: Sequence[Column[Record]], title: str = "", note: str = "") -> Table:
    """The figure's table: `columns` shown, every column of the data written to CSV, in the data's order."""
    every = [replace(c, data=False) for c in columns] + [_column(key, key, shown=False) for key in map(str, df.columns)]
    records: list[Record] = [{str(k): v for k, v in r.items()} for r in df.to_dict("records")]
    return Table.build(title, every, records, footer=note)


# -- 1. stacked 3×3 convs ---------------------------------------------------------------------------

def _spec(spec: str, lang: str = DEFAULT_LANG) -> str:
    """`3x3x2` → `2 × 3×3`, `5x5` → `one 5×5`, for a slide."""
    match = re.fullmatch(r"(\d+)x(\d+)(?:x(\d+))?", spec)
    if match is None:
        return spec
    kh, kw, n = match.groups()
    return text("figures.spec.stack", lang, n=n, kh=kh, kw=kw) if n else text("figures.spec.single", lang, kh=kh, kw=kw)


def stacked_convs_figure(df: pd.DataFrame, lang: str = DEFAULT_LANG) -> go.Figure:
    """A 2×2 grid: weights and MACs (rows) against C for each field (columns), stack vs single conv."""
    fields = [part for _, part in df.groupby("field_px", sort=True)]
    titles = [text("figures.stacked.panel", lang, stack=_spec(p["stack"].iloc[0], lang),
                   single=_spec(p["single"].iloc[0], lang), field=p["field_px"].iloc[0]) for p in fields]
    fig = make_subplots(rows=2, cols=len(fields), shared_xaxes=True, horizontal_spacing=0.08,
                        vertical_spacing=0.09, subplot_titles=titles)
    for col, part in enumerate(fields, start=1):
        last = part.iloc[-1]
        for row, quantity in ((1, "weights"), (2, "macs")):
            for side, color, dash, name in (("stack", STACKED, "solid", text("figures.stacked.legend_stack", lang)),
                                            ("single", SINGLE, "dash", text("figures.stacked.legend_single", lang))):
                fig.add_trace(go.Scatter(
                    x=part["channels"], y=part[f"{side}_{quantity}"], name=name, legendgroup=name,
                    showlegend=row == 1 and col == 1, mode="lines+markers",
                    line={"color": color, "width": 3, "dash": dash},
                    marker={"symbol": MARKERS[0] if side == "stack" else MARKERS[1], "size": 9},
                ), row=row, col=col)
            middle = math.sqrt(float(last[f"stack_{quantity}"]) * float(last[f"single_{quantity}"]))
            fig.add_annotation(
                x=math.log10(last["channels"]), y=math.log10(middle), row=row, col=col,
                text=f"<b>{_change(last[f'{quantity}_change_pct'])}</b>", showarrow=False,
                xanchor="left", xshift=12, font={"color": STACKED, "size": FONT_SIZE},
            )
        mid = part.iloc[len(part) // 2]
        fig.add_annotation(
            x=math.log10(mid["channels"]), y=math.log10(float(mid["stack_weights"])), row=1, col=col, ax=40, ay=45,
            text=f"C = {mid['channels']}: " + text("figures.vs", lang, a=f"{mid['stack_weights']:,}",
                                                   b=f"{mid['single_weights']:,}"),
            xanchor="left", yanchor="top", font={"size": LABEL_SIZE}, arrowcolor="#444",
            bgcolor="rgba(255,255,255,0.9)",
        )
    first5, first7 = fields[0].iloc[0], fields[-1].iloc[0]
    apply(fig, text("figures.stacked.title", lang), subtitle=text(
        "figures.stacked.subtitle", lang, stack5=_spec(first5["stack"], lang), stack5_c2=first5["stack_weights_c2"],
        single5_c2=first5["single_weights_c2"], stack7=_spec(first7["stack"], lang),
        stack7_c2=first7["stack_weights_c2"], single7_c2=first7["single_weights_c2"],
        size=first5["size"].replace("x", "×")))
    ticks = sorted(df["channels"].unique())
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[str(t) for t in ticks], range=[
        math.log10(ticks[0]) - 0.08, math.log10(ticks[-1]) + 0.25], tickfont={"size": TICK_SIZE})
    for col in range(1, len(fields) + 1):
        fig.update_xaxes(title_text=text("figures.stacked.x", lang), row=2, col=col)
    fig.update_yaxes(**LOG_TICKS, tickfont={"size": TICK_SIZE})
    fig.update_yaxes(title_text=text("figures.stacked.weights", lang), row=1, col=1)
    fig.update_yaxes(title_text="MACs", row=2, col=1)
    for title in titles:
        fig.update_annotations(selector={"text": title}, font_size=FONT_SIZE)
    fig.update_layout(legend={"orientation": "v", "x": 0.01, "xanchor": "left", "y": 0.99, "yanchor": "top",
                              "bgcolor": "rgba(255,255,255,0.85)", "font": {"size": LABEL_SIZE}})
    return fig


def stack_columns(lang: str = DEFAULT_LANG) -> tuple[Column[Record], ...]:
    h = _header(lang)
    return (
        _column(h("field_px"), "field_px"), _column("C", "channels"),
        _text_col(h("stack"), "stack"), _text_col(h("single"), "single"),
        _column(h("stack_weights"), "stack_weights"), _column(h("single_weights"), "single_weights"),
        _column(h("stack_macs"), "stack_macs"), _column(h("single_macs"), "single_macs"),
        _column(h("change"), "weights_change_pct", _change),
        _column(h("nonlinearities"), "stack_nonlinearities"),
    )


# -- 2. the 1×1 bottleneck --------------------------------------------------------------------------

def _factor_text(factor: float, ratio: float) -> str:
    return f"÷{factor:.2f}" if factor >= 1 else f"×{ratio:.2f}"


def _wrapped(lesson: str, setting: str) -> str:
    """A category label: the lesson wrapped to short lines, then each part of the setting on its own line."""
    small = "".join(f"<br><span style='font-size:{LABEL_SIZE - 2}px'>{part}</span>" for part in setting.split(" · "))
    return "<br>".join(textwrap.wrap(lesson, 13)) + small


def _block_text(record: Mapping[Any, Any], part: str, lang: str) -> str:
    """A block's lesson, setting or design ("without", "with") in `lang`, by the block's id."""
    return text(f"figures.bottlenecks.{record['pair']}.{part}", lang)


def bottlenecks_figure(df: pd.DataFrame, lang: str = DEFAULT_LANG) -> go.Figure:
    """Grouped bars per block, without and with its 1×1 convs, the reduction factor above each pair."""
    params_title = text("figures.bottlenecks.params", lang)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08, subplot_titles=(params_title, "MACs"))
    records = df.to_dict("records")
    labels = [_wrapped(_block_text(r, "lesson", lang), _block_text(r, "setting", lang)) for r in records]
    for col, quantity in ((1, "params"), (2, "macs")):
        for side, color, name in (("without", SINGLE, text("figures.bottlenecks.without", lang)),
                                  ("with", STACKED, text("figures.bottlenecks.with", lang))):
            fig.add_trace(go.Bar(
                x=labels, y=df[f"{quantity}_{side}"], name=name, legendgroup=name, showlegend=col == 1,
                marker_color=color, texttemplate="%{y:.3s}", textposition="outside",
                textfont={"size": LABEL_SIZE}, cliponaxis=False,
            ), row=1, col=col)
        for label, record in zip(labels, records, strict=True):
            top = max(record[f"{quantity}_without"], record[f"{quantity}_with"])
            saves = record[f"{quantity}_factor"] >= 1
            fig.add_annotation(
                x=label, y=math.log10(top), yshift=48, row=1, col=col, showarrow=False,
                text=f"<b>{_factor_text(record[f'{quantity}_factor'], record[f'{quantity}_ratio'])}</b>",
                font={"size": FONT_SIZE + 2, "color": STACKED if saves else QUANTITY_COLORS["macs"]},
            )
        values = df[[f"{quantity}_without", f"{quantity}_with"]].to_numpy()
        fig.update_yaxes(**LOG_TICKS, range=[math.log10(values.min()) - 0.5, math.log10(values.max()) + 0.55],
                         tickfont={"size": TICK_SIZE}, row=1, col=col)
    apply(fig, text("figures.bottlenecks.title", lang), subtitle=text("figures.bottlenecks.subtitle", lang))
    for title in (params_title, "MACs"):
        fig.update_annotations(selector={"text": title}, font_size=FONT_SIZE + 2)
    fig.update_xaxes(tickfont={"size": LABEL_SIZE}, tickangle=0)
    fig.update_layout(bargap=0.22, margin={"b": 150},
                      legend={"orientation": "v", "x": 0.01, "xanchor": "left", "y": 1.0, "yanchor": "top",
                              "bgcolor": "rgba(255,255,255,0.85)"})
    return fig


def bottleneck_columns(lang: str = DEFAULT_LANG) -> tuple[Column[Record], ...]:
    h = _header(lang)

    def block(header: str, key: str, part: str) -> Column[Record]:
        return Column(header, key, lambda r: _block_text(r, part, lang), _text, numeric=False)

    return (
        block(h("block"), "lesson", "lesson"), block(h("setting"), "setting", "setting"),
        block(text("figures.bottlenecks.without", lang), "without", "without"),
        block(text("figures.bottlenecks.with", lang), "with", "with"),
        _column(h("params_without"), "params_without"), _column(h("params_with"), "params_with"),
        _column(h("params_factor"), "params_factor", _x),
        _column(h("macs_without"), "macs_without"), _column(h("macs_with"), "macs_with"),
        _column(h("macs_factor"), "macs_factor", _x),
    )


# -- 3. VGG16: memory at the front, parameters at the back -----------------------------------------

def vgg_memory_params_figure(df: pd.DataFrame, lang: str = DEFAULT_LANG) -> go.Figure:
    """Two panels sharing the layer axis: activations and parameters per layer, with cumulative shares."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        specs=[[{"secondary_y": True}], [{"secondary_y": True}]])
    memory, params = QUANTITY_COLORS["memory"], QUANTITY_COLORS["params"]
    panels = ((1, "activation_mib", "activation_cum_pct", memory, text("figures.vgg.activations", lang)),
              (2, "params", "params_cum_pct", params, text("figures.vgg.params", lang)))
    for row, bars, cum, color, name in panels:
        fig.add_trace(go.Bar(x=df["layer"], y=df[bars], name=name, marker_color=color, showlegend=False),
                      row=row, col=1, secondary_y=False)
        fig.add_trace(go.Scatter(x=df["layer"], y=df[cum], name=text("figures.vgg.cumulative", lang),
                                 mode="lines+markers",
                                 line={"color": "#222", "width": 2, "dash": "dot"}, marker={"size": 6},
                                 showlegend=False), row=row, col=1, secondary_y=True)
        fig.update_yaxes(title_text=name, row=row, col=1, secondary_y=False, title_font={"color": color},
                         tickfont={"size": TICK_SIZE})
        fig.update_yaxes(title_text=text("figures.vgg.cumulative_axis", lang), row=row, col=1, secondary_y=True,
                         range=[0, 105],
                         tickvals=[0, 50, 100], ticktext=["0%", "50%", "100%"], showgrid=False,
                         tickfont={"size": TICK_SIZE}, title_font={"size": LABEL_SIZE})
    fig.update_yaxes(tickformat="~s", row=2, col=1, secondary_y=False)
    records = df.to_dict("records")
    first, second = records[0], records[1]
    top = max(records, key=lambda r: r["params"])
    before = records[records.index(top) - 1]
    box = {"showarrow": False, "xref": "paper", "yref": "paper", "xanchor": "right", "align": "right",
           "font": {"size": LABEL_SIZE + 1}, "bgcolor": "rgba(255,255,255,0.9)"}
    fig.add_annotation(x=0.9, y=0.72, text=text(
        "figures.vgg.front", lang, first=first["layer"], second=second["layer"],
        pct=f"{second['activation_cum_pct']:.1f}", top=top["layer"], memory_pct=f"{before['activation_cum_pct']:.1f}",
        params_pct=f"{before['params_cum_pct']:.1f}"), **box)
    fig.add_annotation(x=top["layer"], y=top["params"], row=2, col=1, showarrow=True, ax=-60, ay=20,
                       arrowcolor="#222", xanchor="right", font={"size": LABEL_SIZE + 1},
                       text=text("figures.vgg.top", lang, layer=top["layer"], params=f"{top['params']:,}",
                                 pct=f"{top['params_pct']:.1f}"),
                       bgcolor="rgba(255,255,255,0.9)")
    total = df["params"].sum()
    apply(fig, text("figures.vgg.title", lang), subtitle=text("figures.vgg.subtitle", lang, total=f"{total:,}"))
    fig.update_xaxes(tickangle=-45, tickfont={"size": TICK_SIZE})
    fig.update_layout(bargap=0.2)
    return fig


def vgg_columns(lang: str = DEFAULT_LANG) -> tuple[Column[Record], ...]:
    h = _header(lang)
    return (
        _text_col(h("layer"), "layer"), _text_col(h("output"), "output_shape"),
        _column(h("activations_mib"), "activation_mib", _mib),
        _column(h("cum_activations"), "activation_cum_pct", _pct),
        _column(h("params"), "params"), _column(h("cum_params"), "params_cum_pct", _pct),
    )


# -- 4. receptive-field growth ----------------------------------------------------------------------

def rf_growth_figure(df: pd.DataFrame, lang: str = DEFAULT_LANG) -> go.Figure:
    """The largest field so far against the MACs spent so far, one step line per network."""
    fig = go.Figure()
    input_px = int(df["input_px"].iloc[0])
    # where each network's "covers the input" label goes, in pixels from its star: out of the other lines' way
    offsets = ((-70, -60), (80, 70), (-70, -60))
    for i, (_, part) in enumerate(df.groupby("model", sort=False)):
        color = PALETTE[i]
        display = part["display"].iloc[0]
        fig.add_trace(go.Scatter(
            x=part["cum_macs"] / 1e9, y=part["rf_px"], name=display, mode="lines+markers", line_shape="hv",
            line={"color": color, "width": 3}, marker={"symbol": MARKERS[i], "size": 8},
        ))
        last = part.iloc[-1]
        fig.add_annotation(x=math.log10(last["cum_macs"] / 1e9), y=last["rf_px"], showarrow=False, xanchor="left",
                           xshift=10, text=f"<b>{display}</b> {last['rf_px']} px", font={"color": color})
        covering = part[part["covers_input"]]
        if len(covering):
            hit = covering.iloc[0]
            fig.add_trace(go.Scatter(x=[hit["cum_macs"] / 1e9], y=[hit["rf_px"]], mode="markers", showlegend=False,
                                     marker={"symbol": "star", "size": 20, "color": color,
                                             "line": {"color": "white", "width": 1}}))
            ax, ay = offsets[i % len(offsets)]
            fig.add_annotation(x=math.log10(hit["cum_macs"] / 1e9), y=hit["rf_px"], ax=ax, ay=ay,
                               text=text("figures.rf.covers", lang, px=input_px, path=hit["path"]),
                               font={"size": LABEL_SIZE, "color": color}, arrowcolor=color,
                               xanchor="right" if ax < 0 else "left", bgcolor="rgba(255,255,255,0.85)")
    fig.add_hline(y=input_px, line={"color": "#444", "dash": "dash", "width": 2})
    fig.add_annotation(xref="paper", x=0.01, y=input_px, yshift=12, showarrow=False, xanchor="left",
                       text=text("figures.rf.input", lang, px=input_px), font={"size": LABEL_SIZE, "color": "#444"})
    apply(fig, text("figures.rf.title", lang), x_title=_log(text("figures.rf.x", lang), lang),
          y_title=text("figures.rf.y", lang), subtitle=text("figures.rf.subtitle", lang))
    low, high = df["cum_macs"].min() / 1e9, df["cum_macs"].max() / 1e9
    ticks = ticks_125(low, high)
    fig.update_xaxes(type="log", range=[math.log10(low) - 0.15, math.log10(high) + 0.55], tickfont={"size": TICK_SIZE},
                     tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    fig.update_yaxes(rangemode="tozero", tickfont={"size": TICK_SIZE})
    fig.update_layout(legend={"orientation": "v", "x": 0.01, "xanchor": "left", "y": 0.98, "yanchor": "top",
                              "bgcolor": "rgba(255,255,255,0.85)"})
    return fig


def rf_columns(lang: str = DEFAULT_LANG) -> tuple[Column[Record], ...]:
    h = _header(lang)
    yes = text("figures.yes", lang)
    return (
        _text_col(h("model"), "display"), _text_col(h("layer"), "path"), _text_col(h("type"), "type"),
        _column(h("rf_px"), "rf_px"), _column(h("jump"), "jump_px"), _column(h("gmacs_so_far"), "cum_macs", _g),
        _column(h("covers_input"), "covers_input", lambda v: yes if bool(v) else "", numeric=False),
    )


# -- 5. the zoo: compute against memory -------------------------------------------------------------

MAX_DIAMETER, MIN_DIAMETER = 60.0, 7.0


@dataclass(frozen=True, slots=True)
class _Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def hits(self, other: _Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def hits_circle(self, cx: float, cy: float, r: float) -> bool:
        nx, ny = min(max(cx, self.x0), self.x1), min(max(cy, self.y0), self.y1)
        return (nx - cx) ** 2 + (ny - cy) ** 2 < r * r


def _place_labels(points: Sequence[tuple[str, float, float, float]], area: tuple[float, float],
                  font_size: int, *, over_bubbles: int = 0) -> dict[int, tuple[str, str, float, float]]:
    """Greedy label placement in pixels: for each point (text, x, y, radius), in order, the first
    position around its bubble that overlaps no bubble, no label placed so far and stays inside the
    plot; points with no such position stay unlabelled. The first `over_bubbles` points may cover
    other bubbles (never labels). Returns index → (xanchor, yanchor, dx, dy)."""
    width, height = area
    placed: list[_Box] = []
    out: dict[int, tuple[str, str, float, float]] = {}
    h = font_size * 1.25
    for i, (label, x, y, r) in enumerate(points):
        w = font_size * 0.56 * len(label) + 4
        gap = r + 3
        diag = gap * 0.72
        candidates = (
            ("left", "middle", gap, 0.0), ("right", "middle", -gap, 0.0),
            ("center", "bottom", 0.0, gap), ("center", "top", 0.0, -gap),
            ("left", "bottom", diag, diag), ("right", "bottom", -diag, diag),
            ("left", "top", diag, -diag), ("right", "top", -diag, -diag),
        )
        for xanchor, yanchor, dx, dy in candidates:
            left = {"left": x + dx, "right": x + dx - w, "center": x - w / 2}[xanchor]
            bottom = {"bottom": y + dy, "top": y + dy - h, "middle": y - h / 2}[yanchor]
            box = _Box(left, bottom, left + w, bottom + h)
            if box.x0 < 0 or box.x1 > width or box.y0 < 0 or box.y1 > height:
                continue
            if any(box.hits(b) for b in placed):
                continue
            if i >= over_bubbles and any(
                box.hits_circle(px, py, pr) for j, (_, px, py, pr) in enumerate(points) if j != i
            ):
                continue
            placed.append(box)
            out[i] = (xanchor, yanchor, dx, dy)
            break
    return out


def zoo_figure(df: pd.DataFrame, lang: str = DEFAULT_LANG) -> go.Figure:
    """GMACs (log) against activation memory (log), bubble area ∝ inference parameters, one colour per family."""
    fig = go.Figure()
    biggest = df["inference_params"].max()
    diameters = [max(MIN_DIAMETER, MAX_DIAMETER * math.sqrt(p / biggest)) for p in df["inference_params"]]
    sized = df.assign(diameter=diameters)
    families = list(dict.fromkeys(sized.sort_values(["year", "model"])["family"]))  # oldest family first
    # the pale yellow and then a grey to the last families
    colors = [c for c in PALETTE if c != "#F0E442"] + ["#F0E442", "#999999"]
    for i, family in enumerate(families):
        part = sized[sized["family"] == family]
        fig.add_trace(go.Scatter(
            x=part["gmacs"], y=part["activation_mib"], mode="markers", name=family,
            marker={"size": part["diameter"], "sizemode": "diameter", "color": colors[i % len(colors)],
                    "opacity": 0.7, "line": {"color": "rgba(0,0,0,0.45)", "width": 1}},
            text=part["model"], customdata=part[["inference_params", "input"]],
            hovertemplate=(f"%{{text}} ({text('figures.zoo.hover_input', lang)} %{{customdata[1]}})<br>"
                           "%{x:.3f} GMACs<br>%{y:.1f} MiB<br>"
                           f"%{{customdata[0]:,}} {text('figures.zoo.hover_params', lang)}<extra></extra>"),
        ))
    xr = [math.log10(df["gmacs"].min()) - 0.3, math.log10(df["gmacs"].max()) + 0.3]
    yr = [math.log10(df["activation_mib"].min()) - 0.4, math.log10(df["activation_mib"].max()) + 0.3]
    width = WIDTH - MARGIN["l"] - MARGIN["r"]
    height = HEIGHT - MARGIN["t"] - MARGIN["b"]

    def px(x: float, y: float) -> tuple[float, float]:
        return ((math.log10(x) - xr[0]) / (xr[1] - xr[0]) * width, (math.log10(y) - yr[0]) / (yr[1] - yr[0]) * height)

    # label first the lectures' networks, then base models before their variants (shorter names), big first
    order = sorted(sized.to_dict("records"), key=lambda r: (
        r["model"] not in lectures.CONTRASTED, len(r["model"]), -r["inference_params"]))
    points = [(r["model"], *px(r["gmacs"], r["activation_mib"]), r["diameter"] / 2) for r in order]
    famous = sum(r["model"] in lectures.CONTRASTED for r in order)
    placed = _place_labels(points, (width, height), LABEL_SIZE - 1, over_bubbles=famous)
    for i, (xanchor, yanchor, dx, dy) in placed.items():
        record = order[i]
        fig.add_annotation(x=math.log10(record["gmacs"]), y=math.log10(record["activation_mib"]),
                           text=f"<b>{record['model']}</b>" if i < famous else record["model"],
                           showarrow=False, xanchor=xanchor, yanchor=yanchor, xshift=dx, yshift=dy,
                           font={"size": LABEL_SIZE - 1, "color": "#222"},
                           bgcolor="rgba(255,255,255,0.75)" if i < famous else None)
    apply(fig, text("figures.zoo.title", lang), x_title=_log(text("figures.zoo.x", lang), lang),
          y_title=text("figures.zoo.y", lang), subtitle=text("figures.zoo.subtitle", lang))
    fig.update_xaxes(type="log", range=xr, dtick=1, tickfont={"size": TICK_SIZE})
    fig.update_yaxes(type="log", range=yr, dtick=1, tickfont={"size": TICK_SIZE})
    fig.update_layout(margin=MARGIN, legend={"orientation": "v", "x": 0.01, "xanchor": "left", "y": 0.98,
                                             "yanchor": "top", "bgcolor": "rgba(255,255,255,0.85)",
                                             "itemsizing": "constant", "font": {"size": LABEL_SIZE}})
    return fig


def zoo_columns(lang: str = DEFAULT_LANG) -> tuple[Column[Record], ...]:
    h = _header(lang)
    return (
        _text_col(h("model"), "model"), _text_col(h("family"), "family"), _column(h("year"), "year", _text),
        _text_col(h("input"), "input"),
        _column(h("params"), "params"), _column(h("inference_params"), "inference_params"),
        _column(h("gmacs"), "macs", _g), _column(h("activations_mib"), "activation_mib", _mib),
    )


# -- 6. GAP head vs FC head -------------------------------------------------------------------------

def head_text(record: Mapping[Any, Any], lang: str = DEFAULT_LANG) -> str:
    """"GAP + FC", "flatten + 3 FC": the kind of head, from its pooling and its number of FC layers."""
    n = int(record["fc_layers"])
    fc = text("figures.heads.fc_many", lang, n=n) if n > 1 else text("figures.heads.fc_one", lang)
    return text("figures.heads.gap" if record["pooled"] else "figures.heads.flatten", lang, fc=fc)


def heads_figure(df: pd.DataFrame, lang: str = DEFAULT_LANG) -> go.Figure:
    """Horizontal bars of head parameters (log), blocks first, then the real networks' heads."""
    records = df.to_dict("records")
    labels = [text("figures.heads.label", lang, head=head_text(r, lang),
                   name=text("figures.heads.block", lang, name=r["display"]) if r["is_block"] else r["display"])
              for r in records]
    texts = [f"{r['head_params']:,}" + ("" if r["is_block"] else "  " + text(
        "figures.heads.share", lang, pct=f"{r['share_pct']:.1f}", name=r["display"])) for r in records]
    colors = [STACKED if r["pooled"] else SINGLE for r in records]
    fig = go.Figure(go.Bar(
        y=labels, x=df["head_params"], orientation="h", marker_color=colors, text=texts, textposition="outside",
        textfont={"size": LABEL_SIZE + 1}, cliponaxis=False, showlegend=False,
    ))
    blocks = [r for r in records if r["is_block"]]
    apply(fig, text("figures.heads.title", lang), x_title=_log(text("figures.heads.x", lang), lang), subtitle=(
        text("figures.heads.subtitle", lang, shape=blocks[0]["input"].replace("x", "×"))
        if blocks else text("figures.heads.subtitle_networks", lang)))
    low, high = df["head_params"].min(), df["head_params"].max()
    fig.update_xaxes(**LOG_TICKS, range=[math.log10(low) - 0.4, math.log10(high) + 0.9], tickfont={"size": TICK_SIZE})
    fig.update_yaxes(autorange="reversed", tickfont={"size": LABEL_SIZE + 1}, ticksuffix="  ")
    if blocks:
        fig.add_hline(y=len(blocks) - 0.5, line={"color": "#888", "width": 1, "dash": "dot"})
    for color, name in ((STACKED, text("figures.heads.legend_gap", lang)),
                        (SINGLE, text("figures.heads.legend_flatten", lang))):
        fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", marker_color=color, name=name))
    fig.update_layout(margin={"l": 330}, bargap=0.35, legend={
        "orientation": "v", "x": 0.99, "xanchor": "right", "y": 0.02, "yanchor": "bottom",
        "font": {"size": LABEL_SIZE + 1}})
    return fig


def heads_columns(lang: str = DEFAULT_LANG) -> tuple[Column[Record], ...]:
    h = _header(lang)
    return (
        _text_col(h("network_or_block"), "name"),
        Column(h("head"), "head", lambda r: head_text(r, lang), _text, numeric=False),
        _text_col(h("layers"), "head_layers"), _text_col(h("input"), "input"), _text_col(h("head_input"), "head_input"),
        _column(h("head_params"), "head_params"), _column(h("head_macs"), "head_macs"),
        _column(h("model_params"), "model_params"), _column(h("head_share"), "share_pct", _pct),
    )


# -- the gallery ------------------------------------------------------------------------------------

# -- 7. effective vs theoretical receptive field ---------------------------------------------------

def _display(record: Mapping[Any, Any], lang: str) -> str:
    """A network's name as shown: a description from the catalogue where it has one ("plain 3×3 stack"),
    else its display name, which is a proper name in every language."""
    key = f"figures.display.{record['model']}"
    return text(key, lang) if key in CATALOGUE[lang] else str(record["display"])


def erf_vs_trf_figure(df: pd.DataFrame, lang: str = DEFAULT_LANG) -> go.Figure:
    """ERF std (solid) and TRF size (dashed) against depth, log-log, one colour per network."""
    fig = go.Figure()
    for i, (_, part) in enumerate(df.groupby("model", sort=False)):
        first = part.iloc[0]
        name = _display(first.to_dict(), lang)
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(
            x=part["depth"], y=part["trf_px"], mode="lines+markers", legendgroup=first["model"],
            name=text("figures.erf.trf", lang, name=name, exponent=f"{first['trf_exponent']:.2f}"),
            line={"color": color, "width": 2, "dash": "dash"}, marker={"symbol": MARKERS[1], "size": 8},
        ))
        fig.add_trace(go.Scatter(
            x=part["depth"], y=part["erf_std_px"], mode="lines+markers", legendgroup=first["model"],
            name=text("figures.erf.erf", lang, name=name, exponent=f"{first['erf_exponent']:.2f}"),
            line={"color": color, "width": 3}, marker={"symbol": MARKERS[0], "size": 9},
        ))
    apply(fig, text("figures.erf.title", lang), x_title=text("figures.erf.x", lang),
          y_title=text("figures.erf.y", lang), subtitle=text("figures.erf.subtitle", lang))
    fig.update_xaxes(type="log", tickvals=[1, 2, 4, 8, 16, 24], tickfont={"size": TICK_SIZE})
    fig.update_yaxes(**LOG_TICKS, tickfont={"size": TICK_SIZE})
    fig.update_layout(legend={"orientation": "v", "x": 0.01, "xanchor": "left", "y": 0.99, "yanchor": "top",
                              "bgcolor": "rgba(255,255,255,0.85)", "font": {"size": LABEL_SIZE}})
    return fig


def erf_columns(lang: str = DEFAULT_LANG) -> tuple[Column[Record], ...]:
    h = _header(lang)
    return (
        Column(h("network"), "display", lambda r: _display(r, lang), _text, numeric=False),
        _text_col(h("layer"), "path"), _column(h("depth"), "depth"),
        _column(h("trf_px"), "trf_px"), _column(h("erf_std_px"), "erf_std_px", lambda v: f"{float(v):.2f}"),
        _column(h("r95_px"), "r95_px", lambda v: f"{float(v):.1f}"),
        _column(h("ratio_95"), "ratio_95_pct", _pct),
    )


# -- 8. cost and memory against input size ----------------------------------------------------------

def sweep_columns(lang: str = DEFAULT_LANG) -> tuple[Column[Record], ...]:
    h = _header(lang)
    return (
        _text_col(h("network"), "display"), _column(h("size_px"), "size"), _column(h("params"), "params"),
        _column(h("gmacs"), "macs", _g), _column(h("activations_mib"), "activation_mib", _mib),
        _column(h("final_rf_px"), "rf_px"), _column(h("rf_over_input"), "rf_coverage", lambda v: f"{float(v):.2f}"),
        _column(h("macs_exponent"), "macs_exponent", lambda v: f"{float(v):.2f}"),
        _column(h("memory_exponent"), "activation_exponent", lambda v: f"{float(v):.2f}"),
    )


@dataclass(frozen=True, slots=True)
class GalleryFigure:
    """One figure of the gallery: its file stem, its id in the message catalogue (`figures.<key>.title`
    and `.note`), data, builder and table columns; the builder and the columns take the language."""

    name: str
    key: str
    data: Callable[[], pd.DataFrame]
    build: Callable[[pd.DataFrame, str], go.Figure]
    columns: Callable[[str], tuple[Column[Record], ...]]

    def title(self, lang: str = DEFAULT_LANG) -> str:
        return text(f"figures.{self.key}.title", lang)

    def note(self, lang: str = DEFAULT_LANG) -> str:
        return text(f"figures.{self.key}.note", lang)


GALLERY = (
    GalleryFigure("01_stacked_convs", "stacked", lectures.stacked_convs, stacked_convs_figure, stack_columns),
    GalleryFigure("02_bottlenecks", "bottlenecks", lectures.bottlenecks, bottlenecks_figure, bottleneck_columns),
    GalleryFigure("03_vgg16_memory_params", "vgg", lectures.vgg_memory_params, vgg_memory_params_figure, vgg_columns),
    GalleryFigure("04_rf_growth", "rf", lectures.rf_growth_curves, rf_growth_figure, rf_columns),
    GalleryFigure("05_zoo_bubble", "zoo", lectures.zoo_costs, zoo_figure, zoo_columns),
    GalleryFigure("06_heads", "heads", lectures.classifier_heads, heads_figure, heads_columns),
    GalleryFigure("07_erf_vs_trf", "erf", lectures.erf_vs_trf, erf_vs_trf_figure, erf_columns),
    GalleryFigure("08_size_sweep", "size_sweep", lectures.size_sweep, size_sweep_figure, sweep_columns),
)


def tables(entry: GalleryFigure, df: pd.DataFrame, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """The figure's table in every table format, by suffix, in `lang`. The Markdown goes without the
    title: reports/README.md gives each figure its heading."""
    table = figure_table(df, entry.columns(lang), entry.title(lang), entry.note(lang))
    return {
        "md": write_markdown(Document((replace(table, title=""),))),
        "tex": write_latex(Document((table,))),
        "csv": write_csv(Document((table,))),
    }


# -- export -----------------------------------------------------------------------------------------

def configure_browser() -> None:
    """Point kaleido at the system Chromium when no browser is configured."""
    if "BROWSER_PATH" not in os.environ and os.access(SYSTEM_CHROMIUM, os.X_OK):
        os.environ["BROWSER_PATH"] = SYSTEM_CHROMIUM


class _Renderer:
    """One headless Chromium driven through kaleido's async API on a private event loop.

    kaleido's own sync server runs the browser in a thread that hangs the caller when the browser
    cannot start; here every error is raised in the caller's thread. Shutting down is bounded: a
    browser that does not close in time, or any browser left when the caller is interrupted, is
    killed with its whole process group (kaleido starts it in a session of its own, so Ctrl-C in
    the terminal never reaches it, and its log-reading thread would keep Python from exiting).
    """

    def __init__(self) -> None:
        configure_browser()
        try:
            import kaleido
            from kaleido.errors import ChromeNotFoundError
        except ImportError as exc:
            raise ArchstatError("image export needs kaleido (pip install 'kaleido>=1') and Chrome or Chromium") from exc
        self._loop = asyncio.new_event_loop()
        self._kaleido: Any = None
        try:
            self._loop.run_until_complete(self._open(kaleido.Kaleido))
        except ChromeNotFoundError as exc:
            self.abort()
            raise ArchstatError(f"no Chrome or Chromium for image export: set BROWSER_PATH or install chromium "
                                f"({one_line(exc)})") from exc
        except BaseException:
            self.abort()
            raise

    async def _open(self, factory: Callable[[], Any]) -> None:
        self._kaleido = factory()   # kept before opening, so an interrupted start can still be killed
        await self._kaleido.open()

    def render(self, fig: go.Figure, fmt: str) -> bytes:
        opts = {"format": fmt, "width": WIDTH, "height": HEIGHT, "scale": PNG_SCALE if fmt == "png" else 1}
        return bytes(self._loop.run_until_complete(self._kaleido.calc_fig(fig.to_dict(), opts=opts)))

    def close(self) -> None:
        """Close the browser politely, within CLOSE_TIMEOUT_S; kill it if it is still there."""
        try:
            self._loop.run_until_complete(asyncio.wait_for(self._kaleido.close(), CLOSE_TIMEOUT_S))
        except BaseException:   # a hung close, or an interrupt while closing
            self.abort()
            raise
        self._finish()

    def abort(self) -> None:
        """Kill the browser's process group at once, then let kaleido tidy up; for interrupts and failures."""
        for name in ("choreographer", "kaleido"):   # their warnings about the killed browser are ours to tell
            logging.getLogger(name).setLevel(logging.CRITICAL)
        process = getattr(self._kaleido, "subprocess", None)
        if process is not None and process.poll() is None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                process.wait(KILL_WAIT_S)
        if self._kaleido is not None:
            # Closing the pipe first wakes choreographer's reader thread, which its own close waits
            # 2 s for when the browser has died; close() then shuts kaleido's log pipe, whose reader
            # thread would otherwise keep Python from exiting.
            with suppress(Exception):
                self._kaleido._channel.close()
            with suppress(Exception):
                self._loop.run_until_complete(asyncio.wait_for(self._kaleido.close(), KILL_WAIT_S))
        self._finish()

    def _finish(self) -> None:
        """Cancel what kaleido left running on the loop and close it, quietly."""
        if self._loop.is_closed():
            return
        # kaleido's tasks end in errors once the browser is gone; nobody is left to read them
        self._loop.set_exception_handler(lambda loop, context: None)
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        if pending:
            with suppress(BaseException):
                self._loop.run_until_complete(asyncio.wait(pending, timeout=KILL_WAIT_S))
        self._loop.close()


_session: list[_Renderer] = []   # the renderer of the innermost open image_session


@contextmanager
def image_session() -> Iterator[None]:
    """One headless browser for every export inside the block, instead of one per image."""
    renderer = _Renderer()
    _session.append(renderer)
    try:
        yield
    except BaseException:
        _session.remove(renderer)
        renderer.abort()
        raise
    _session.remove(renderer)
    renderer.close()


def _stable_svg(svg: str) -> str:
    """Replace the random plot id plotly puts in every SVG with a fixed one, so a rerun changes nothing."""
    match = re.search(r'id="defs-([0-9a-f]{6})"', svg)
    return svg.replace(match.group(1), "figure") if match else svg


def render_image(fig: go.Figure, fmt: str) -> bytes:
    """The figure as SVG, PNG or PDF bytes, through kaleido and a headless Chromium."""
    if fmt not in IMAGE_FORMATS:
        raise ArchstatError(f"unknown image format {fmt!r}; choose from {', '.join(IMAGE_FORMATS)}")
    fixed = go.Figure(fig)
    for i, trace in enumerate(fixed.data):
        trace.uid = f"trace{i}"   # plotly draws a random one into the SVG otherwise
    try:
        data = _render(fixed, fmt)
    except Exception as exc:
        if not _page_not_ready(exc):
            raise
        with image_session():   # once more, in a fresh browser of its own
            data = _session[-1].render(fixed, fmt)
    return _stable_svg(data.decode("utf-8")).encode("utf-8") if fmt == "svg" else data


def _render(fig: go.Figure, fmt: str) -> bytes:
    """In the open image_session's browser, or in one of its own."""
    if _session:
        return _session[-1].render(fig, fmt)
    with image_session():
        return _session[-1].render(fig, fmt)


def _page_not_ready(exc: Exception) -> bool:
    """Whether kaleido ran its renderer in a page that did not have it yet: on a loaded machine,
    kaleido 1.5 now and then binds a new tab to a script context before its page has loaded, and
    the render fails with "kaleido_scopes is not defined" (a fresh browser renders the figure)."""
    from kaleido.errors import JavascriptError

    return isinstance(exc, JavascriptError) and "kaleido_scopes is not defined" in str(exc)


def export(fig: go.Figure, path: str | os.PathLike[str]) -> Path:
    """Write the figure to `path` (format from the suffix: .svg, .png, .pdf), atomically."""
    target = Path(path)
    atomic_write(target, render_image(fig, target.suffix.lstrip(".").lower()))
    return target


def write_tables(entry: GalleryFigure, df: pd.DataFrame, out_dir: Path, lang: str = DEFAULT_LANG) -> list[Path]:
    """`NN_name.md`, `.tex` and `.csv` for one figure, in `lang`."""
    written = []
    for suffix, content in tables(entry, df, lang).items():
        target = out_dir / f"{entry.name}.{suffix}"
        atomic_write(target, content)
        written.append(target)
    return written


def write_gallery(out_dir: str | os.PathLike[str], formats: Sequence[str] = ("svg",), *, lang: str = DEFAULT_LANG,
                  on_figure: Callable[[GalleryFigure, list[Path]], None] | None = None) -> list[Path]:
    """Every figure as `NN_name.<format>` (for each of `formats`, none for tables only) and its tables,
    every word in `lang`.

    `on_figure` is called after each figure with the files written for it.
    """
    directory = Path(out_dir)
    check_lang(lang)
    unknown = [f for f in formats if f not in IMAGE_FORMATS]
    if unknown:
        raise ArchstatError(f"unknown image format {unknown[0]!r}; choose from {', '.join(IMAGE_FORMATS)}")
    written: list[Path] = []
    with image_session() if formats else nullcontext():
        for entry in GALLERY:
            df = entry.data()
            files = write_tables(entry, df, directory, lang)
            if formats:
                fig = entry.build(df, lang)
                files += [export(fig, directory / f"{entry.name}.{fmt}") for fmt in formats]
            written += files
            if on_figure is not None:
                on_figure(entry, files)
    if formats:
        from archstat.report.diagram_gallery import write_diagrams

        written += write_diagrams(directory, lang)
    return written

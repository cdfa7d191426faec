"""`archstat erf MODEL`: the effective receptive field per layer as a table (every format) and a figure.

The figure puts the ERF heatmap of each chosen layer (at most `MAX_PANELS`, evenly spread) in a
row, each cropped around its theoretical field, which is drawn as a box; under them, ERF std and
TRF size against depth. Everything shown is read from the `ERFResult`; the heatmaps are scaled
to each layer's peak for display.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from archstat.analysis.rf.erf import ERFResult, LayerERF
from archstat.report.messages import DEFAULT_LANG, text
from archstat.report.style import FONT_SIZE, HEIGHT, QUANTITY_COLORS, apply
from archstat.report.table import Column, Document, Note, Table, Value

MAX_PANELS = 6
ERF_COLOR = "#0072B2"
TRF_COLOR = QUANTITY_COLORS["rf"]
COLORSCALE = "Viridis"


def _pair(values: Sequence[float], digits: int = 1) -> str:
    shown = [f"{v:.{digits}f}" for v in values]
    return shown[0] if len(set(shown)) == 1 else "×".join(shown)


def _offset(values: Sequence[float]) -> str:
    return ", ".join(f"{v:+.2f}".replace("-", "−") for v in values)


def _axis(key: str, attr: str, axis: int) -> Column[LayerERF]:
    def value(layer: LayerERF) -> Value:
        raw = getattr(layer, attr)[axis]
        return round(raw, 6) if isinstance(raw, float) else raw

    return Column(key, key, value, shown=False)


ERF_COLUMNS: tuple[Column[LayerERF], ...] = (
    Column("Layer", "path", lambda r: r.path, numeric=False, code=True),
    Column("Depth", "depth", lambda r: r.depth),
    Column("TRF", "trf", lambda r: "×".join(map(str, r.trf)), data=False),
    Column("ERF std", "erf_std", lambda r: _pair(r.erf_std, 2), data=False),
    Column("r68", "r68", lambda r: _pair(r.r68), data=False),
    Column("r95", "r95", lambda r: _pair(r.r95), data=False),
    Column("ERF/TRF 95%", "ratio_95", lambda r: round(r.ratio_95, 6), lambda v: f"{float(v):.1%}"),
    Column("Centre offset", "centre_offset", lambda r: _offset(r.centre_offset), numeric=False, data=False),
    *(_axis(f"{name}_{'hw'[axis]}", attr, axis)
      for name, attr in (("trf", "trf"), ("erf_std", "erf_std"), ("r68", "r68"), ("r95", "r95"),
                         ("offset", "centre_offset"))
      for axis in (0, 1)),
    Column("Inside TRF", "inside", lambda r: r.inside, lambda v: "yes" if v else "NO", numeric=False),
)


def _exponent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def erf_lines(result: ERFResult, lang: str = DEFAULT_LANG) -> list[str]:
    """The fit, the inputs and the definitions, under the table, in `lang`."""
    lines = [
        text("report.erf.exponent", lang, erf=_exponent(result.fit.erf_exponent),
             trf=_exponent(result.fit.trf_exponent)),
        text("report.erf.mean", lang, images=result.images, source=result.source),
        text("report.erf.definitions", lang),
    ]
    lines += [text("report.erf.skipped", lang, path=path, reason=reason) for path, reason in result.skipped]
    return lines


def erf_document(result: ERFResult) -> Document:
    """The per-layer table with the fit; JSON as `ERFResult.to_dict`."""
    shape = "×".join(map(str, result.input_shape))
    table = Table.build(
        f"{result.model} at {result.images}×{shape}: effective receptive field", ERF_COLUMNS, result.layers,
        notes=tuple(Note("", line) for line in erf_lines(result)),
        facts=(("erf_exponent", result.fit.erf_exponent), ("trf_exponent", result.fit.trf_exponent),
               ("images", result.images)),
    )
    return Document((table,), data=result.to_dict())


# ---------------------------------------------------------------- the figure


def shown_layers(layers: Sequence[LayerERF], panels: int = MAX_PANELS) -> list[LayerERF]:
    """At most `panels` layers, evenly spread, first and last included."""
    if len(layers) <= panels:
        return list(layers)
    step = (len(layers) - 1) / (panels - 1)
    return [layers[round(i * step)] for i in range(panels)]


def _window(layer: LayerERF) -> list[tuple[int, int]]:
    """Per axis, the pixels shown: the clipped field and a margin of a quarter of it, in the input."""
    sizes = layer.erf.shape
    out = []
    for axis, (first, last) in enumerate(layer.trf_box):
        margin = max(2, (last - first + 1) // 4)
        out.append((max(0, first - margin), min(sizes[axis] - 1, last + margin)))
    return out


def erf_figure(result: ERFResult, *, title: str | None = None, lang: str = DEFAULT_LANG) -> go.Figure:
    """Heatmaps of the chosen layers (a box marks each theoretical field), and std/size against depth."""
    layers = shown_layers(result.layers)
    cols = max(1, len(layers))
    fig = make_subplots(
        rows=2, cols=cols, row_heights=[0.45, 0.55], vertical_spacing=0.16, horizontal_spacing=0.035,
        specs=[[{} for _ in range(cols)], [{"colspan": cols}] + [None] * (cols - 1)],
        subplot_titles=[text("report.erf.panel", lang, path=layer.path, depth=layer.depth) for layer in layers] + [""],
    )
    for col, layer in enumerate(layers, start=1):
        (top, bottom), (left, right) = _window(layer)
        crop = layer.erf[top:bottom + 1, left:right + 1]
        peak = float(layer.erf.max())
        fig.add_trace(go.Heatmap(
            z=(crop / peak).tolist(), x=list(range(left, right + 1)), y=list(range(top, bottom + 1)),
            coloraxis="coloraxis",
            hovertemplate="x %{x}, y %{y}: %{z:.3f} " + text("report.erf.of_peak", lang) + "<extra></extra>",
        ), row=1, col=col)
        (y0, y1), (x0, x1) = layer.trf_box
        fig.add_shape(type="rect", x0=x0 - 0.5, x1=x1 + 0.5, y0=y0 - 0.5, y1=y1 + 0.5, row=1, col=col,
                      line={"color": TRF_COLOR, "width": 3})
        fig.update_xaxes(range=[left - 0.5, right + 0.5], showticklabels=False, showgrid=False, zeroline=False,
                         row=1, col=col)
        fig.update_yaxes(range=[bottom + 0.5, top - 0.5], showticklabels=False, showgrid=False, zeroline=False,
                         scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    depths = [layer.depth for layer in result.layers]
    fig.add_trace(go.Scatter(
        x=depths, y=[sum(layer.trf) / len(layer.trf) for layer in result.layers], name=text("report.erf.trf", lang),
        mode="lines+markers", line={"color": TRF_COLOR, "width": 3, "dash": "dash"}, marker={"size": 9},
    ), row=2, col=1)
    fig.add_trace(go.Scatter(
        x=depths, y=[sum(layer.erf_std) / len(layer.erf_std) for layer in result.layers],
        name=text("report.erf.std", lang),
        mode="lines+markers", line={"color": ERF_COLOR, "width": 3}, marker={"size": 9},
    ), row=2, col=1)
    ticks = sorted(set(depths))
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[str(t) for t in ticks], minor={"showgrid": False},
                     title_text=text("report.erf.x", lang), row=2, col=1)
    fig.update_yaxes(type="log", dtick=1, tickformat="~s", title_text=text("report.erf.y", lang), row=2, col=1)
    shape = "×".join(map(str, result.input_shape[1:]))
    apply(fig, title or text("report.erf.title", lang, model=result.model), subtitle=text(
        "report.erf.subtitle", lang, images=result.images, shape=shape, erf=_exponent(result.fit.erf_exponent),
        trf=_exponent(result.fit.trf_exponent)))
    fig.update_layout(
        height=HEIGHT, coloraxis={"colorscale": COLORSCALE, "cmin": 0, "cmax": 1, "colorbar": {
            "title": {"text": text("report.erf.colorbar", lang), "font": {"size": FONT_SIZE - 4}},
            "len": 0.36, "y": 0.76,
            "thickness": 14}},
        legend={"orientation": "v", "x": 0.01, "xanchor": "left", "y": 0.5, "yanchor": "top",
                "bgcolor": "rgba(255,255,255,0.85)"},
    )
    fig.update_annotations(font_size=FONT_SIZE - 3)
    return fig


"""`archstat report`: one self-contained HTML page, readable offline and printable.

Per model: overview cards, the totals, the plots (parameters, MACs and activation memory by
layer with cumulative curves; receptive-field growth; measured latency and a roofline when a
latency file is given), the sortable, searchable per-layer table under its counting convention;
with several models a comparison comes first; the conventions close the page. plotly.js is
embedded once, the page requests nothing from the network, and every plot is SVG.

Latency comes as `LatencyResult`s (what `archstat latency -o FILE.json` saves, read by
`archstat.measure.results`), one per model, matched by model name; the plots show the leaf layers
of the largest batch measured, and every figure on them was computed when it was measured.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from archstat.analysis.records import Analysis, CumulativeShare, Growth, LayerStats
from archstat.analysis.rf.erf import ERFResult
from archstat.errors import UsageError
from archstat.measure.results import LatencyResult, LayerTiming
from archstat.report import style, units
from archstat.report.erf import erf_figure, erf_lines
from archstat.report.messages import CATALOGUE, DEFAULT_LANG, check_lang, text
from archstat.report.rf_growth import growth_lines
from archstat.report.summary import COLUMNS, convention_label, field_text, summary_lines, title
from archstat.report.sweep import summary_lines as sweep_lines
from archstat.report.sweep_figure import sweep_figure
from archstat.report.table import Column
from archstat.studies.sweep import Sweep
from archstat.version import __version__

MIB = 1 << 20
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "svg"}}


def esc(text: object) -> str:
    """Text made safe for HTML (and for plotly labels, which read HTML entities)."""
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------------------------- latency

@dataclass(frozen=True, slots=True)
class Timing:
    """A measured leaf layer call beside its row in the analysis (which names and labels it)."""

    row: LayerStats
    layer: LayerTiming


def match_latency(results: Sequence[LatencyResult],
                  analyses: Sequence[Analysis]) -> dict[int, tuple[LatencyResult, tuple[Timing, ...]]]:
    """Each result attached to the report's analysis of the same model, by that analysis' position.

    A result for a model the report does not show, two for one model, or a measured layer the
    analysis lacks is one UsageError.
    """
    names = [a.model for a in analyses]
    out: dict[int, tuple[LatencyResult, tuple[Timing, ...]]] = {}
    for result in results:
        if result.model not in names:
            raise UsageError(f"latency of {result.model!r}, a model not in this report (models: {', '.join(names)})")
        index = names.index(result.model)
        if index in out:
            raise UsageError(f"two latency results for {result.model!r}")
        rows = {(r.path, r.call): r for r in analyses[index].rows()}
        per_layer = result.reported.per_layer
        timings = []
        for t in per_layer.leaves() if per_layer else ():
            if (t.path, t.call) not in rows:
                suffix = f" (call {t.call})" if t.call else ""
                raise UsageError(f"latency of {result.model!r}: the analysis has no layer {t.path!r}{suffix}")
            timings.append(Timing(rows[t.path, t.call], t))
        out[index] = (result, tuple(timings))
    return out


# ------------------------------------------------------------------------------------- figures

class _Figures:
    """The page's plots: each becomes an empty div, filled by one script at the end of the page."""

    def __init__(self) -> None:
        self.specs: dict[str, Any] = {}

    def div(self, fig: go.Figure) -> str:
        name = f"plot-{len(self.specs) + 1}"
        fig.layout.width = None             # fill the page's width; the style's height stays
        self.specs[name] = json.loads(fig.to_json())
        return f'<div class="plot" id="{name}"></div>'

    def script(self) -> str:
        # "<" only occurs inside JSON strings, where \u003c means the same and cannot end the script
        data = json.dumps(self.specs, separators=(",", ":")).replace("<", "\\u003c")
        return (f"<script>(function(){{var F={data},C={json.dumps(PLOT_CONFIG)};"
                "Object.keys(F).forEach(function(k){Plotly.newPlot(k,F[k].data,F[k].layout,C);});"
                "window.addEventListener('beforeprint',function(){Object.keys(F).forEach(function(k){"
                "Plotly.Plots.resize(document.getElementById(k));});});})();</script>")


def _label(row: LayerStats) -> str:
    return esc(COLUMNS[0].cell(row))


def _layer_axis(fig: go.Figure) -> None:
    fig.update_xaxes(type="category", tickangle=-60, tickfont={"size": 12}, automargin=True)


def profile_figure(analysis: Analysis, lang: str = DEFAULT_LANG) -> go.Figure | None:
    """Parameters, MACs and activation memory per leaf layer, each with its cumulative share."""
    shown = [c for c in analysis.cumulative if c.row.params or c.row.macs or c.row.activation_bytes]
    if not shown:
        return None
    t = analysis.totals
    panels: tuple[tuple[str, Callable[[CumulativeShare], float], Callable[[CumulativeShare], float], str, str,
                        Callable[[float], str]], ...] = (
        (text("report.profile.params", lang, total=units.si(t.params)), lambda c: c.row.params,
         lambda c: c.params_pct, "params", text("report.profile.params_unit", lang), lambda v: units.exact(int(v))),
        (text("report.profile.macs", lang, total=units.si(t.macs)), lambda c: c.row.macs, lambda c: c.macs_pct,
         "macs", "MACs", lambda v: units.si(v)),
        (text("report.profile.activations", lang, total=units.nbytes(t.activation_bytes)),
         lambda c: c.row.activation_bytes / MIB, lambda c: c.activation_pct, "activations", "MiB",
         lambda v: units.nbytes(v * MIB)),
    )
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        subplot_titles=[p[0] for p in panels], specs=[[{"secondary_y": True}]] * 3)
    x = [_label(c.row) for c in shown]
    cumulative_word = text("report.profile.cumulative", lang)
    for i, (_, value, cumulative, colour, unit, fmt) in enumerate(panels, start=1):
        values = [value(c) for c in shown]
        share = [cumulative(c) for c in shown]
        fig.add_trace(go.Bar(x=x, y=values, name=unit, marker_color=style.QUANTITY_COLORS[colour],
                             customdata=[fmt(v) for v in values],
                             hovertemplate="%{x}<br>%{customdata} " + esc(unit) + "<extra></extra>"),
                      row=i, col=1, secondary_y=False)
        fig.add_trace(go.Scatter(x=x, y=share, mode="lines", name=f"{cumulative_word} {unit}",
                                 line={"color": "#333", "width": 2, "dash": "dot"},
                                 hovertemplate="%{x}<br>" + esc(cumulative_word) + " %{y:.1f}%<extra></extra>"),
                      row=i, col=1, secondary_y=True)
        fig.update_yaxes(title_text=esc(unit), tickformat="~s", row=i, col=1, secondary_y=False)
        fig.update_yaxes(range=[0, 105], showgrid=False, tickvals=[0, 50, 100], ticktext=["0%", "50%", "100%"],
                         row=i, col=1, secondary_y=True)
    style.apply(fig, text("report.profile.title", lang), subtitle=text("report.profile.subtitle", lang))
    fig.update_layout(height=980, showlegend=False, bargap=0.15)
    fig.update_annotations(font_size=16, xanchor="left", x=0)
    _layer_axis(fig)
    return fig


def rf_figure(analysis: Analysis, grown: Growth, lang: str = DEFAULT_LANG) -> go.Figure | None:
    """Receptive-field size and effective stride of each spatial layer, against the input size."""
    rows = [r for r in grown.rows if r.rf is not None]
    if not rows:
        return None
    x = [_label(r) for r in rows]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    ndim = len(rows[0].rf.axes) if rows[0].rf else 0
    square = all(r.rf is not None and len({a.size for a in r.rf.axes}) == 1 for r in rows)
    axis_names = ("H", "W", "D")
    for a in range(1 if square else ndim):
        name = text("report.rf.name", lang) if square else text("report.rf.name_axis", lang, axis=axis_names[a])
        fig.add_trace(go.Scatter(x=x, y=[r.rf.axes[a].size if r.rf else None for r in rows], name=name,
                                 mode="lines+markers", line={"color": style.QUANTITY_COLORS["rf"], "width": 3},
                                 customdata=[field_text(r.rf, lang) for r in rows],
                                 hovertemplate="%{x}<br>" + esc(text("report.rf.hover", lang))
                                 + " %{customdata} px<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=[r.rf.axes[0].jump if r.rf else None for r in rows],
                             name=text("report.rf.jump", lang), mode="lines",
                             line={"color": style.PALETTE[5], "width": 2, "shape": "hv", "dash": "dash"},
                             hovertemplate="%{x}<br>jump %{y} px<extra></extra>"), secondary_y=True)
    for size in sorted(set(grown.input_size)):
        fig.add_hline(y=size, line={"color": "#888", "dash": "dot"},
                      annotation_text=text("report.rf.input", lang, size=size), annotation_position="top left",
                      annotation_font_size=14)
    style.apply(fig, text("report.rf.title", lang), y_title=text("report.rf.y", lang),
                subtitle=esc(growth_lines(analysis, grown, lang)[0]))
    fig.update_yaxes(title_text="jump (px)", type="log", dtick=math.log10(2), showgrid=False, secondary_y=True)
    _layer_axis(fig)
    return fig


def _measured_on(result: LatencyResult, lang: str = DEFAULT_LANG) -> str:
    return text("report.latency.measured_on", lang, label=result.label, batch=result.reported.batch)


def latency_figure(result: LatencyResult, timings: Sequence[Timing], lang: str = DEFAULT_LANG) -> go.Figure:
    """Measured median time per leaf layer, in execution order."""
    fig = go.Figure(go.Bar(x=[_label(t.row) for t in timings], y=[t.layer.median_ms for t in timings],
                           marker_color=style.QUANTITY_COLORS["latency"],
                           hovertemplate="%{x}<br>%{y:.3f} ms<extra></extra>"))
    style.apply(fig, text("report.latency.title", lang), y_title="ms", subtitle=esc(_measured_on(result, lang)))
    _layer_axis(fig)
    return fig


def roofline_figure(result: LatencyResult, timings: Sequence[Timing], lang: str = DEFAULT_LANG) -> go.Figure | None:
    """Each layer's measured roofline point (achieved FLOP/s against arithmetic intensity), under the
    device's roofs when the result has them. Traffic is what a layer must move: weights, inputs and
    outputs once each."""
    points = [t for t in timings if t.layer.on_roofline]
    if not points:
        return None
    x = [t.layer.intensity or 0.0 for t in points]
    fig = go.Figure(go.Scatter(
        x=x, y=[t.layer.flops_per_s for t in points], mode="markers",
        name=text("report.roofline.layers", lang),
        marker={"size": 11, "color": style.QUANTITY_COLORS["latency"], "line": {"width": 1, "color": "#333"}},
        text=[_label(t.row) for t in points],
        customdata=["" if t.layer.roofline_fraction is None else "<br>" + esc(text(
            "report.roofline.of_roof", lang, pct=f"{100 * t.layer.roofline_fraction:.1f}")) for t in points],
        hovertemplate="%{text}<br>%{x:.3g} FLOP/byte<br>%{y:.3s}FLOP/s%{customdata}<extra></extra>"))
    peak, bandwidth = result.peak_flops, result.peak_bandwidth
    if peak and bandwidth:
        ridge = peak / bandwidth
        low, high = min([*x, ridge]) / 4, max([*x, ridge]) * 4      # the roof spans the points
        fig.add_trace(go.Scatter(x=[low, ridge, high], y=[low * bandwidth, peak, peak],
                                 mode="lines", name="roof", line={"color": "#333", "width": 2},
                                 hovertemplate="roof %{y:.3s}FLOP/s<extra></extra>"))
    style.apply(fig, text("report.roofline.title", lang), x_title=text("report.roofline.x", lang), y_title="FLOP/s",
                subtitle=esc(text("report.roofline.subtitle", lang, measured=_measured_on(result, lang))))
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log", tickformat="~s")
    return fig


def _mib_or_none(nbytes: int | None) -> float | None:
    """MiB for a bar; None (a gap) for a figure the analysis did not measure."""
    return None if nbytes is None else nbytes / MIB


def _nbytes_or_dash(nbytes: int | None) -> str:
    return "-" if nbytes is None else units.nbytes(nbytes)


def comparison_figure(analyses: Sequence[Analysis], lang: str = DEFAULT_LANG) -> go.Figure:
    """The totals of every model side by side, one panel per quantity."""
    panels: tuple[tuple[str, Callable[[Analysis], float | None], str], ...] = (
        (text("report.card.params", lang), lambda a: a.totals.params, "~s"),
        ("MACs", lambda a: a.totals.macs, "~s"),
        ("FLOPs", lambda a: a.totals.flops, "~s"),
        (text("report.compare.outputs", lang), lambda a: a.totals.activation_bytes / MIB, ",.0f"),
        (text("report.compare.peak", lang), lambda a: a.totals.peak_activation_bytes / MIB, ",.0f"),
        (text("report.compare.saved", lang), lambda a: _mib_or_none(a.totals.training_activation_bytes), ",.0f"),
    )
    fig = make_subplots(rows=2, cols=3, subplot_titles=[p[0] for p in panels], vertical_spacing=0.16,
                        horizontal_spacing=0.08)
    names = [esc(a.model) for a in analyses]
    for i, (_, value, fmt) in enumerate(panels):
        fig.add_trace(go.Bar(x=names, y=[value(a) for a in analyses], showlegend=False,
                             marker_color=[style.PALETTE[j % len(style.PALETTE)] for j in range(len(analyses))],
                             hovertemplate="%{x}<br>%{y:" + fmt + "}<extra></extra>"),
                      row=i // 3 + 1, col=i % 3 + 1)
        fig.update_yaxes(tickformat=fmt, row=i // 3 + 1, col=i % 3 + 1)
    style.apply(fig, text("report.compare.title", lang))
    fig.update_layout(height=760)
    fig.update_annotations(font_size=17)
    fig.update_xaxes(tickfont={"size": 15})
    return fig


# ---------------------------------------------------------------------------------------- page

def _rf_key(row: LayerStats) -> float:
    field = row.rf
    if field is None or field.unknown:
        return -1
    return math.inf if field.whole else max((a.size for a in field.axes), default=-1)


# by column key
_SORT_KEYS: dict[str, Callable[[LayerStats], float]] = {
    "output_shape": lambda r: math.prod(r.output_shape) if r.output_shape else 0,
    "rf_text": _rf_key,
    "params_text": lambda r: r.params,
    "macs": lambda r: r.macs,
    "flops": lambda r: r.flops,
    "activation_bytes": lambda r: r.activation_bytes,
}
# the catalogue's id of each column's header; MACs and FLOPs are symbols, the same in every language
_HEADERS = {"layer": "report.col.layer", "type": "report.col.type",
            "output_shape": "report.col.output_shape", "rf_text": "report.col.rf", "params_text": "report.col.params",
            "activation_bytes": "report.col.activations"}


def _header(column: Column[LayerStats], lang: str) -> str:
    key = _HEADERS.get(column.key)
    return text(key, lang) if key else column.header


def _cell(column: Column[LayerStats], row: LayerStats, lang: str) -> str:
    return field_text(row.rf, lang) if column.key == "rf_text" else column.cell(row)


def _sort_value(value: float) -> str:
    return "1e308" if value == math.inf else repr(value)


def _table(analysis: Analysis, table_id: str, lang: str = DEFAULT_LANG) -> str:
    rows = analysis.rows()
    head = ['<th class="num" scope="col" tabindex="0">#</th>'] + [
        f'<th class="{"num" if c.key in _SORT_KEYS else "text"}" scope="col" tabindex="0">{esc(_header(c, lang))}</th>'
        for c in COLUMNS
    ]
    body = []
    for r in rows:
        cells = [f'<td class="num" data-v="{r.index}">{r.index}</td>']
        for c in COLUMNS:
            key = _SORT_KEYS.get(c.key)
            if c is COLUMNS[0]:
                cells.append(f'<td class="path" style="padding-left:{0.4 + 0.9 * (r.depth - 1):.1f}em">'
                             f"{esc(c.cell(r))}</td>")
            elif key is None:
                cells.append(f"<td>{esc(_cell(c, r, lang))}</td>")
            else:
                cells.append(f'<td class="num" data-v="{_sort_value(key(r))}">{esc(_cell(c, r, lang))}</td>')
        search = esc(f"{r.path} {r.type}".lower())
        kind = "leaf" if r.is_leaf else "container"
        body.append(f'<tr class="{kind}" data-i="{r.index}" data-leaf="{int(r.is_leaf)}" data-s="{search}">'
                    + "".join(cells) + "</tr>")
    count = text("report.count", lang, shown="{shown}", total="{total}")   # the script fills it in
    controls = (
        f'<div class="controls" data-table="{table_id}">'
        f'<input type="search" placeholder="{esc(text("report.filter", lang))}" '
        f'aria-label="{esc(text("report.filter_label", lang))}">'
        f'<label><input type="checkbox"> {esc(text("report.leaves_only", lang))}</label>'
        f'<span class="count" data-template="{esc(count)}">'
        f'{esc(text("report.count", lang, shown=len(rows), total=len(rows)))}</span>'
        f'<span class="hint">{esc(text("report.sort_hint", lang))}</span></div>'
    )
    return (controls + f'<div class="table-wrap"><table class="layers" id="{table_id}"><thead><tr>'
            + "".join(head) + "</tr></thead><tbody>" + "\n".join(body) + "</tbody></table></div>")


def _cards(analysis: Analysis, grown: Growth, lang: str = DEFAULT_LANG) -> str:
    t = analysis.totals
    final = grown.final
    cards = [
        (text("report.card.params", lang), units.si(t.params), text(
            "report.card.params_detail", lang, exact=units.exact(t.params), trainable=units.exact(t.trainable_params))),
        ("MACs", units.si(t.macs) + "MAC", units.exact(t.macs)),
        ("FLOPs", units.si(t.flops) + "FLOP", units.exact(t.flops)),
        (text("report.card.layer_outputs", lang), units.nbytes(t.activation_bytes),
         text("report.card.layer_outputs_detail", lang)),
        (text("report.card.peak", lang), units.nbytes(t.peak_activation_bytes), text("report.card.peak_detail", lang)),
        (text("report.card.saved", lang), _nbytes_or_dash(t.training_activation_bytes),
         text("report.card.saved_detail", lang, mode=analysis.training_mode) if analysis.training_mode
         else text("report.card.saved_off", lang)),
        (text("report.card.param_memory", lang), units.nbytes(t.param_bytes), analysis.dtype),
        (text("report.receptive_field", lang), f"{field_text(final.rf, lang)} px" if final is not None else "-",
         growth_lines(analysis, grown, lang)[0] if final is not None else text("report.card.no_spatial", lang)),
    ]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
        f'<div class="detail">{esc(detail)}</div></div>'
        for label, value, detail in cards
    ) + "</div>"


def _definitions(lines: Iterable[tuple[str, str]], css: str) -> str:
    return f'<dl class="{css}">' + "".join(
        f"<dt>{esc(label)}</dt><dd>{esc(text)}</dd>" for label, text in lines
    ) + "</dl>"


def _diagram(analysis: Analysis, lang: str = "en") -> str:
    """The architecture drawn from the same forward (`archstat diagram`'s SVG at its automatic depth)."""
    from archstat.analysis.graph import build_graph
    from archstat.errors import ArchstatError
    from archstat.report.diagram import fitted_height, layout, svg
    from archstat.report.messages import text

    head = f"<h3>{esc(text('diagram.report_heading', lang))}</h3>"
    if not analysis.ops:
        return head + _note(esc(text("report.no_flow", lang)))
    try:
        drawn = layout(build_graph(analysis), annotate=("params",), lang=lang)
        picture = svg(drawn, height=fitted_height(drawn)).replace("<svg ", '<svg style="width:100%;height:auto" ', 1)
    except ArchstatError as exc:   # no Graphviz on this machine: the rest of the report stands
        return head + f'<p class="note">{esc(str(exc))}</p>'
    return (head + f'<p class="caption">{esc(text("diagram.report_note", lang))}</p>'
            f'<div class="diagram" style="max-width:1280px">{picture}</div>')


def _note(message: str, css: str = "note") -> str:
    return f'<p class="{css}">{message}</p>'


def _model_section(index: int, analysis: Analysis, figures: _Figures,
                   latency: tuple[LatencyResult, tuple[Timing, ...]] | None, erf: ERFResult | None = None,
                   sweeps: Sequence[Sweep] = (), lang: str = DEFAULT_LANG) -> str:
    grown = analysis.growth
    lines = summary_lines(analysis, lang)
    split = next(i for i, (label, _) in enumerate(lines) if label == convention_label(lang))
    parts = [
        f'<section class="model" id="model-{index}"><h2>{esc(analysis.model)}</h2>',
        f'<p class="subtitle">{esc(title(analysis, lang))}</p>',
        _cards(analysis, grown, lang),
        _definitions(lines[:split], "totals"),
        f"<h3>{esc(text('report.where', lang))}</h3>",
    ]
    profile = profile_figure(analysis, lang)
    parts.append(figures.div(profile) if profile else _note(esc(text("report.no_profile", lang))))
    parts.append(_diagram(analysis, lang))
    parts.append(f"<h3>{esc(text('report.receptive_field', lang))}</h3>")
    parts.append(f'<p class="caption">{esc(" · ".join(growth_lines(analysis, grown, lang)[1:]))}</p>')
    fig = rf_figure(analysis, grown, lang)
    parts.append(figures.div(fig) if fig else _note(esc(text("report.no_rf", lang))))
    if erf is not None:
        parts.append(f"<h3>{esc(text('report.erf', lang))}</h3>")
        parts.append(f'<p class="caption">{esc(" · ".join(erf_lines(erf, lang)[:2]))}</p>')
        parts.append(figures.div(erf_figure(erf, lang=lang)))
    if sweeps:
        parts.append(f"<h3>{esc(text('report.what_if', lang))}</h3>")
        for sweep, line in zip(sweeps, sweep_lines(sweeps, lang), strict=True):
            parts.append(f'<p class="caption">{esc(line)}</p>')
            parts.append(figures.div(sweep_figure(sweep, lang)))
    parts.append(f"<h3>{esc(text('report.latency', lang))}</h3>")
    if latency is None:
        parts.append(_note(text("report.latency.not_measured", lang), "note not-measured"))
    elif not latency[1]:
        whole = latency[0].reported.whole
        parts.append(_note(text("report.latency.whole_only", lang, ms=f"{whole.median_ms:,.3f}",
                                measured=esc(_measured_on(latency[0], lang)))))
    else:
        result, timings = latency
        parts.append(figures.div(latency_figure(result, timings, lang)))
        roof = roofline_figure(result, timings, lang)
        parts.append(figures.div(roof) if roof else _note(esc(text("report.no_flops", lang))))
    parts.append(f"<h3>{esc(text('report.layers', lang))}</h3>")
    parts.append(_definitions(lines[split:], "convention"))
    parts.append(_table(analysis, f"layers-{index}", lang))
    parts.append("</section>")
    return "\n".join(parts)


def _comparison(analyses: Sequence[Analysis], figures: _Figures, lang: str = DEFAULT_LANG) -> str:
    def final_rf(a: Analysis) -> str:
        final = a.growth.final
        return f"{field_text(final.rf, lang)} px" if final is not None else "-"

    rows: tuple[tuple[str, Callable[[Analysis], str]], ...] = (
        (text("report.input", lang), lambda a: units.shape(a.input_shape)),
        (text("report.card.params", lang), lambda a: units.exact(a.totals.params)),
        ("MACs", lambda a: f"{units.si(a.totals.macs)}MAC"),
        ("FLOPs", lambda a: f"{units.si(a.totals.flops)}FLOP"),
        (text("report.card.layer_outputs", lang), lambda a: units.nbytes(a.totals.activation_bytes)),
        (text("report.card.peak", lang), lambda a: units.nbytes(a.totals.peak_activation_bytes)),
        (text("report.card.saved", lang), lambda a: _nbytes_or_dash(a.totals.training_activation_bytes)),
        (text("report.card.param_memory", lang), lambda a: units.nbytes(a.totals.param_bytes)),
        (text("report.receptive_field", lang), final_rf),
    )
    head = "".join(f'<th scope="col"><a href="#model-{i}">{esc(a.model)}</a></th>' for i, a in enumerate(analyses))
    body = "".join(
        f'<tr><th scope="row">{esc(label)}</th>' + "".join(f'<td class="num">{esc(cell(a))}</td>' for a in analyses)
        + "</tr>"
        for label, cell in rows
    )
    return (f'<section class="comparison" id="comparison"><h2>{esc(text("report.comparison", lang))}</h2>'
            f'<div class="table-wrap fit"><table class="totals"><thead><tr><th></th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>" + figures.div(comparison_figure(analyses, lang)) + "</section>")


def _conventions(analyses: Sequence[Analysis], lang: str = DEFAULT_LANG) -> str:
    groups: list[tuple[list[str], Mapping[str, str]]] = []
    for a in analyses:
        same = next((g for g in groups if g[1] == a.conventions), None)
        if same is None:
            groups.append(([a.model], a.conventions))
        else:
            same[0].append(a.model)
    parts = [f'<section class="conventions" id="conventions"><h2>{esc(text("report.conventions", lang))}</h2>']
    for models, conventions in groups:
        if len(groups) > 1:
            parts.append(f"<h3>{esc(', '.join(models))}</h3>")
        # the analysis states each rule in English; the catalogue words the same rule in `lang`
        parts.append(_definitions(((key, _convention(key, rule, lang)) for key, rule in conventions.items()),
                                  "conventions-list"))
    return "\n".join(parts) + "</section>"


def _convention(key: str, rule: str, lang: str) -> str:
    """The rule `key` in `lang` where the catalogue has it (every rule archstat itself states), else as given."""
    message = f"report.convention.{key}"
    return text(message, lang) if message in CATALOGUE[lang] else rule


def render_report(analyses: Sequence[Analysis], latency: Sequence[LatencyResult] | None = None,
                  erf: Sequence[ERFResult | None] = (), sweeps: Sequence[Sweep] = (), *,
                  lang: str = DEFAULT_LANG) -> str:
    """The whole report as one HTML document, every word in `lang`; `latency` holds measured results,
    at most one per model; `erf`, when given, the effective receptive field of each model (in order);
    `sweeps` what-if sweeps, each shown in the section of the analysis of the same model."""
    check_lang(lang)
    if not analyses:
        raise UsageError("a report needs at least one model")
    measured = match_latency(latency or (), analyses)
    figures = _Figures()
    names = ", ".join(a.model for a in analyses)
    sections = [_comparison(analyses, figures, lang)] if len(analyses) > 1 else []
    fields = list(erf) + [None] * (len(analyses) - len(erf))
    sections += [_model_section(i, a, figures, measured.get(i), fields[i], [s for s in sweeps if s.model == a.model],
                                lang) for i, a in enumerate(analyses)]
    sections.append(_conventions(analyses, lang))
    nav = "".join(f'<a href="#model-{i}">{esc(a.model)}</a>' for i, a in enumerate(analyses))
    if len(analyses) > 1:
        nav = f'<a href="#comparison">{esc(text("report.nav.comparison", lang))}</a>' + nav
    return (
        f'<!DOCTYPE html>\n<html lang="{text("report.lang_attr", lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(text('report.page_title', lang, names=names))}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{esc(text("report.heading", lang))} <span>{esc(names)}</span></h1><nav>{nav}'
        f'<a href="#conventions">{esc(text("report.nav.conventions", lang))}</a></nav>'
        f"<p>{esc(text('report.intro', lang))}</p></header><main>"
        + "\n".join(sections)
        + f'</main><footer>archstat {esc(__version__)}</footer>'
        f"<script>{get_plotlyjs()}</script>{figures.script()}<script>{TABLE_JS}</script></body></html>\n"
    )


CSS = """
:root{--ink:#1d2330;--muted:#5b6473;--line:#dde1e7;--soft:#f4f6f9;--accent:#0072B2}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 Inter,"Helvetica Neue",Arial,"Noto Sans CJK KR",sans-serif;color:var(--ink);background:#fff}
header,main,footer{max-width:1240px;margin:0 auto;padding:0 24px}
header{padding-top:20px;border-bottom:1px solid var(--line)}
h1{font-size:26px;margin:0 0 4px}h1 span{color:var(--muted);font-weight:400}
header p{color:var(--muted);margin:6px 0 14px}
nav a{display:inline-block;margin:0 14px 0 0;color:var(--accent);text-decoration:none;font-weight:600}
h2{font-size:24px;margin:34px 0 2px;padding-top:12px;border-top:3px solid var(--ink)}
h3{font-size:18px;margin:30px 0 8px}
.subtitle{color:var(--muted);margin:0 0 16px}
.caption{color:var(--muted);font-size:13.5px;margin:0 0 8px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}
@media (max-width:900px){.cards{grid-template-columns:repeat(2,1fr)}}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:var(--soft)}
.card .label{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.card .value{font-size:24px;font-weight:700;margin:2px 0}
.card .detail{font-size:12.5px;color:var(--muted);overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:16px 0;font-size:13.5px}
dt{font-weight:700}dd{margin:0;overflow-wrap:anywhere}
dl.convention{background:var(--soft);border-left:4px solid var(--accent);padding:8px 12px;border-radius:4px}
.plot{width:100%;margin:6px 0 10px;border:1px solid var(--line);border-radius:8px;overflow:hidden}
.note{background:var(--soft);border:1px dashed #b9c0cb;border-radius:8px;padding:14px 16px;color:var(--muted)}
.controls{display:flex;flex-wrap:wrap;gap:14px;align-items:center;margin:8px 0}
.controls input[type=search]{font:inherit;padding:6px 10px;min-width:300px;border:1px solid #b9c0cb;border-radius:6px}
.count,.hint{color:var(--muted);font-size:13px}
.table-wrap{max-height:72vh;overflow:auto;border:1px solid var(--line);border-radius:8px}
.table-wrap.fit{display:inline-block;max-width:100%;margin-bottom:12px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 10px;border-bottom:1px solid var(--line);white-space:nowrap;text-align:left}
thead th{position:sticky;top:0;background:#e9edf2;cursor:pointer;user-select:none}
thead th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
thead th[aria-sort=ascending]::after{content:" \\25B2"}thead th[aria-sort=descending]::after{content:" \\25BC"}
tbody tr:nth-child(even){background:#fafbfc}tbody tr:hover{background:#eef5fb}
tr.container td{color:var(--muted);font-weight:600}
td.path{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}
table.totals{width:auto;min-width:50%}table.totals th[scope=row]{font-weight:600}
table.totals thead th{cursor:default;text-align:right}
section.conventions dl{font-size:13.5px}
footer{color:var(--muted);font-size:12px;padding:30px 24px}
@media print{
 body{font-size:11px}.controls,nav,.hint{display:none}
 .table-wrap{max-height:none;overflow:visible;border:0}thead th{position:static}
 section.model{break-before:page}.plot,.card,dl{break-inside:avoid}
 .plot{border:0}a{color:inherit;text-decoration:none}
}
"""

TABLE_JS = """
(function(){
function key(row,col,numeric){
 var c=row.cells[col];return numeric?parseFloat(c.getAttribute('data-v')):c.textContent.toLowerCase();
}
document.querySelectorAll('table.layers').forEach(function(table){
 var body=table.tBodies[0],heads=Array.prototype.slice.call(table.tHead.rows[0].cells);
 heads.forEach(function(th,col){
  function sort(){
   var numeric=th.classList.contains('num'),now=th.getAttribute('aria-sort');
   var asc=now?now==='descending':!numeric;
   heads.forEach(function(h){h.removeAttribute('aria-sort');});
   th.setAttribute('aria-sort',asc?'ascending':'descending');
   var rows=Array.prototype.slice.call(body.rows);
   rows.sort(function(a,b){var x=key(a,col,numeric),y=key(b,col,numeric),c=x<y?-1:x>y?1:0;
    return (asc?c:-c)||(a.getAttribute('data-i')-b.getAttribute('data-i'));});
   rows.forEach(function(r){body.appendChild(r);});
  }
  th.addEventListener('click',sort);
  th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort();}});
 });
});
document.querySelectorAll('.controls').forEach(function(box){
 var table=document.getElementById(box.getAttribute('data-table'));
 var search=box.querySelector('input[type=search]'),leaves=box.querySelector('input[type=checkbox]');
 var count=box.querySelector('.count');
 function filter(){
  var q=search.value.trim().toLowerCase(),rows=table.tBodies[0].rows,shown=0;
  for(var i=0;i<rows.length;i++){
   var ok=rows[i].getAttribute('data-s').indexOf(q)>=0&&(!leaves.checked||rows[i].getAttribute('data-leaf')==='1');
   rows[i].hidden=!ok;if(ok)shown++;
  }
  count.textContent=count.getAttribute('data-template').replace('{shown}',shown).replace('{total}',rows.length);
 }
 search.addEventListener('input',filter);leaves.addEventListener('change',filter);
});
})();
"""

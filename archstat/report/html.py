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
from archstat.report.rf_growth import growth_lines
from archstat.report.summary import COLUMNS, field_text, summary_lines, title
from archstat.report.sweep import summary_lines as sweep_lines
from archstat.report.sweep_figure import sweep_figure
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


def profile_figure(analysis: Analysis) -> go.Figure | None:
    """Parameters, MACs and activation memory per leaf layer, each with its cumulative share."""
    shown = [c for c in analysis.cumulative if c.row.params or c.row.macs or c.row.activation_bytes]
    if not shown:
        return None
    t = analysis.totals
    panels: tuple[tuple[str, Callable[[CumulativeShare], float], Callable[[CumulativeShare], float], str, str,
                        Callable[[float], str]], ...] = (
        (f"Parameters ({units.si(t.params)} in all)", lambda c: c.row.params, lambda c: c.params_pct, "params",
         "parameters", lambda v: units.exact(int(v))),
        (f"MACs ({units.si(t.macs)}MAC in all)", lambda c: c.row.macs, lambda c: c.macs_pct, "macs", "MACs",
         lambda v: units.si(v)),
        (f"Activation memory, layer outputs ({units.nbytes(t.activation_bytes)} in all)",
         lambda c: c.row.activation_bytes / MIB, lambda c: c.activation_pct, "activations", "MiB",
         lambda v: units.nbytes(v * MIB)),
    )
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        subplot_titles=[p[0] for p in panels], specs=[[{"secondary_y": True}]] * 3)
    x = [_label(c.row) for c in shown]
    for i, (_, value, cumulative, colour, unit, fmt) in enumerate(panels, start=1):
        values = [value(c) for c in shown]
        share = [cumulative(c) for c in shown]
        fig.add_trace(go.Bar(x=x, y=values, name=unit, marker_color=style.QUANTITY_COLORS[colour],
                             customdata=[fmt(v) for v in values],
                             hovertemplate="%{x}<br>%{customdata} " + esc(unit) + "<extra></extra>"),
                      row=i, col=1, secondary_y=False)
        fig.add_trace(go.Scatter(x=x, y=share, mode="lines", name=f"cumulative {unit}",
                                 line={"color": "#333", "width": 2, "dash": "dot"},
                                 hovertemplate="%{x}<br>cumulative %{y:.1f}%<extra></extra>"),
                      row=i, col=1, secondary_y=True)
        fig.update_yaxes(title_text=esc(unit), tickformat="~s", row=i, col=1, secondary_y=False)
        fig.update_yaxes(range=[0, 105], showgrid=False, tickvals=[0, 50, 100], ticktext=["0%", "50%", "100%"],
                         row=i, col=1, secondary_y=True)
    style.apply(fig, "Parameters, MACs and activation memory by layer",
                subtitle="bars: each layer · dotted line: cumulative share (right axis) · execution order")
    fig.update_layout(height=980, showlegend=False, bargap=0.15)
    fig.update_annotations(font_size=16, xanchor="left", x=0)
    _layer_axis(fig)
    return fig


def rf_figure(analysis: Analysis, grown: Growth) -> go.Figure | None:
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
        name = "receptive field" if square else f"receptive field, {axis_names[a]}"
        fig.add_trace(go.Scatter(x=x, y=[r.rf.axes[a].size if r.rf else None for r in rows], name=name,
                                 mode="lines+markers", line={"color": style.QUANTITY_COLORS["rf"], "width": 3},
                                 customdata=[field_text(r.rf) for r in rows],
                                 hovertemplate="%{x}<br>field %{customdata} px<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=[r.rf.axes[0].jump if r.rf else None for r in rows], name="jump (effective stride)",
                             mode="lines", line={"color": style.PALETTE[5], "width": 2, "shape": "hv", "dash": "dash"},
                             hovertemplate="%{x}<br>jump %{y} px<extra></extra>"), secondary_y=True)
    for size in sorted(set(grown.input_size)):
        fig.add_hline(y=size, line={"color": "#888", "dash": "dot"}, annotation_text=f"input {size} px",
                      annotation_position="top left", annotation_font_size=14)
    style.apply(fig, "Receptive-field growth", y_title="receptive field (px)",
                subtitle=esc(growth_lines(analysis, grown)[0]))
    fig.update_yaxes(title_text="jump (px)", type="log", dtick=math.log10(2), showgrid=False, secondary_y=True)
    _layer_axis(fig)
    return fig


def _measured_on(result: LatencyResult) -> str:
    return f"{result.label}, batch {result.reported.batch}"


def latency_figure(result: LatencyResult, timings: Sequence[Timing]) -> go.Figure:
    """Measured median time per leaf layer, in execution order."""
    fig = go.Figure(go.Bar(x=[_label(t.row) for t in timings], y=[t.layer.median_ms for t in timings],
                           marker_color=style.QUANTITY_COLORS["latency"],
                           hovertemplate="%{x}<br>%{y:.3f} ms<extra></extra>"))
    style.apply(fig, "Measured latency per layer", y_title="ms", subtitle=esc(_measured_on(result)))
    _layer_axis(fig)
    return fig


def roofline_figure(result: LatencyResult, timings: Sequence[Timing]) -> go.Figure | None:
    """Each layer's measured roofline point (achieved FLOP/s against arithmetic intensity), under the
    device's roofs when the result has them. Traffic is what a layer must move: weights, inputs and
    outputs once each."""
    points = [t for t in timings if t.layer.on_roofline]
    if not points:
        return None
    x = [t.layer.intensity or 0.0 for t in points]
    fig = go.Figure(go.Scatter(
        x=x, y=[t.layer.flops_per_s for t in points], mode="markers", name="layers",
        marker={"size": 11, "color": style.QUANTITY_COLORS["latency"], "line": {"width": 1, "color": "#333"}},
        text=[_label(t.row) for t in points],
        customdata=["" if t.layer.roofline_fraction is None else f"<br>{100 * t.layer.roofline_fraction:.1f}% of roof"
                    for t in points],
        hovertemplate="%{text}<br>%{x:.3g} FLOP/byte<br>%{y:.3s}FLOP/s%{customdata}<extra></extra>"))
    peak, bandwidth = result.peak_flops, result.peak_bandwidth
    if peak and bandwidth:
        ridge = peak / bandwidth
        low, high = min([*x, ridge]) / 4, max([*x, ridge]) * 4      # the roof spans the points
        fig.add_trace(go.Scatter(x=[low, ridge, high], y=[low * bandwidth, peak, peak],
                                 mode="lines", name="roof", line={"color": "#333", "width": 2},
                                 hovertemplate="roof %{y:.3s}FLOP/s<extra></extra>"))
    style.apply(fig, "Roofline", x_title="arithmetic intensity (FLOP per byte moved)", y_title="FLOP/s",
                subtitle=esc(f"{_measured_on(result)} · bytes moved = weights + inputs + outputs"))
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log", tickformat="~s")
    return fig


def comparison_figure(analyses: Sequence[Analysis]) -> go.Figure:
    """The totals of every model side by side, one panel per quantity."""
    panels: tuple[tuple[str, Callable[[Analysis], float], str], ...] = (
        ("Parameters", lambda a: a.totals.params, "~s"),
        ("MACs", lambda a: a.totals.macs, "~s"),
        ("FLOPs", lambda a: a.totals.flops, "~s"),
        ("Layer outputs (MiB)", lambda a: a.totals.activation_bytes / MIB, ",.0f"),
        ("Peak live, inference (MiB)", lambda a: a.totals.peak_activation_bytes / MIB, ",.0f"),
        ("Saved for backward (MiB)", lambda a: a.totals.training_activation_bytes / MIB, ",.0f"),
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
    style.apply(fig, "Models side by side")
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


_SORT_KEYS: dict[str, Callable[[LayerStats], float]] = {
    "Output shape": lambda r: math.prod(r.output_shape) if r.output_shape else 0,
    "RF": _rf_key,
    "Params": lambda r: r.params,
    "MACs": lambda r: r.macs,
    "FLOPs": lambda r: r.flops,
    "Activations": lambda r: r.activation_bytes,
}


def _sort_value(value: float) -> str:
    return "1e308" if value == math.inf else repr(value)


def _table(analysis: Analysis, table_id: str) -> str:
    rows = analysis.rows()
    head = ['<th class="num" scope="col" tabindex="0">#</th>'] + [
        f'<th class="{"num" if c.header in _SORT_KEYS else "text"}" scope="col" tabindex="0">{esc(c.header)}</th>'
        for c in COLUMNS
    ]
    body = []
    for r in rows:
        cells = [f'<td class="num" data-v="{r.index}">{r.index}</td>']
        for c in COLUMNS:
            key = _SORT_KEYS.get(c.header)
            if c is COLUMNS[0]:
                cells.append(f'<td class="path" style="padding-left:{0.4 + 0.9 * (r.depth - 1):.1f}em">'
                             f"{esc(c.cell(r))}</td>")
            elif key is None:
                cells.append(f"<td>{esc(c.cell(r))}</td>")
            else:
                cells.append(f'<td class="num" data-v="{_sort_value(key(r))}">{esc(c.cell(r))}</td>')
        search = esc(f"{r.path} {r.type}".lower())
        kind = "leaf" if r.is_leaf else "container"
        body.append(f'<tr class="{kind}" data-i="{r.index}" data-leaf="{int(r.is_leaf)}" data-s="{search}">'
                    + "".join(cells) + "</tr>")
    controls = (
        f'<div class="controls" data-table="{table_id}">'
        '<input type="search" placeholder="Filter layers by name or type" aria-label="filter layers">'
        '<label><input type="checkbox"> leaf layers only</label>'
        f'<span class="count">{len(rows)} of {len(rows)} layers</span>'
        "<span class=\"hint\">click a header to sort</span></div>"
    )
    return (controls + f'<div class="table-wrap"><table class="layers" id="{table_id}"><thead><tr>'
            + "".join(head) + "</tr></thead><tbody>" + "\n".join(body) + "</tbody></table></div>")


def _cards(analysis: Analysis, grown: Growth) -> str:
    t = analysis.totals
    final = grown.final
    cards = [
        ("Parameters", units.si(t.params), f"{units.exact(t.params)} · trainable {units.exact(t.trainable_params)}"),
        ("MACs", units.si(t.macs) + "MAC", units.exact(t.macs)),
        ("FLOPs", units.si(t.flops) + "FLOP", units.exact(t.flops)),
        ("Layer outputs", units.nbytes(t.activation_bytes), "sum of every layer's output"),
        ("Peak live, inference", units.nbytes(t.peak_activation_bytes), "largest set of live tensors"),
        ("Saved for backward", units.nbytes(t.training_activation_bytes), f"{analysis.training_mode}-mode forward"),
        ("Parameter memory", units.nbytes(t.param_bytes), analysis.dtype),
        ("Receptive field", f"{field_text(final.rf)} px" if final is not None else "-",
         growth_lines(analysis, grown)[0] if final is not None else "no spatial layers"),
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
    from archstat.report.diagram import layout, svg
    from archstat.report.messages import text

    head = f"<h3>{esc(text('diagram.report_heading', lang))}</h3>"
    if not analysis.flow.ops:
        return head + '<p class="note">No recorded data flow to draw.</p>'
    try:
        picture = svg(layout(build_graph(analysis), annotate=("params",), lang=lang))
    except ArchstatError as exc:   # no Graphviz on this machine: the rest of the report stands
        return head + f'<p class="note">{esc(str(exc))}</p>'
    return (head + f'<p class="caption">{esc(text("diagram.report_note", lang))}</p>'
            f'<div class="diagram" style="max-width:1280px">{picture}</div>')


def _model_section(index: int, analysis: Analysis, figures: _Figures,
                   latency: tuple[LatencyResult, tuple[Timing, ...]] | None, erf: ERFResult | None = None,
                   sweeps: Sequence[Sweep] = ()) -> str:
    grown = analysis.growth
    lines = summary_lines(analysis)
    split = next(i for i, (label, _) in enumerate(lines) if label == "Convention")
    parts = [
        f'<section class="model" id="model-{index}"><h2>{esc(analysis.model)}</h2>',
        f'<p class="subtitle">{esc(title(analysis))}</p>',
        _cards(analysis, grown),
        _definitions(lines[:split], "totals"),
        "<h3>Where the parameters, compute and memory are</h3>",
    ]
    profile = profile_figure(analysis)
    parts.append(figures.div(profile) if profile else '<p class="note">No layer has parameters, MACs or outputs.</p>')
    parts.append(_diagram(analysis))
    parts.append("<h3>Receptive field</h3>")
    parts.append(f'<p class="caption">{esc(" · ".join(growth_lines(analysis, grown)[1:]))}</p>')
    fig = rf_figure(analysis, grown)
    parts.append(figures.div(fig) if fig else '<p class="note">No spatial layers: no receptive field to show.</p>')
    if erf is not None:
        parts.append("<h3>Effective receptive field</h3>")
        parts.append(f'<p class="caption">{esc(" · ".join(erf_lines(erf)[:2]))}</p>')
        parts.append(figures.div(erf_figure(erf)))
    if sweeps:
        parts.append("<h3>What if</h3>")
        for sweep, line in zip(sweeps, sweep_lines(sweeps), strict=True):
            parts.append(f'<p class="caption">{esc(line)}</p>')
            parts.append(figures.div(sweep_figure(sweep)))
    parts.append("<h3>Latency</h3>")
    if latency is None:
        parts.append('<p class="note not-measured">Latency: <strong>not measured</strong>. Pass '
                     "<code>--latency FILE.json</code> with per-layer times to add a latency plot and a roofline.</p>")
    elif not latency[1]:
        whole = latency[0].reported.whole
        parts.append(f'<p class="note">Latency: {whole.median_ms:,.3f} ms per forward '
                     f"({esc(_measured_on(latency[0]))}); no per-layer times were measured.</p>")
    else:
        result, timings = latency
        parts.append(figures.div(latency_figure(result, timings)))
        roof = roofline_figure(result, timings)
        parts.append(figures.div(roof) if roof else '<p class="note">No measured layer does floating-point work.</p>')
    parts.append("<h3>Layers</h3>")
    parts.append(_definitions(lines[split:], "convention"))
    parts.append(_table(analysis, f"layers-{index}"))
    parts.append("</section>")
    return "\n".join(parts)


def _comparison(analyses: Sequence[Analysis], figures: _Figures) -> str:
    def final_rf(a: Analysis) -> str:
        final = a.growth.final
        return f"{field_text(final.rf)} px" if final is not None else "-"

    rows: tuple[tuple[str, Callable[[Analysis], str]], ...] = (
        ("Input", lambda a: units.shape(a.input_shape)),
        ("Parameters", lambda a: units.exact(a.totals.params)),
        ("MACs", lambda a: f"{units.si(a.totals.macs)}MAC"),
        ("FLOPs", lambda a: f"{units.si(a.totals.flops)}FLOP"),
        ("Layer outputs", lambda a: units.nbytes(a.totals.activation_bytes)),
        ("Peak live, inference", lambda a: units.nbytes(a.totals.peak_activation_bytes)),
        ("Saved for backward", lambda a: units.nbytes(a.totals.training_activation_bytes)),
        ("Parameter memory", lambda a: units.nbytes(a.totals.param_bytes)),
        ("Receptive field", final_rf),
    )
    head = "".join(f'<th scope="col"><a href="#model-{i}">{esc(a.model)}</a></th>' for i, a in enumerate(analyses))
    body = "".join(
        f'<tr><th scope="row">{esc(label)}</th>' + "".join(f'<td class="num">{esc(cell(a))}</td>' for a in analyses)
        + "</tr>"
        for label, cell in rows
    )
    return ('<section class="comparison" id="comparison"><h2>Comparison</h2>'
            f'<div class="table-wrap fit"><table class="totals"><thead><tr><th></th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>" + figures.div(comparison_figure(analyses)) + "</section>")


def _conventions(analyses: Sequence[Analysis]) -> str:
    groups: list[tuple[list[str], Mapping[str, str]]] = []
    for a in analyses:
        same = next((g for g in groups if g[1] == a.conventions), None)
        if same is None:
            groups.append(([a.model], a.conventions))
        else:
            same[0].append(a.model)
    parts = ['<section class="conventions" id="conventions"><h2>Counting conventions</h2>']
    for models, conventions in groups:
        if len(groups) > 1:
            parts.append(f"<h3>{esc(', '.join(models))}</h3>")
        parts.append(_definitions(conventions.items(), "conventions-list"))
    return "\n".join(parts) + "</section>"


def render_report(analyses: Sequence[Analysis], latency: Sequence[LatencyResult] | None = None,
                  erf: Sequence[ERFResult | None] = (), sweeps: Sequence[Sweep] = ()) -> str:
    """The whole report as one HTML document; `latency` holds measured results, at most one per model;
    `erf`, when given, the effective receptive field of each model (in order); `sweeps` what-if
    sweeps, each shown in the section of the analysis of the same model."""
    if not analyses:
        raise UsageError("a report needs at least one model")
    measured = match_latency(latency or (), analyses)
    figures = _Figures()
    names = ", ".join(a.model for a in analyses)
    sections = [_comparison(analyses, figures)] if len(analyses) > 1 else []
    fields = list(erf) + [None] * (len(analyses) - len(erf))
    sections += [_model_section(i, a, figures, measured.get(i), fields[i], [s for s in sweeps if s.model == a.model])
                 for i, a in enumerate(analyses)]
    sections.append(_conventions(analyses))
    nav = "".join(f'<a href="#model-{i}">{esc(a.model)}</a>' for i, a in enumerate(analyses))
    if len(analyses) > 1:
        nav = '<a href="#comparison">comparison</a>' + nav
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>archstat report: {esc(names)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>archstat report <span>{esc(names)}</span></h1><nav>{nav}'
        '<a href="#conventions">conventions</a></nav>'
        "<p>MACs are multiply-accumulates; FLOPs count a multiply-add as 2, plus bias, normalisation, "
        "activation, pooling and elementwise work.</p></header><main>"
        + "\n".join(sections)
        + f'</main><footer>archstat {esc(__version__)}</footer>'
        f"<script>{get_plotlyjs()}</script>{figures.script()}<script>{TABLE_JS}</script></body></html>\n"
    )


CSS = """
:root{--ink:#1d2330;--muted:#5b6473;--line:#dde1e7;--soft:#f4f6f9;--accent:#0072B2}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 Inter,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
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
  count.textContent=shown+' of '+rows.length+' layers';
 }
 search.addEventListener('input',filter);leaves.addEventListener('change',filter);
});
})();
"""

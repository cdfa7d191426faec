"""`archstat report MODEL [MODEL ...] -o FILE.html`: one self-contained HTML report."""

from __future__ import annotations

from typing import Any

import click

from archstat.cli.options import SHAPE_HELP


def _read_latency(path: str) -> dict[str, Any]:
    from archstat.analysis.loading import read_json_file
    from archstat.errors import UsageError
    from archstat.report.html import parse_latency

    data = read_json_file(path, "--latency")
    try:
        parse_latency(data)
    except UsageError as exc:
        raise UsageError(f"--latency {path}: {exc}") from None
    assert isinstance(data, dict)
    return data


@click.command("report")
@click.argument("models", nargs=-1, required=True, metavar="MODEL [MODEL ...]")
@click.option("--input", "input_text", metavar="SHAPE", help=SHAPE_HELP + "; applies to every MODEL")
@click.option("-O", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="builder option for every MODEL, e.g. -O num_classes=10 (repeatable)")
@click.option("--latency", "latency_path", metavar="FILE.json",
              help='measured per-layer times: {"device": ..., "peak_flops": ..., "peak_bandwidth": ..., '
                   '"layers": [{"path": ..., "ms": ...}]} (see archstat/report/html.py)')
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="the HTML file to write")
def command(models: tuple[str, ...], input_text: str | None, options: tuple[str, ...], latency_path: str | None,
            output: str) -> None:
    """A self-contained HTML report of MODELs (zoo names, package.module:attr or file.py:attr): cards,
    plots, the sortable per-layer table and, with several models, a comparison. Works offline."""
    from archstat.analysis.analyze import analyze
    from archstat.analysis.loading import load_model
    from archstat.cli.options import emit, parse_option, parse_shape, resolve_input, status
    from archstat.report.html import render_report
    from archstat.report.output import check_writable

    check_writable(output)
    builder_options = dict(parse_option(o) for o in options)
    given = parse_shape(input_text, "--input") if input_text is not None else None
    latency = _read_latency(latency_path) if latency_path is not None else None
    analyses = []
    for name in models:
        loaded = load_model(name, device="meta", options=builder_options)
        shape = resolve_input(loaded.input_shape, given) or loaded.input_shape
        with status(f"analysing {loaded.label}"):
            analyses.append(analyze(loaded.module, shape, label=loaded.label))
    with status("rendering the report"):
        page = render_report(analyses, latency)
    emit(page, output)

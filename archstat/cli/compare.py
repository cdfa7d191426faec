"""`archstat compare`: several models side by side, and the accuracy-versus-operations bubble chart."""

from __future__ import annotations

import click

from archstat.cli.options import progress_bar
from archstat.report.writers import FORMATS

PROGRESS_FROM = 4      # models; fewer finish before a progress bar would be worth drawing


@click.command("compare")
@click.argument("models", nargs=-1, required=True, metavar="MODEL...")
@click.option("--input", "input_text", metavar="SHAPE",
              help="input shape for every model, e.g. 1x3x224x224 (default: each model's own)")
@click.option("--latency", "latency_files", multiple=True, metavar="FILE.json",
              help="a result saved by `archstat latency MODEL -o FILE.json`: adds that model's measured time "
                   "(repeatable, one per model)")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)),
              help="output format (default: from the -o suffix, else table)")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write the table to this file instead of stdout")
@click.option("--plot", metavar="FILE",
              help="also draw top-1 against GMACs, bubble area = parameters: .svg, .png, .pdf or .html")
def command(models: tuple[str, ...], input_text: str | None, latency_files: tuple[str, ...], fmt: str | None,
            output: str | None, plot: str | None) -> None:
    """Params, MACs, FLOPs, memory, final receptive field, published top-1 and measured latency of
    several models side by side. MODEL is a zoo name (or a pattern such as 'resnet*'),
    package.module:attr or path/to/file.py:attr. MACs are multiply-accumulates; FLOPs count a
    multiply-add as 2."""

    from archstat.cli.options import emit, format_for, parse_shape, terminal_width
    from archstat.report.compare import render_comparison
    from archstat.report.output import check_writable
    from archstat.studies.compare import compare, expand_models, load_latency

    fmt = format_for(output, fmt)
    if output:
        check_writable(output)
    if plot:
        from archstat.report.bubble import plot_format

        plot_format(plot)
        check_writable(plot)
    given = parse_shape(input_text, "--input") if input_text is not None else None
    timings = load_latency(latency_files, "--latency")
    names = expand_models(models)
    with progress_bar(len(names), "analysing", minimum=PROGRESS_FROM) as step:
        rows = compare(names, given, timings, progress=step)
    figure = None
    if plot:
        from archstat.report.bubble import bubble_figure

        figure = bubble_figure(rows)   # before any output: it refuses models without a top-1
    width = terminal_width()
    emit(render_comparison(rows, fmt, width), output)
    if plot:
        from archstat.report.bubble import export

        export(figure, plot)
        click.echo(f"wrote {plot}", err=True)

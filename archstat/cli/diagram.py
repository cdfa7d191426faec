"""`archstat diagram MODEL -o FILE`: the architecture drawn from the recorded forward."""

from __future__ import annotations

from pathlib import Path

import click

from archstat.cli.options import input_options, lang_options


@click.command("diagram")
@click.argument("model", metavar="MODEL")
@input_options
@click.option("-O", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="builder option, e.g. -O num_classes=10 (repeatable)")
@click.option("--block", default="", metavar="PATH",
              help="draw only the module at PATH (as `summary` names it: layer1, inception3a)")
@click.option("--depth", type=int, default=None, metavar="N",
              help="expand blocks N levels below MODEL or --block (default: the deepest level that fits a slide)")
@click.option("--annotate", "annotate_text", default="shapes", show_default=True, metavar="LIST",
              help="what each box shows besides its type, comma-separated: shapes, params, macs, rf")
@lang_options
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="FILE.svg, .png, .pdf (16:9 slides), .tex (a TikZ picture) or .html (interactive)")
def command(model: str, input_texts: tuple[str, ...], inputs_spec: str | None, options: tuple[str, ...],
            block: str, depth: int | None, annotate_text: str, lang: str, output: str) -> None:
    """Draw MODEL's architecture from the same recorded forward as `summary`: boxes are layers or
    blocks with their output shape, branches side by side, residual shortcuts as bypasses (dashed
    when a projection), repeated identical blocks as one box ×N. Layout by Graphviz."""
    from archstat.analysis.analyze import analyze
    from archstat.analysis.graph import build_graph
    from archstat.analysis.loading import load_model
    from archstat.cli.options import analysis_inputs, parse_option, status
    from archstat.errors import UsageError
    from archstat.report.diagram import FORMATS, check_annotations, layout, render
    from archstat.report.output import atomic_write, check_writable

    fmt = Path(output).suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise UsageError(f"-o {output}: unknown suffix; write one of {', '.join('.' + f for f in FORMATS)}")
    annotate = check_annotations([a.strip() for a in annotate_text.split(",") if a.strip()])
    language = lang
    if depth is not None and depth < 1:
        raise UsageError(f"--depth must be at least 1, not {depth}")
    check_writable(output)
    loaded = load_model(model, device="meta", options=dict(parse_option(o) for o in options))
    given = analysis_inputs(loaded, input_texts, inputs_spec)
    with status(f"analysing {loaded.label}"):
        analysis = analyze(loaded.module, **given, label=loaded.label)
    graph = build_graph(analysis, block, depth)
    with status("laying out and drawing"):
        data = render(layout(graph, annotate=annotate, lang=language), fmt)
    atomic_write(output, data)
    click.echo(f"wrote {output}", err=True)

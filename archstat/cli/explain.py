"""`archstat explain MODEL [LAYER_OR_BLOCK]`: how every number of one row comes about."""

from __future__ import annotations

import click

from archstat.cli.options import (
    analysis_inputs,
    emit,
    format_for,
    input_options,
    lang_options,
    parse_option,
    status,
    terminal_width,
)
from archstat.report.output import check_writable
from archstat.report.writers import FORMATS, render


@click.command("explain")
@click.argument("model")
@click.argument("layer", required=False, default="")
@input_options
@click.option("-O", "--option", "options", multiple=True, metavar="KEY=VALUE", help="builder option (repeatable)")
@click.option("--vs-tools", is_flag=True,
              help="add fvcore's and FlopCounterMode's counts for the same layer (a real CPU run of it), "
                   "and the paper's where known, each with why it differs")
@lang_options
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)),
              help="output format (default: from the -o suffix, else table)")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to this file instead of stdout")
def command(model: str, layer: str, input_texts: tuple[str, ...], inputs_spec: str | None, options: tuple[str, ...],
            vs_tools: bool, lang: str, fmt: str | None, output: str | None) -> None:
    """How every number of LAYER_OR_BLOCK's row in MODEL comes about, with the values substituted
    (the whole model when no layer is named; paths as archstat summary shows them)."""
    from archstat.analysis.analyze import analyze
    from archstat.analysis.loading import load_model
    from archstat.report.explain import block_document, layer_document, tools_document
    from archstat.studies.explain import LayerExplanation
    from archstat.studies.explain_block import explain

    language = lang
    fmt = format_for(output, fmt)
    if output:
        check_writable(output)
    loaded = load_model(model, device="meta", options=dict(parse_option(o) for o in options))
    given = analysis_inputs(loaded, input_texts, inputs_spec)
    with status(f"analysing {loaded.label}"):
        analysis = analyze(loaded.module, **given, label=loaded.label)
    explained = explain(analysis, loaded.module, layer)
    if isinstance(explained, LayerExplanation):
        document = layer_document(explained, language)
    else:
        document = block_document(explained, language)
    if vs_tools:
        from archstat.studies.explain_tools import tool_figures

        module = dict(loaded.module.named_modules())[explained.row.path]
        with status("running fvcore and FlopCounterMode on the layer"):
            figures = tool_figures(loaded.label, module, explained.row)
        document = document + tools_document(figures, language)
    emit(render(document, fmt, terminal_width()), output)

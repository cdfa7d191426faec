"""`archstat sweep MODEL`: cost and memory at each value of one knob, with the power laws and marks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from archstat.cli.options import input_options, training_options, training_step
from archstat.errors import UsageError
from archstat.report.writers import FORMATS

if TYPE_CHECKING:
    from archstat.studies.sweep import Axis, Swept

PROGRESS_FROM = 4      # points; fewer finish before a progress bar would be worth drawing
AXIS_FLAGS = {"size": "--size", "batch": "--batch", "seq": "--seq"}


def swept_of(size: str | None, batch: str | None, seq: str | None,
             options: tuple[str, ...]) -> tuple[Swept, dict[str, Any]]:
    """The one thing swept (`Swept`) and the fixed builder options, from the flags; exactly one of
    --size, --batch, --seq or an -O with several values (`-O key=v1,v2` or `-O key=START:STOP:STEP`)."""
    from archstat.cli.options import parse_option
    from archstat.studies.sweep import Swept, parse_range, split_list

    given: list[Swept] = []
    axes: tuple[tuple[Axis, str | None], ...] = (("size", size), ("batch", batch), ("seq", seq))
    for axis, text in axes:
        if text is not None:
            given.append(Swept.of(axis, text))
    fixed: dict[str, Any] = {}
    for option in options:
        key, _, raw = option.partition("=")
        key = parse_option(option)[0]   # a malformed -O is refused here, with parse_option's words
        ranged = parse_range(raw.strip(), f"-O {key}")
        pieces = split_list(raw)
        if ranged is None and len(pieces) == 1:
            fixed[key] = parse_option(option)[1]
            continue
        values = list(ranged) if ranged is not None else [parse_option(f"{key}={p}")[1] for p in pieces]
        given.append(Swept.of("option", values, key))
    if not given:
        raise UsageError("nothing to sweep: give one of --size, --batch, --seq or -O KEY=V1,V2,...")
    if len(given) > 1:
        names = [AXIS_FLAGS.get(s.axis, f"-O {s.name}") for s in given]
        raise UsageError(f"sweep one thing at a time: {' and '.join(names)} were both given")
    return given[0], fixed


@click.command("sweep")
@click.argument("model")
@click.option("--size", metavar="SPEC", help="input sizes: START:STOP:STEP (128:512:32), START:STOP:xF, or a list "
              "of sizes and HxW (224,320x240)")
@click.option("--batch", metavar="SPEC", help="batch sizes: a list (1,8,64) or a range (1:256:x2)")
@click.option("--seq", metavar="SPEC", help="sequence lengths of a token model: 128:4096:x2 or a list")
@click.option("-O", "--option", "options", multiple=True, metavar="KEY=VALUE[,VALUE...]",
              help="builder or config option; several values (-O width_mult=0.5,1.0 or -O num_hidden_layers=2:12:2) "
                   "sweep it, one value fixes it (repeatable)")
@input_options
@training_options
@click.option("--dtype", default="float32", type=click.Choice(["float32", "float16", "bfloat16", "float64"]))
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)),
              help="output format (default: from the -o suffix, else table)")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write the tables to this file instead of stdout")
@click.option("--plot", metavar="FILE", help="also draw the sweep: .svg, .png, .pdf or .html (plotly.js embedded)")
def command(model: str, size: str | None, batch: str | None, seq: str | None, options: tuple[str, ...],
            input_texts: tuple[str, ...], inputs_spec: str | None, training: bool, freeze: tuple[str, ...],
            optimizer: str | None, amp: str | None, gpu_memory: tuple[float, ...], dtype: str, fmt: str | None,
            output: str | None, plot: str | None) -> None:
    """Analyse MODEL on meta at every value of one knob (input size, batch, sequence length or a
    builder option): parameters, MACs, FLOPs, the three memory figures and the receptive field's
    coverage per point, a power law fitted to each, and the marks (the paper's input, where the
    final field stops covering the input). With --training, also each point's training-step
    memory and where it passes a GPU's. MACs are multiply-accumulates; FLOPs count a
    multiply-add as 2."""
    from archstat.analysis.loading import load_model
    from archstat.cli.options import analysis_inputs, emit, format_for, progress_bar, terminal_width
    from archstat.report.output import check_writable
    from archstat.report.sweep import sweep_document
    from archstat.report.writers import render
    from archstat.studies.sweep import sweep

    fmt = format_for(output, fmt)
    for path in (output, plot):
        if path:
            check_writable(path)
    if plot:
        from archstat.report.bubble import plot_format

        plot_format(plot)
    swept, fixed = swept_of(size, batch, seq, options)
    given: dict[str, Any] = {}
    if input_texts or inputs_spec:
        loaded = load_model(model, options=fixed)
        given = analysis_inputs(loaded, input_texts, inputs_spec)
    with progress_bar(len(swept.values), "analysing", minimum=PROGRESS_FROM) as step:
        result = sweep(model, swept, options=fixed, dtype=dtype, progress=step, **given,
                       **training_step(training, freeze, optimizer, amp, gpu_memory))
    figure = None
    if plot:
        from archstat.report.sweep_figure import sweep_figure

        figure = sweep_figure(result)
    emit(render(sweep_document(result), fmt, terminal_width()), output)
    if figure is not None and plot:
        from archstat.report.bubble import export

        export(figure, plot)
        click.echo(f"wrote {plot}", err=True)

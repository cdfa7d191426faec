"""`archstat summary MODEL`: the per-layer table, totals and conventions."""

from __future__ import annotations

import click

from archstat.cli.options import (
    analysis_inputs,
    emit,
    fallback_budget,
    fallback_options,
    format_for,
    input_options,
    parse_option,
    status,
    terminal_width,
    training_options,
    training_step,
)
from archstat.errors import ArchstatError
from archstat.report.output import check_writable
from archstat.report.writers import FORMATS, render


@click.command()
@click.argument("model")
@input_options
@click.option("-O", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="builder option, e.g. -O num_classes=10 (repeatable)")
@click.option("--seq", type=click.IntRange(min=1), metavar="N",
              help="tokens in the default input of an hf: text model (default 128)")
@click.option("--depth", type=click.IntRange(min=1), help="show rows down to this depth (default: all)")
@click.option("--dtype", default="float32", type=click.Choice(["float32", "float16", "bfloat16", "float64"]))
@click.option("--device", default="meta", show_default=True,
              help="meta counts without computing; cpu or cuda run the forward for real")
@fallback_options
@training_options
@click.option("--latency", "latency_path", metavar="FILE.json",
              help="with --training: a result of `archstat latency` whose CUDA peak stands beside the estimate")
@click.option("--check", is_flag=True,
              help="reconcile the counts with fvcore and FlopCounterMode (real CPU run)")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)),
              help="output format (default: from the -o suffix, else table)")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to this file instead of stdout")
def summary(model: str, input_texts: tuple[str, ...], inputs_spec: str | None, options: tuple[str, ...],
            seq: int | None, depth: int | None, dtype: str, device: str, cpu_fallback_limit: str,
            no_cpu_fallback: bool, training: bool, freeze: tuple[str, ...], optimizer: str | None, amp: str | None,
            gpu_memory: tuple[float, ...], latency_path: str | None, check: bool, fmt: str | None,
            output: str | None) -> None:
    """Per-layer table of MODEL: a zoo name, package.module:attr, path/to/file.py:attr or hf:DIR_OR_ID."""
    from archstat.analysis.analyze import analyze, resolve_device
    from archstat.analysis.loading import load_model
    from archstat.measure.results import read_result

    fmt = format_for(output, fmt)
    if output:
        check_writable(output)
    builder_options = dict(parse_option(o) for o in options)
    budget = fallback_budget(cpu_fallback_limit, no_cpu_fallback)
    measured = read_result(latency_path, "--latency") if latency_path else None
    step = training_step(training or bool(latency_path), freeze, optimizer, amp, gpu_memory)
    torch_device = resolve_device(device)
    loaded = load_model(model, device=str(torch_device), options=builder_options, seq=seq)
    given = analysis_inputs(loaded, input_texts, inputs_spec)
    with status(f"analysing {loaded.label}"):
        analysis = analyze(loaded.module, **given, dtype=dtype, device=torch_device, label=loaded.label,
                           saved_for_backward=True, cpu_fallback_bytes=budget, **step)
    if not check:
        from archstat.report.summary import summary_document

        emit(render(summary_document(analysis, depth, measured), fmt, terminal_width()), output)
        return
    from archstat.report.check import summary_with_check
    from archstat.studies.check import reconcile

    with status("running fvcore and FlopCounterMode on a real CPU forward"):
        result = reconcile(model, **given, options=builder_options, seq=seq)
    emit(render(summary_with_check(analysis, result, depth), fmt, terminal_width()), output)
    if not result.ok:
        raise ArchstatError("--check: archstat disagrees with fvcore or FlopCounterMode (see above)")

"""`archstat rf`: receptive-field growth of a model, or the --stack calculator."""

from __future__ import annotations

import click

from archstat.cli.options import (
    analysis_inputs,
    emit,
    format_for,
    input_options,
    parse_option,
    parse_shape,
    status,
    terminal_width,
)
from archstat.errors import ArchstatError, UsageError
from archstat.report.output import check_writable
from archstat.report.writers import FORMATS, render


@click.command()
@click.argument("model", required=False)
@input_options
@click.option("-O", "--option", "options", multiple=True, metavar="KEY=VALUE", help="builder option (repeatable)")
@click.option("--stack", metavar="SPEC",
              help="a stack of layers instead of a model, e.g. 3x3x3, 1x7,7x1 or 7x7s2,max3s2")
@click.option("--vs", metavar="SPEC", help="with --stack: compare with this stack (default: the single conv)")
@click.option("--channels", type=click.IntRange(min=1), help="with --stack: C, for absolute weights and MACs")
@click.option("--size", "size_text", metavar="HxW", help="with --stack: input size, for MACs and output sizes")
@click.option("--verify", is_flag=True,
              help="measure each layer's field by back-propagation on a real CPU forward and compare")
@click.option("--limit", type=click.IntRange(min=1),
              help="with --verify: probe at most this many layers (evenly spread; one backward pass each)")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)),
              help="output format (default: from the -o suffix, else table)")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to this file instead of stdout")
def rf(model: str | None, input_texts: tuple[str, ...], inputs_spec: str | None, options: tuple[str, ...],
       stack: str | None, vs: str | None,
       channels: int | None, size_text: str | None, verify: bool, limit: int | None, fmt: str | None,
       output: str | None) -> None:
    """Receptive-field growth of MODEL, or of a --stack of layers (the lectures' comparisons)."""
    fmt = format_for(output, fmt)
    if output:
        check_writable(output)
    width = terminal_width()
    if stack is not None:
        if model is not None or verify:
            raise UsageError("give either MODEL or --stack, not both (--verify needs a MODEL)")
        from archstat.analysis.rf.stack import analyze_stack, parse_stack
        from archstat.report.rf_stack import stack_document

        size = parse_shape(size_text, "--size") if size_text is not None else None
        if size is not None and len(size) != 2:
            raise UsageError(f"malformed --size {size_text!r}: write HxW, like 56x56")
        result = analyze_stack(
            parse_stack(stack), vs=parse_stack(vs, option="--vs") if vs else None, channels=channels,
            size=(size[0], size[1]) if size else None,
        )
        emit(render(stack_document(result), fmt, width), output)
        return
    if model is None:
        raise UsageError("name a MODEL or give --stack SPEC, e.g. archstat rf vgg16 or archstat rf --stack 3x3x3")
    if vs or channels or size_text:
        raise UsageError("--vs, --channels and --size go with --stack")
    if limit is not None and not verify:
        raise UsageError("--limit goes with --verify")
    from archstat.analysis.analyze import analyze
    from archstat.analysis.loading import load_model
    from archstat.report.rf_growth import growth_document

    builder_options = dict(parse_option(o) for o in options)
    loaded = load_model(model, device="meta", options=builder_options)
    given = analysis_inputs(loaded, input_texts, inputs_spec)
    with status(f"analysing {loaded.label}"):
        analysis = analyze(loaded.module, **given, label=loaded.label)
    document = growth_document(analysis)
    if not verify:
        emit(render(document, fmt, width), output)
        return
    from archstat.analysis.rf.verify import verify_fields
    from archstat.report.rf_verify import verification_document

    with status("back-propagating from each layer's centre unit on a real CPU forward"):
        verification = verify_fields(model, analysis, options=builder_options, limit=limit)
    emit(render(document + verification_document(verification), fmt, width), output)
    if not verification.ok:
        raise ArchstatError("--verify: the measured receptive fields disagree with the closed form (see above)")



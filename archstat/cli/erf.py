"""`archstat erf MODEL`: the effective receptive field of the centre unit of chosen layers."""

from __future__ import annotations

import click

from archstat.cli.options import SHAPE_HELP
from archstat.report.writers import FORMATS

PLOT_SUFFIXES = (".svg", ".png", ".pdf", ".html")


def parse_images(text: str) -> tuple[int | None, str | None]:
    """`--images`: a count of Gaussian inputs, or a directory of images."""
    from archstat.errors import UsageError

    if text.isdigit():
        count = int(text)
        if count < 1:
            raise UsageError("--images: give at least 1 image")
        return count, None
    import os

    if os.path.isdir(text):
        return None, text
    raise UsageError(f"--images {text!r}: give a number of noise images or a directory of images")


@click.command("erf")
@click.argument("model")
@click.option("--layer", "layers", multiple=True, metavar="PATH",
              help="a layer's module path, e.g. features.28 (repeatable; default: the last layer at each resolution)")
@click.option("--images", "images_text", default="16", show_default=True, metavar="N|DIR",
              help="N Gaussian-noise inputs, or a directory of images (resized to the input, ImageNet-standardised)")
@click.option("--input", "input_text", metavar="SHAPE", help=SHAPE_HELP + " (the batch is the number of images)")
@click.option("-O", "--option", "options", multiple=True, metavar="KEY=VALUE", help="builder option (repeatable)")
@click.option("--weights", type=click.Path(dir_okay=False), metavar="FILE",
              help="a state dict (torch.save) to load instead of the model's own initialisation")
@click.option("--seed", type=int, default=0, show_default=True, help="seeds the initialisation and the noise")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=16, show_default=True,
              help="images per forward (one backward per layer per batch)")
@click.option("--plot", type=click.Path(dir_okay=False), metavar="FILE",
              help="also write the figure: .svg, .png, .pdf or .html")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)),
              help="output format (default: from the -o suffix, else table)")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to this file instead of stdout")
def command(model: str, layers: tuple[str, ...], images_text: str, input_text: str | None, options: tuple[str, ...],
            weights: str | None, seed: int, device: str, batch: int, plot: str | None, fmt: str | None,
            output: str | None) -> None:
    """The effective receptive field (Luo et al. 2016) of MODEL: per layer the mean |gradient| of the
    centre unit over the input, its std, 68%/95% radii, share of the theoretical field and offset."""
    from pathlib import Path

    from archstat.analysis.analyze import analyze
    from archstat.analysis.loading import load_model, load_weights
    from archstat.analysis.rf.erf import effective_fields, read_images, seeded
    from archstat.cli.options import (
        emit,
        format_for,
        parse_option,
        parse_shape,
        progress_bar,
        resolve_input,
        status,
        terminal_width,
    )
    from archstat.errors import UsageError
    from archstat.report.erf import erf_document
    from archstat.report.output import check_writable
    from archstat.report.writers import render

    fmt = format_for(output, fmt)
    for path in (output, plot):
        if path:
            check_writable(path)
    if plot and Path(plot).suffix.lower() not in PLOT_SUFFIXES:
        raise UsageError(f"--plot {plot!r}: write .svg, .png, .pdf or .html")
    count, directory = parse_images(images_text)
    builder_options = dict(parse_option(o) for o in options)
    with seeded(seed):
        loaded = load_model(model, device="cpu", options=builder_options)
    if weights:
        load_weights(loaded.module, weights)
    given = parse_shape(input_text, "--input") if input_text is not None else None
    shape = resolve_input(loaded.input_shape, given) or loaded.input_shape
    if len(shape) != 4:
        raise UsageError(f"--input {'x'.join(map(str, shape))}: the ERF needs an image input, N×C×H×W")
    with status(f"analysing {loaded.label}"):
        analysis = analyze(loaded.module, (1, *shape[1:]), label=loaded.label)
    inputs = read_images(directory, shape[1:]) if directory else count or 1
    source = f"images from {directory}" if directory else None
    with progress_bar(1, "back-propagating") as step:
        result = effective_fields(
            loaded.module, analysis, list(layers) or None, images=inputs, seed=seed, source=source, device=device,
            batch=batch, progress=(lambda done, total: step(done, total, "")) if step else None,
        )
    if plot:
        from archstat.report.erf import erf_figure

        fig = erf_figure(result)
        with status(f"writing {plot}"):
            if Path(plot).suffix.lower() == ".html":
                from archstat.report.output import atomic_write

                atomic_write(plot, fig.to_html(include_plotlyjs=True, full_html=True))
            else:
                from archstat.report.figures import export

                export(fig, plot)
        click.echo(f"wrote {plot}", err=True)
    emit(render(erf_document(result), fmt, terminal_width()), output)

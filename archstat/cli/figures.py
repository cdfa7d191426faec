"""`archstat figures`: the lectures' figures as images, each with its table (Markdown, LaTeX, CSV)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archstat.cli.options import lang_options
from archstat.errors import UsageError


def _formats(text: str, choices: tuple[str, ...]) -> tuple[str, ...]:
    """`svg,png` → ("svg", "png"); an unknown or empty format is a usage error."""
    formats = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    if not formats:
        raise UsageError(f"--format is empty; give a comma-separated list of {', '.join(choices)}")
    unknown = [f for f in formats if f not in choices]
    if unknown:
        raise UsageError(f"unknown --format {unknown[0]!r}; choose from {', '.join(choices)} (comma-separated)")
    return formats


def _out_dir(out: str) -> Path:
    directory = Path(out)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--out {out}: not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --out {out}: {exc.strerror or exc}") from exc
    return directory


@click.command("figures")
@click.option("--out", default="reports/figures", show_default=True, metavar="DIR",
              help="directory for the images and tables (created if missing)")
@click.option("--format", "format_text", default="svg", show_default=True, metavar="LIST",
              help="image formats, comma-separated: svg, png, pdf")
@lang_options
def command(out: str, format_text: str, lang: str) -> None:
    """The lectures' figures (stacked 3×3 convs, 1×1 bottlenecks, VGG16 memory and parameters,
    receptive-field growth, the zoo, GAP vs FC heads), each with its table as .md, .tex and .csv."""
    from archstat.report.figures import GALLERY, IMAGE_FORMATS, GalleryFigure, write_gallery

    formats = _formats(format_text, IMAGE_FORMATS)
    directory = _out_dir(out)
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=Console(stderr=True), transient=True) as progress:
            names = [entry.name for entry in GALLERY]
            task = progress.add_task(names[0], total=len(names))

            def advance(entry: GalleryFigure, files: list[Path]) -> None:
                following = names.index(entry.name) + 1
                progress.update(task, advance=1, description=names[following] if following < len(names) else "done")

            written = write_gallery(directory, formats, lang=lang, on_figure=advance)
        click.echo(f"wrote {len(written)} files for {len(GALLERY)} figures to {directory}", err=True)
        return

    def report(entry: GalleryFigure, files: list[Path]) -> None:
        suffixes = ",".join(f.suffix.lstrip(".") for f in files)
        click.echo(f"wrote {directory / entry.name}.{{{suffixes}}}", err=True)

    write_gallery(directory, formats, lang=lang, on_figure=report)

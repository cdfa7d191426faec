"""`archstat list`: the zoo, one line per network."""

from __future__ import annotations

import sys
from typing import Any

import click

from archstat.errors import UsageError


@click.command("list")
@click.argument("pattern", default="*")
@click.option("--kind", type=click.Choice(["model", "block"]), help="only networks or only building blocks")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default="table")
def list_command(pattern: str, kind: str | None, fmt: str) -> None:
    """List the zoo: name, paper and year, the paper's variant name, input, parameters."""
    from archstat.report.zoo import render_zoo
    from archstat.studies.zoo import zoo_entries

    entries = zoo_entries(pattern, kind)
    if not entries:
        raise UsageError(f"no model matches {pattern!r}; `archstat list` shows them all")
    _print_or_text(render_zoo(entries, fmt), fmt)


def _print_or_text(result: Any, fmt: str) -> None:
    if fmt == "table":
        from rich.console import Console

        Console(width=None if sys.stdout.isatty() else 160).print(result)
    else:
        click.echo(result, nl=False)

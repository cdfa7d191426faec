"""`archstat list`: the zoo, one line per network."""

from __future__ import annotations

import click

from archstat.errors import UsageError
from archstat.report.writers import FORMATS


@click.command("list")
@click.argument("pattern", default="*")
@click.option("--kind", type=click.Choice(["model", "block"]), help="only networks or only building blocks")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="table")
def list_command(pattern: str, kind: str | None, fmt: str) -> None:
    """List the zoo: name, paper and year, the paper's variant name, input, parameters."""
    from archstat.cli.options import terminal_width
    from archstat.report.writers import render
    from archstat.report.zoo import zoo_document
    from archstat.studies.zoo import zoo_entries

    entries = zoo_entries(pattern, kind)
    if not entries:
        raise UsageError(f"no model matches {pattern!r}; `archstat list` shows them all")
    click.echo(render(zoo_document(entries), fmt, terminal_width()), nl=False)

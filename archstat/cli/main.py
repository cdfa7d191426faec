"""The `archstat` command group: an explicit list of commands, and one line for every ending."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from archstat.cli import compare, figures, latency, listing, report, rf, summary
from archstat.errors import ArchstatError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             invoke_without_command=True, no_args_is_help=False)
@click.version_option(package_name="archstat")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Per-layer shapes, parameters, MACs, FLOPs, memory of classic CNNs (MACs are
    multiply-accumulates; FLOPs count a multiply-add as 2)."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


COMMANDS: tuple[click.Command, ...] = (
    listing.list_command, summary.summary, rf.rf, compare.command, figures.command, latency.command,
    report.command,
)
for _command in COMMANDS:
    cli.add_command(_command)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: one line on stderr and a non-zero exit for every error, never a traceback."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="archstat", standalone_mode=False)
    except ArchstatError as exc:
        click.echo(f"archstat: error: {_one_line(str(exc))}", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"archstat: error: {_one_line(exc.format_message())}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("archstat: aborted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("archstat: interrupted", err=True)
        return 130
    except Exception as exc:  # the promise is one line, never a traceback
        if os.environ.get("ARCHSTAT_DEBUG"):
            raise
        click.echo(f"archstat: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
                   "(set ARCHSTAT_DEBUG=1 for the traceback)", err=True)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `archstat` command group: an explicit list of commands, and one line for every ending."""

from __future__ import annotations

import errno
import gc
import os
import sys
import warnings
from collections.abc import Sequence

import click

from archstat.cli import compare, diagram, erf, explain, figures, latency, listing, report, rf, summary, sweep
from archstat.errors import ArchstatError, exit_call, one_line


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
    report.command, erf.command, diagram.command, explain.command, sweep.command,
)
for _command in COMMANDS:
    cli.add_command(_command)


# Exit codes, as documented in the README.
EXIT_OK = 0
EXIT_ERROR = 1          # the model or the domain: a forward that raises, an input too small, a failed --check
EXIT_USAGE = 2          # the command line: a malformed option, an unknown model, an unwritable -o
EXIT_INTERNAL = 3       # a bug in archstat
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), or KeyboardInterrupt raised by the model's code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: one line on stderr and a non-zero exit for every error, never a traceback.

    Warnings raised while the command runs (PyTorch's, the model's) are held back: an error line
    mentions them, a successful run stays quiet.
    """
    _freeze_imports()
    with warnings.catch_warnings(record=True) as caught:
        try:
            _invoke(list(argv) if argv is not None else sys.argv[1:])
            return EXIT_OK
        except click.exceptions.Exit as exc:   # --help, --version
            return int(exc.exit_code)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                code, line = _ending(exc)
            else:   # the reader of stdout went away (`| head`): nothing left to tell anyone
                _silence_stdout()
                return EXIT_ERROR
        except BaseException as exc:  # the promise is one line, never a traceback
            code, line = _ending(exc)
    if code != EXIT_INTERRUPTED:
        line += _warned(caught)
    click.echo(f"archstat: {line}", err=True)
    return code


_frozen = False


def _freeze_imports() -> None:
    """Exempt what is loaded so far (torch and archstat: ~170,000 objects that live as long as the
    process) from garbage collection, once per process. Otherwise the command's first full
    collection, which building any model sets off, walks all of them: 0.1 s, a tenth of the
    work of `summary resnet152` beyond importing torch."""
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True


def _invoke(args: list[str]) -> None:
    # Not cli.main(): on Ctrl-C it prints an empty line of its own before raising Abort.
    with cli.make_context("archstat", args) as ctx:
        cli.invoke(ctx)


def _ending(exc: BaseException) -> tuple[int, str]:
    """The exit code and the line for an exception that ended the command."""
    if isinstance(exc, ArchstatError):
        return exc.exit_code, f"error: {one_line(exc.cli_text())}"
    if isinstance(exc, click.ClickException):
        return exc.exit_code, f"error: {one_line(exc.format_message())}"
    if isinstance(exc, KeyboardInterrupt | click.exceptions.Abort):
        return EXIT_INTERRUPTED, "interrupted"
    if isinstance(exc, SystemExit):   # click never raises it here, so the model's code did
        return EXIT_ERROR, f"error: the model's code called {exit_call(exc)}"
    if os.environ.get("ARCHSTAT_DEBUG") or not isinstance(exc, Exception):
        raise exc
    return EXIT_INTERNAL, (f"internal error: {type(exc).__name__}: {one_line(exc)} "
                           "(set ARCHSTAT_DEBUG=1 for the traceback)")


def _warned(caught: list[warnings.WarningMessage]) -> str:
    """' (2 warnings while it ran, the first: UserWarning: ...)', or nothing."""
    if not caught:
        return ""
    first = caught[0]
    text = one_line(f"{first.category.__name__}: {first.message}")
    text = text if len(text) <= WARNING_CHARS else text[: WARNING_CHARS - 1] + "…"
    count = "1 warning" if len(caught) == 1 else f"{len(caught)} warnings"
    return f" ({count} while it ran, the first: {text})"


WARNING_CHARS = 120


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's final flush does not fail a second time."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())

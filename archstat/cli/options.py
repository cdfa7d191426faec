"""What every command shares: parsing shapes and options, choosing a format, writing output, progress."""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from archstat.errors import UsageError
from archstat.report.output import atomic_write

SHAPE_HELP = "input shape, e.g. 1x3x224x224 (the batch may be left out: 3x224x224)"


def parse_shape(text: str, option: str = "--input") -> tuple[int, ...]:
    """"1x3x224x224" -> (1, 3, 224, 224); a clear error otherwise."""
    if not text.strip():
        raise UsageError(f"malformed {option} '': write sizes joined by x, like 1x3x224x224")
    parts = text.lower().replace("×", "x").split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(f"malformed {option} {text!r}: write sizes joined by x, like 1x3x224x224") from None
    if any(d <= 0 for d in dims):
        raise UsageError(f"malformed {option} {text!r}: every size must be a positive integer")
    return dims


def parse_option(text: str) -> tuple[str, Any]:
    """"num_classes=10" -> ("num_classes", 10); values are Python literals or plain strings."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip().isidentifier():
        raise UsageError(f"malformed -O {text!r}: write key=value, like -O num_classes=10")
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return key.strip(), lowered == "true"
    if lowered in ("none", "null"):
        return key.strip(), None
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        value = raw.strip()
    return key.strip(), value


def resolve_input(model_default: Sequence[int], given: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """A given shape without the batch axis gets a batch of one."""
    if given is not None and len(given) == len(model_default) - 1:
        return (1, *given)
    return given


def format_for(path: str | None, fmt: str | None) -> str:
    """The output format: as given, else from the -o suffix, else the terminal table."""
    if fmt:
        return fmt
    from archstat.report.writers import FORMATS

    suffix = Path(path).suffix.lower() if path else ""
    return next((name for name, writer in FORMATS.items() if writer.suffix and writer.suffix == suffix), "table")


def terminal_width() -> int:
    """The terminal's width, or 160 columns when the output is not a terminal."""
    return os.get_terminal_size().columns if sys.stdout.isatty() else 160


def emit(text: str, output: str | None) -> None:
    """Print the text, or write it to `output` and say so on stderr."""
    if output:
        atomic_write(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


class status:
    """A spinner on stderr while a slow step runs, only when stderr is a terminal."""

    def __init__(self, message: str) -> None:
        self.message = message
        self._status: Any = None

    def __enter__(self) -> None:
        if sys.stderr.isatty():
            from rich.console import Console

            self._status = Console(stderr=True).status(self.message)
            self._status.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)

"""The command line: one module per command; `main.py` holds the group and the list of commands."""

from __future__ import annotations

from archstat.cli.main import cli, main

__all__ = ["cli", "main"]

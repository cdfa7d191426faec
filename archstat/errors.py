"""Errors that archstat reports to users as one line, never as a traceback."""

from __future__ import annotations


class ArchstatError(Exception):
    """Base class: a problem with the user's input or model, shown as one line."""

    exit_code: int = 1


class UsageError(ArchstatError):
    """Malformed command-line input (shape, option, spec)."""

    exit_code = 2


class UnknownModelError(UsageError):
    """A model name that is not in the zoo and not an importable reference."""


class ForwardError(ArchstatError):
    """The model's forward raised; the message names the layer where it did."""


class InputTooSmallError(ForwardError):
    """The input collapsed to an empty tensor inside the network."""

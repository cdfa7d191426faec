"""Errors that archstat reports to users as one line, never as a traceback."""

from __future__ import annotations

from typing import ClassVar


class ArchstatError(Exception):
    """Base class: a problem with the user's input or model, shown as one line."""

    exit_code: int = 1

    def cli_text(self) -> str:
        """The message as the command line shows it (parameters named as its flags)."""
        return str(self)


class UsageError(ArchstatError):
    """Malformed command-line input (shape, option, spec)."""

    exit_code = 2


class UnknownModelError(UsageError):
    """A model name that is not in the zoo and not an importable reference."""


class ForwardError(ArchstatError):
    """The model's forward raised; the message names the layer where it did."""


class DataDependentError(ForwardError):
    """An op needed tensor values the meta device does not have (`.item()`, `nonzero`, a mask)."""

    PARAMETER = "device='cpu'"
    LIMIT = "cpu_fallback_bytes"
    FLAGS: ClassVar[dict[str, str]] = {PARAMETER: "--device cpu", LIMIT: "--cpu-fallback-limit"}

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message   # the op and the layer: "aten.nonzero at fc (...) needs tensor values"

    def cli_text(self) -> str:
        """The command line names the flags instead of the parameters."""
        text = str(self)
        for parameter, flag in self.FLAGS.items():
            text = text.replace(parameter, flag)
        return text


class InputTooSmallError(ForwardError):
    """The input collapsed to an empty tensor inside the network."""


# PyTorch appends the C++ stack to some messages: "Exception raised from f at file:line (most
# recent call first):" and then one "frame #N: ..." line per frame.
_CPP_BACKTRACE = "Exception raised from "


def one_line(message: object) -> str:
    """A message (or an exception's) as one line for the user: whitespace folded, C++ backtrace cut."""
    text = str(message)
    cut = text.find(_CPP_BACKTRACE)
    if cut >= 0:
        text = text[:cut]
    return " ".join(text.split())


def exit_call(exc: SystemExit) -> str:
    """How user code ended the program: `sys.exit()`, `sys.exit(3)`, `sys.exit('bye')`."""
    return "sys.exit()" if exc.code is None else f"sys.exit({exc.code!r})"


def abbreviate(text: str, limit: int = 40) -> str:
    """The text as a quoted literal for a message, cut in the middle when longer than `limit` characters."""
    if len(text) <= limit:
        return repr(text)
    half = limit // 2
    return repr(f"{text[:half]}…{text[-half:]}") + f" ({len(text):,} characters)"

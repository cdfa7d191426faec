"""What every command shares: parsing shapes and options, choosing a format, writing output, progress."""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from archstat.errors import UsageError, abbreviate
from archstat.report.output import STDOUT, atomic_write

if TYPE_CHECKING:
    from archstat.analysis.inputs import InputSpec
    from archstat.analysis.loading import LoadedModel

F = TypeVar("F", bound=Callable[..., Any])

SHAPE_HELP = "input shape, e.g. 1x3x224x224 (the batch may be left out: 3x224x224)"
INPUT_HELP = ("[NAME=]SHAPE[:DTYPE], e.g. 1x3x224x224 or input_ids=1x128:int64 (repeatable: unnamed ones are "
              "positional in order, named ones keyword arguments; a zoo model's batch may be left out)")
INPUTS_HELP = "file.py:fn or package.module:fn returning the inputs: a tensor, a tuple, a dict or archstat.Call"


MAX_SIZE = 2**31 - 1   # one axis; PyTorch's indexing and most kernels stop at int32 sizes
MAX_ELEMENTS = 2**62   # a whole tensor, with room below int64 for the byte count
MAX_LITERAL = 10_000   # characters in one -O value; a typed option is far shorter


def parse_shape(text: str, option: str) -> tuple[int, ...]:
    """"1x3x224x224" -> (1, 3, 224, 224); a one-line error naming `option` otherwise."""
    if not text.strip():
        raise UsageError(f"malformed {option} '': write sizes joined by x, like 1x3x224x224")
    parts = [p.strip() for p in text.lower().replace("×", "x").split("x")]
    if not all(p.isascii() and p.isdigit() for p in parts):
        if all(p.lstrip("+-").isdigit() for p in parts):
            raise UsageError(f"malformed {option} {abbreviate(text)}: every size must be a positive integer")
        raise UsageError(f"malformed {option} {abbreviate(text)}: write sizes joined by x, like 1x3x224x224")
    if any(len(p) > len(str(MAX_SIZE)) for p in parts) or any(int(p) > MAX_SIZE for p in parts):
        raise UsageError(f"{option} {abbreviate(text)}: a size above {MAX_SIZE:,} (2³¹ − 1) is not supported")
    dims = tuple(int(p) for p in parts)
    if any(d <= 0 for d in dims):
        raise UsageError(f"malformed {option} {abbreviate(text)}: every size must be a positive integer")
    elements = 1
    for d in dims:
        elements *= d
    if elements > MAX_ELEMENTS:
        raise UsageError(f"{option} {abbreviate(text)}: {elements:.3g} elements is more than a tensor can hold")
    return dims


def parse_option(text: str, option: str = "-O") -> tuple[str, Any]:
    """"num_classes=10" -> ("num_classes", 10); values are Python literals or plain strings.

    A value too deeply nested, too long or too large for Python's parser is a one-line error
    naming `option`, never a RecursionError or MemoryError.
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key.isidentifier():
        raise UsageError(f"malformed {option} {abbreviate(text)}: write key=value, like {option} num_classes=10")
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    if lowered in ("none", "null"):
        return key, None
    if len(raw) > MAX_LITERAL:
        raise UsageError(f"{option} {key}: the value is {len(raw):,} characters long; at most {MAX_LITERAL:,}")
    try:
        value = ast.literal_eval(raw)
    except (RecursionError, MemoryError):
        raise UsageError(f"{option} {key}: the value {abbreviate(raw)} is nested too deeply to read") from None
    except (SyntaxError, ValueError) as exc:
        if "too many nested" in str(exc) or "too complex" in str(exc):
            raise UsageError(f"{option} {key}: the value {abbreviate(raw)} is nested too deeply to read") from None
        if "digits" in str(exc):   # int() refuses more than sys.get_int_max_str_digits() digits
            raise UsageError(f"{option} {key}: the number in {abbreviate(raw)} is too large") from None
        value = raw   # not a literal: a plain string, as -O shortcut=A
    except TypeError:   # a literal that cannot be built, such as a set of lists
        raise UsageError(f"{option} {key}: the value {abbreviate(raw)} is not a valid literal") from None
    if _too_large(value):
        raise UsageError(f"{option} {key}: the number in {abbreviate(raw)} is too large (above 2⁶³)")
    return key, value


def _too_large(value: Any) -> bool:
    """Whether a parsed literal holds an integer that no builder option can mean (beyond int64)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) >= 2**63
    if isinstance(value, complex | float):
        return False
    if isinstance(value, dict):
        return any(_too_large(k) or _too_large(v) for k, v in value.items())
    if isinstance(value, tuple | list | set | frozenset):
        return any(_too_large(v) for v in value)
    return False


def resolve_input(model_default: Sequence[int], given: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """A given shape without the batch axis gets a batch of one (zoo models only: an imported
    model's shapes are taken literally)."""
    if given is not None and len(given) == len(model_default) - 1:
        return (1, *given)
    return given


def input_options(command: F) -> F:
    """The `--input` (repeatable) and `--inputs` options of every command that analyses a model."""
    command = click.option("--inputs", "inputs_spec", metavar="FILE.py:FN", help=INPUTS_HELP)(command)
    return click.option("--input", "input_texts", multiple=True, metavar="[NAME=]SHAPE[:DTYPE]",
                        help=INPUT_HELP)(command)


LANG_ENV = "ARCHSTAT_LANG"


def lang_options(command: F) -> F:
    """`--lang en|ko` (or the environment's ARCHSTAT_LANG): the language of every word a command writes
    for a reader. Model and layer names and the conventions' symbols stay as they are."""
    from archstat.report.messages import DEFAULT_LANG, LANGS, check_lang

    def check(ctx: click.Context, param: click.Parameter, value: str) -> str:
        try:
            return check_lang(value.strip().lower())
        except UsageError as exc:
            source = LANG_ENV if ctx.get_parameter_source(param.name or "") == click.core.ParameterSource.ENVIRONMENT \
                else "--lang"
            raise UsageError(f"{source}: {exc}") from None

    return click.option("--lang", default=DEFAULT_LANG, show_default=True, envvar=LANG_ENV, show_envvar=True,
                        metavar="|".join(LANGS), callback=check,
                        help="language of titles, labels, captions, table headers and explanations")(command)


def training_options(command: F) -> F:
    """`--training`, `--freeze`, `--optimizer`, `--amp` and `--gpu-memory`: a training step and its
    what-ifs (summary, sweep); `training_step` turns them into `analyze`'s keyword arguments."""
    command = click.option("--gpu-memory", "gpu_memory", multiple=True, type=click.FloatRange(min=0, min_open=True),
                           metavar="GiB", help="with --training: another GPU size beside 24, 40, 80 and 141 GiB "
                                               "(summary: the largest batch it fits; sweep: where the step stops "
                                               "fitting; repeatable)")(command)
    command = click.option("--amp", type=click.Choice(["bf16", "fp16"]),
                           help="with --training: mixed precision in this dtype, with fp32 master weights")(command)
    command = click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam", "adamw"]),
                           help="with --training: the optimizer whose state is held (default adam)")(command)
    command = click.option("--freeze", multiple=True, metavar="PATTERN",
                           help="with --training: freeze the parameters under these paths (shell pattern, e.g. "
                                "'features.*'; repeatable)")(command)
    return click.option("--training", is_flag=True,
                        help="also count a training step: train-mode forward and backward, and the memory it "
                             "holds")(command)


def training_step(training: bool, freeze: Sequence[str], optimizer: str | None, amp: str | None,
                  gpu_memory: Sequence[float]) -> dict[str, Any]:
    """`analyze`'s (and `sweep`'s) training arguments for what `training_options` gave: none
    without a training step; any of the other options asks for one."""
    from archstat.analysis.training import GPU_MEMORY_GIB

    if not (training or freeze or optimizer or amp or gpu_memory):
        return {}
    return {"training": True, "freeze": tuple(freeze), "optimizer": optimizer or "adam", "amp": amp,
            "gpu_memory": tuple(dict.fromkeys((*GPU_MEMORY_GIB, *gpu_memory)))}


_UNITS = {"b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_bytes(text: str, option: str) -> int:
    """"2GiB" -> 2147483648 (units B, KiB, MiB, GiB, TiB; none means bytes); a one-line error otherwise."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in (*_UNITS, ""):
        raise UsageError(f"malformed {option} {abbreviate(text)}: give a size like 2GiB or 512MiB")
    return int(float(match.group(1)) * _UNITS.get(unit, 1))


def fallback_options(command: F) -> F:
    """`--cpu-fallback-limit SIZE` and `--no-cpu-fallback`: the automatic cpu retry of a model that
    reads tensor values on meta (`analyze(cpu_fallback_bytes=...)`)."""
    command = click.option("--no-cpu-fallback", is_flag=True,
                           help="on meta, stop at an op that reads tensor values instead of retrying on cpu")(command)
    return click.option("--cpu-fallback-limit", default="2GiB", show_default=True, metavar="SIZE",
                        help="retry on cpu a model that reads tensor values on meta when it needs at most "
                             "this much memory")(command)


def fallback_budget(limit: str, disabled: bool) -> int:
    """`analyze`'s `cpu_fallback_bytes` for what `fallback_options` gave (0: no retry)."""
    return 0 if disabled else parse_bytes(limit, "--cpu-fallback-limit")


def parse_input(text: str) -> InputSpec:
    """"input_ids=1x128:int64" -> InputSpec((1, 128), torch.int64, "input_ids"); a one-line error otherwise."""
    from archstat.analysis.inputs import InputSpec, parse_dtype

    name: str | None = None
    rest = text
    if "=" in text:
        name, _, rest = text.partition("=")
        name = name.strip()
        if not name.isidentifier():
            raise UsageError(f"malformed --input {abbreviate(text)}: NAME must be an argument name, "
                             "like input_ids=1x128:int64")
    shape_text, sep, dtype_text = rest.partition(":")
    shape = parse_shape(shape_text, "--input")
    return InputSpec(shape, parse_dtype(dtype_text), name) if sep else InputSpec(shape, name=name)


def analysis_inputs(loaded: LoadedModel, texts: Sequence[str], inputs_spec: str | None) -> dict[str, Any]:
    """`analyze` keyword arguments for what `--input`/`--inputs` gave: `inputs=` for those,
    `input_shape=` for a zoo model's own, nothing for an imported model that declares none (the
    analysis then says it used the default)."""
    from archstat.analysis.inputs import Call

    if inputs_spec is not None:
        if texts:
            raise UsageError("give --input or --inputs, not both")
        from archstat.analysis.loading import load_inputs

        return {"inputs": load_inputs(inputs_spec)}
    specs = [parse_input(t) for t in texts]
    if len(specs) == 1 and specs[0].name is None and loaded.zoo:
        return {"input_shape": resolve_input(loaded.input_shape, specs[0].shape)}
    if specs:
        return {"inputs": Call.of_specs(specs)}
    if loaded.inputs is not None:
        return {"inputs": loaded.inputs}
    return {"input_shape": loaded.input_shape} if loaded.declared else {}


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
    """Print the text, or write it to `output` (`-` is stdout) and say so on stderr."""
    if not output or output == STDOUT:
        click.echo(text, nl=False)
        return
    atomic_write(output, text)
    click.echo(f"wrote {output}", err=True)


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


ProgressFn = Callable[[int, int, str], None]   # (done, total, what is being done now)


@contextmanager
def progress_bar(total: int, verb: str, *, minimum: int = 1) -> Iterator[ProgressFn | None]:
    """A progress bar on stderr for `total` steps, only when stderr is a terminal and there are
    at least `minimum` of them (fewer finish before a bar would be worth drawing)."""
    if total < minimum or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(verb, total=total)

        def step(i: int, n: int, name: str) -> None:
            bar.update(task, completed=i, total=n, description=f"{verb} {name}")

        yield step

"""The `archstat` command: parses options, calls the library, prints. It computes nothing itself."""

from __future__ import annotations

import ast
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from archstat.errors import ArchstatError, UsageError
from archstat.report.output import atomic_write, check_writable

SHAPE_HELP = "input shape, e.g. 1x3x224x224 (the batch may be left out: 3x224x224)"


def parse_shape(text: str) -> tuple[int, ...]:
    """"1x3x224x224" -> (1, 3, 224, 224); a clear error otherwise."""
    if not text.strip():
        raise UsageError("malformed --input '': write sizes joined by x, like 1x3x224x224")
    parts = text.lower().replace("×", "x").split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(f"malformed --input {text!r}: write sizes joined by x, like 1x3x224x224") from None
    if any(d <= 0 for d in dims):
        raise UsageError(f"malformed --input {text!r}: every size must be a positive integer")
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


def _resolve_input(model_default: Sequence[int], given: tuple[int, ...] | None) -> tuple[int, ...] | None:
    if given is not None and len(given) == len(model_default) - 1:
        return (1, *given)
    return given


def _format_for(path: str | None, fmt: str | None) -> str:
    if fmt:
        return fmt
    suffix = Path(path).suffix.lower() if path else ""
    return {".json": "json", ".csv": "csv", ".md": "markdown", ".tex": "latex"}.get(suffix, "table")


def _emit(text: str, output: str | None) -> None:
    if output:
        atomic_write(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             invoke_without_command=True, no_args_is_help=False)
@click.version_option(package_name="archstat")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Per-layer shapes, parameters, MACs, FLOPs, memory of classic CNNs (MACs are
    multiply-accumulates; FLOPs count a multiply-add as 2)."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@cli.command("list")
@click.argument("pattern", default="*")
@click.option("--kind", type=click.Choice(["model", "block"]), help="only networks or only building blocks")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default="table")
def list_command(pattern: str, kind: str | None, fmt: str) -> None:
    """List the zoo: name, paper and year, the paper's variant name, input, parameters."""
    from archstat.analysis.zoo import zoo_entries
    from archstat.report.zoo import render_zoo

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


@cli.command()
@click.argument("model")
@click.option("--input", "input_text", metavar="SHAPE", help=SHAPE_HELP)
@click.option("-O", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="builder option, e.g. -O num_classes=10 (repeatable)")
@click.option("--depth", type=click.IntRange(min=1), help="show rows down to this depth (default: all)")
@click.option("--dtype", default="float32", type=click.Choice(["float32", "float16", "bfloat16", "float64"]))
@click.option("--device", default="meta", show_default=True,
              help="meta counts without computing; cpu or cuda run the forward for real")
@click.option("--check", is_flag=True,
              help="reconcile the counts with fvcore and FlopCounterMode (real CPU run)")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown", "latex"]),
              help="output format (default: from the -o suffix, else table)")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to this file instead of stdout")
def summary(model: str, input_text: str | None, options: tuple[str, ...], depth: int | None, dtype: str,
            device: str, check: bool, fmt: str | None, output: str | None) -> None:
    """Per-layer table of MODEL: a zoo name, package.module:attr or path/to/file.py:attr."""
    from archstat.analysis.analyze import analyze, resolve_device
    from archstat.analysis.loading import load_model

    fmt = _format_for(output, fmt)
    if output:
        check_writable(output)
    builder_options = dict(parse_option(o) for o in options)
    given = parse_shape(input_text) if input_text is not None else None
    torch_device = resolve_device(device)
    loaded = load_model(model, device=str(torch_device), options=builder_options)
    shape = _resolve_input(loaded.input_shape, given)
    with _status(f"analysing {loaded.label}"):
        analysis = analyze(loaded.module, shape or loaded.input_shape, dtype=dtype, device=torch_device,
                           label=loaded.label)
    if not check:
        _emit(_render(analysis, fmt, depth), output)
        return
    from archstat.analysis.check import reconcile
    from archstat.report.check import check_dict, render_check

    with _status("running fvcore and FlopCounterMode on a real CPU forward"):
        result = reconcile(model, shape, options=builder_options)
    if fmt == "json":
        text = json.dumps({**analysis.to_dict(), "check": check_dict(result)}, indent=2) + "\n"
    else:
        text = _render(analysis, fmt, depth) + "\n" + render_check(result, fmt)
    _emit(text, output)
    if not result.ok:
        raise ArchstatError("--check: archstat disagrees with fvcore or FlopCounterMode (see above)")


@cli.command()
@click.argument("model", required=False)
@click.option("--input", "input_text", metavar="SHAPE", help=SHAPE_HELP)
@click.option("-O", "--option", "options", multiple=True, metavar="KEY=VALUE", help="builder option (repeatable)")
@click.option("--stack", metavar="SPEC",
              help="a stack of layers instead of a model, e.g. 3x3x3, 1x7,7x1 or 7x7s2,max3s2")
@click.option("--vs", metavar="SPEC", help="with --stack: compare with this stack (default: the single conv)")
@click.option("--channels", type=click.IntRange(min=1), help="with --stack: C, for absolute weights and MACs")
@click.option("--size", "size_text", metavar="HxW", help="with --stack: input size, for MACs and output sizes")
@click.option("--verify", is_flag=True,
              help="measure each layer's field by back-propagation on a real CPU forward and compare")
@click.option("--limit", type=click.IntRange(min=1),
              help="with --verify: probe at most this many layers (evenly spread; one backward pass each)")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown", "latex"]),
              help="output format (default: from the -o suffix, else table)")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to this file instead of stdout")
def rf(model: str | None, input_text: str | None, options: tuple[str, ...], stack: str | None, vs: str | None,
       channels: int | None, size_text: str | None, verify: bool, limit: int | None, fmt: str | None,
       output: str | None) -> None:
    """Receptive-field growth of MODEL, or of a --stack of layers (the lectures' comparisons)."""
    fmt = _format_for(output, fmt)
    if output:
        check_writable(output)
    width = os.get_terminal_size().columns if sys.stdout.isatty() else 160
    if stack is not None:
        if model is not None or verify:
            raise UsageError("give either MODEL or --stack, not both (--verify needs a MODEL)")
        from archstat.analysis.rf_stack import analyze_stack, parse_stack
        from archstat.report.rf_stack import render_stack

        size = parse_shape(size_text) if size_text is not None else None
        if size is not None and len(size) != 2:
            raise UsageError(f"malformed --size {size_text!r}: write HxW, like 56x56")
        result = analyze_stack(
            parse_stack(stack), vs=parse_stack(vs, option="--vs") if vs else None, channels=channels,
            size=(size[0], size[1]) if size else None,
        )
        _emit(render_stack(result, fmt, width=width), output)
        return
    if model is None:
        raise UsageError("name a MODEL or give --stack SPEC, e.g. archstat rf vgg16 or archstat rf --stack 3x3x3")
    if vs or channels or size_text:
        raise UsageError("--vs, --channels and --size go with --stack")
    if limit is not None and not verify:
        raise UsageError("--limit goes with --verify")
    from archstat.analysis.analyze import analyze
    from archstat.analysis.loading import load_model
    from archstat.report.rf import render_growth

    builder_options = dict(parse_option(o) for o in options)
    loaded = load_model(model, device="meta", options=builder_options)
    given = parse_shape(input_text) if input_text is not None else None
    shape = _resolve_input(loaded.input_shape, given) or loaded.input_shape
    with _status(f"analysing {loaded.label}"):
        analysis = analyze(loaded.module, shape, label=loaded.label)
    text = render_growth(analysis, fmt, width=width)
    if not verify:
        _emit(text, output)
        return
    from archstat.analysis.rf_verify import verify_fields
    from archstat.report.rf_verify import render_verification

    with _status("back-propagating from each layer's centre unit on a real CPU forward"):
        verification = verify_fields(model, analysis, options=builder_options, limit=limit)
    _emit(text + "\n" + render_verification(verification, fmt), output)
    if not verification.ok:
        raise ArchstatError("--verify: the measured receptive fields disagree with the closed form (see above)")


def _render(analysis: Any, fmt: str, depth: int | None) -> str:
    from archstat.report import tables

    if fmt == "json":
        return analysis.to_json() + "\n"
    renderers: dict[str, Callable[..., str]] = {
        "csv": tables.render_csv,
        "markdown": tables.render_markdown,
        "latex": tables.render_latex,
    }
    if fmt in renderers:
        return renderers[fmt](analysis, depth)
    from archstat.report.terminal import render_text

    width = os.get_terminal_size().columns if sys.stdout.isatty() else 160
    return render_text(analysis, depth, width=width)


class _status:
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


def _register_commands() -> None:
    import importlib
    import pkgutil

    import archstat.commands

    for module in pkgutil.iter_modules(archstat.commands.__path__):
        command = getattr(importlib.import_module(f"archstat.commands.{module.name}"), "command", None)
        if isinstance(command, click.Command):
            cli.add_command(command)


_register_commands()


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

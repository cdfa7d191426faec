"""`archstat latency MODEL`: measured forward time, per layer on request, over a batch sweep."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from archstat.report.writers import FORMATS

if TYPE_CHECKING:
    from archstat.measure.results import LatencyResult

def parse_batches(text: str) -> tuple[int, ...]:
    """"1,8,32" -> (1, 8, 32); a one-line error otherwise."""
    from archstat.errors import UsageError

    try:
        sizes = tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise UsageError(f"malformed --batch {text!r}: write sizes joined by commas, like 1,8,32") from None
    if not sizes or any(b <= 0 for b in sizes):
        raise UsageError(f"malformed --batch {text!r}: every size must be a positive integer")
    return sizes


@click.command("latency")
@click.argument("model", required=False)
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda (cuda, cuda:1, ...)")
@click.option("--batch", "batch_text", default="1", show_default=True, metavar="N[,N...]",
              help="batch sizes to sweep, e.g. 1,8,32,256; stops at the first that runs out of memory")
@click.option("--input", "input_text", metavar="CxHxW", help="one sample's shape (default: the model's own)")
@click.option("-O", "--option", "options", multiple=True, metavar="KEY=VALUE", help="builder option (repeatable)")
@click.option("--dtype", default="float32", show_default=True, type=click.Choice(["float32", "float16", "bfloat16"]))
@click.option("--channels-last", is_flag=True, help="NHWC weights and input")
@click.option("--per-layer", is_flag=True, help="also time every module through hooks (a separate pass)")
@click.option("--warmup", default=5, show_default=True, type=click.IntRange(min=0), help="untimed forwards first")
@click.option("--repeat", default=20, show_default=True, type=click.IntRange(min=1), help="timed forwards")
@click.option("--cuda-graph", is_flag=True, help="also time CUDA-graph replays (the launch-free lower bound)")
@click.option("--cudnn-benchmark/--no-cudnn-benchmark", default=True, show_default=True,
              help="let cuDNN autotune (during warm-up, on the exact shapes)")
@click.option("--from", "from_file", metavar="FILE.json", help="render a saved result instead of measuring")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)),
              help="output format (default: from the -o suffix, else table)")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="write to this file; a .json file is also a --latency file for `report` and `compare`")
def command(model: str | None, device: str, batch_text: str, input_text: str | None, options: tuple[str, ...],
            dtype: str, channels_last: bool, per_layer: bool, warmup: int, repeat: int, cuda_graph: bool,
            cudnn_benchmark: bool, from_file: str | None, fmt: str | None, output: str | None) -> None:
    """Measured latency of MODEL (a zoo name, package.module:attr or file.py:attr): median, p10/p90 and
    throughput per batch; with --per-layer each layer's time, achieved FLOP/s and roofline fraction."""

    from archstat.cli.options import emit, format_for, parse_option, parse_shape, progress_bar, terminal_width
    from archstat.errors import UsageError
    from archstat.report.latency import render_latency
    from archstat.report.output import check_writable

    fmt = format_for(output, fmt)
    if output:
        check_writable(output)
    width = terminal_width()
    if from_file is not None:
        if model is not None:
            raise UsageError("give either MODEL or --from FILE.json, not both")
        emit(render_latency(_read(from_file), fmt, width), output)
        return
    if model is None:
        raise UsageError("name a MODEL to measure, or --from FILE.json to show a saved result")
    from archstat.analysis.analyze import resolve_device
    from archstat.analysis.loading import load_model
    from archstat.measure.latency import measure_latency

    batches = parse_batches(batch_text)
    torch_device = resolve_device(device)
    if torch_device.type == "meta":
        raise UsageError("--device meta cannot be timed; use cpu or cuda")
    loaded = load_model(model, device=str(torch_device), options=dict(parse_option(o) for o in options))
    sample = parse_shape(input_text, "--input") if input_text is not None else loaded.input_shape[1:]
    with progress_bar(len(set(batches)), "measuring") as step:
        result = measure_latency(loaded.module, sample, batches, label=loaded.label, device=torch_device,
                                 dtype=dtype, channels_last=channels_last, per_layer=per_layer, warmup=warmup,
                                 repeat=repeat, cuda_graph=cuda_graph, cudnn_benchmark=cudnn_benchmark,
                                 progress=step)
    emit(render_latency(result, fmt, width), output)


def _read(path: str) -> LatencyResult:
    from archstat.measure.results import read_result

    return read_result(path, "--from")

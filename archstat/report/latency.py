"""A measured latency result in every output format: tables of the sweep, the per-layer pass and memory.

Renders a `LatencyResult` as it was measured or as read back from its JSON, so a saved GPU
result can be shown on a machine without one. Computes nothing: every figure is in the result.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import TypeVar

from rich.console import Console
from rich.table import Table

from archstat.measure.latency import BatchResult, LatencyResult, LayerTiming
from archstat.report import units
from archstat.report.summary import Column, markdown_table

FORMATS = ("table", "json", "csv", "markdown")
NONE = "-"
R = TypeVar("R")

MEMORY_NOTE = (
    "Measured peaks are everything the CUDA caching allocator handed out, weights and input included "
    "(the 'before' figure), plus cuDNN/cuBLAS workspaces and the allocator's rounding to 512-byte blocks; "
    "the analyzer counts tensors only. Training adds parameter gradients (as large as the weights) and "
    "backward's temporaries to what the forward saves, so it exceeds the 'saved for backward' estimate."
)
PER_LAYER_NOTE = (
    "Per-layer times come from a second pass with hooks; coverage = leaf layers / hooked forward, "
    "overhead = hooked / unhooked forward, unattributed = code outside any leaf (residual adds, "
    "flatten, the hooks themselves). On CUDA a layer's time spans its first to last kernel, launch gaps included."
)


def _ms(value: float | None) -> str:
    return NONE if value is None else f"{value:,.3f}"


def _rate(value: float | None, unit: str) -> str:
    return NONE if value is None else f"{units.si(value)} {unit}".replace("  ", " ")


def _fraction(value: float | None) -> str:
    return NONE if value is None else f"{100 * value:.1f}%"


def _bytes(value: int | None) -> str:
    return "not measured" if value is None else units.nbytes(value)


BATCH_COLUMNS: tuple[Column[BatchResult], ...] = (
    Column("Batch", lambda b: str(b.batch)),
    Column("Median ms", lambda b: _ms(b.whole.median_ms)),
    Column("p10 ms", lambda b: _ms(b.whole.p10_ms)),
    Column("p90 ms", lambda b: _ms(b.whole.p90_ms)),
    Column("Spread", lambda b: _fraction(b.whole.spread)),
    Column("Images/s", lambda b: f"{b.throughput:,.1f}"),
    Column("Graph ms", lambda b: _ms(b.graph.median_ms if b.graph else None)),
    Column("Coverage", lambda b: _fraction(b.per_layer.coverage if b.per_layer else None)),
    Column("Hook overhead", lambda b: f"{b.per_layer.hook_overhead:.2f}x" if b.per_layer else NONE),
    Column("Unattributed ms", lambda b: _ms(b.per_layer.unattributed_ms if b.per_layer else None)),
)

MEMORY_COLUMNS: tuple[Column[BatchResult], ...] = (
    Column("Batch", lambda b: str(b.batch)),
    Column("Before", lambda b: _bytes(b.memory.baseline_bytes)),
    Column("Inference peak", lambda b: _bytes(b.memory.inference_peak_bytes)),
    Column("Training peak", lambda b: _bytes(b.memory.training_peak_bytes)),
    Column("Est. outputs", lambda b: units.nbytes(b.memory.estimated_activation_bytes)),
    Column("Est. peak live", lambda b: units.nbytes(b.memory.estimated_peak_activation_bytes)),
    Column("Est. saved for backward", lambda b: units.nbytes(b.memory.estimated_training_bytes)),
    Column("Weights", lambda b: units.nbytes(b.memory.param_bytes)),
)

LAYER_COLUMNS: tuple[Column[LayerTiming], ...] = (
    Column("Layer", lambda t: t.path + (f" #{t.call}" if t.call else ""), numeric=False),
    Column("Type", lambda t: t.type, numeric=False),
    Column("Median ms", lambda t: _ms(t.median_ms)),
    Column("p10 ms", lambda t: _ms(t.p10_ms)),
    Column("p90 ms", lambda t: _ms(t.p90_ms)),
    Column("FLOP/s", lambda t: _rate(t.flops_per_s, "")),
    Column("Bytes/s", lambda t: _rate(t.bytes_per_s, "")),
    Column("FLOP/B", lambda t: NONE if t.intensity is None else f"{t.intensity:,.1f}"),
    Column("Roofline", lambda t: _fraction(t.roofline_fraction)),
)


def header_lines(result: LatencyResult) -> list[str]:
    """What was measured, where, and how."""
    env = result.environment
    lines = [
        f"archstat latency · {result.model} · {result.device} ({result.device_type}) · {result.dtype}"
        + (" · channels-last" if result.channels_last else ""),
        f"warm-up {result.warmup}, repeat {result.repeat}, median with p10/p90; whole-model runs without hooks"
        + ("; CUDA-graph replay measured" if result.cuda_graph else ""),
        f"torch {env.get('torch')} · CUDA {env.get('cuda')} · cuDNN {env.get('cudnn')} · "
        f"TF32 matmul {env.get('tf32_matmul')} / cuDNN {env.get('tf32_cudnn')} · "
        f"cudnn.benchmark {env.get('cudnn_benchmark')}",
    ]
    if result.device_type == "cuda":
        lines.append(f"GPU {env.get('gpu')} · {env.get('sm_count')} SMs · driver {env.get('driver')} · "
                     f"clocks before {result.reported.clocks_before} after {result.reported.clocks_after}")
    else:
        lines.append(f"CPU {env.get('cpu')} · {env.get('cpu_threads')} threads · "
                     f"load average {env.get('load_average')}")
    if result.peaks_name:
        lines.append(f"roofline: {result.peaks_name} datasheet, {_rate(result.peak_flops, 'FLOP/s')} "
                     f"for conv/linear at {result.dtype}, {_rate(result.peak_bandwidth, 'B/s')}")
    else:
        lines.append("roofline fractions: not available (no peak table entry for this device)")
    if result.failed_batch is not None:
        lines.append(f"out of memory at batch {result.failed_batch}; largest batch that fit: {result.reported.batch}")
    return lines


def _layers(result: LatencyResult) -> Sequence[LayerTiming]:
    per = result.reported.per_layer
    return [t for t in per.layers if t.is_leaf] if per else []


def _rich_table(title: str, columns: Sequence[Column[R]], rows: Sequence[R]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        table.add_column(c.header, justify="right" if c.numeric else "left", no_wrap=not c.numeric)
    for row in rows:
        table.add_row(*(c.cell(row) for c in columns))
    return table


def render_text(result: LatencyResult, width: int = 160) -> str:
    """The terminal tables as plain text."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    for line in header_lines(result):
        console.print(line)
    console.print(_rich_table("Whole model (no hooks)", BATCH_COLUMNS, result.batches))
    console.print(_rich_table("Memory", MEMORY_COLUMNS, result.batches))
    console.print(MEMORY_NOTE)
    layers = _layers(result)
    if layers:
        title = f"Leaf layers at batch {result.reported.batch}"
        console.print(_rich_table(title, LAYER_COLUMNS, layers))
        console.print(PER_LAYER_NOTE)
    for note in result.notes:
        console.print(f"note: {note}")
    return buffer.getvalue()


def render_markdown(result: LatencyResult) -> str:
    """The same tables in Markdown."""
    out = [f"### {header_lines(result)[0]}", "", *(f"- {line}" for line in header_lines(result)[1:]), ""]
    out += ["#### Whole model (no hooks)", "", *markdown_table(BATCH_COLUMNS, result.batches), ""]
    out += ["#### Memory", "", *markdown_table(MEMORY_COLUMNS, result.batches), "", MEMORY_NOTE, ""]
    layers = _layers(result)
    if layers:
        out += [f"#### Leaf layers at batch {result.reported.batch}", "", *markdown_table(LAYER_COLUMNS, layers), "",
                PER_LAYER_NOTE, ""]
    out += [f"- note: {note}" for note in result.notes]
    return "\n".join(out) + "\n"


def render_csv(result: LatencyResult) -> str:
    """One row per batch: raw numbers, no formatting."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["model", "device", "dtype", "batch", "median_ms", "p10_ms", "p90_ms", "spread", "images_per_s",
                     "graph_median_ms", "coverage", "hook_overhead", "unattributed_ms", "inference_peak_bytes",
                     "training_peak_bytes"])
    for b in result.batches:
        per = b.per_layer
        writer.writerow([result.model, result.device, result.dtype, b.batch, b.whole.median_ms, b.whole.p10_ms,
                         b.whole.p90_ms, b.whole.spread, b.throughput, b.graph.median_ms if b.graph else "",
                         per.coverage if per else "", per.hook_overhead if per else "",
                         per.unattributed_ms if per else "", b.memory.inference_peak_bytes or "",
                         b.memory.training_peak_bytes or ""])
    return buffer.getvalue()


def render_latency(result: LatencyResult, fmt: str, width: int = 160) -> str:
    """`result` as text in `fmt` (one of FORMATS)."""
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(result)
    if fmt == "csv":
        return render_csv(result)
    return render_text(result, width)

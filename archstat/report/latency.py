"""A measured latency result in every output format: tables of the sweep, the per-layer pass and memory.

Renders a `LatencyResult` as it was measured or as read back from its JSON, so a saved GPU
result can be shown on a machine without one. Computes nothing: every figure is in the result.
"""

from __future__ import annotations

from collections.abc import Sequence

from archstat.measure.results import BatchResult, LatencyResult, LayerTiming
from archstat.report import units
from archstat.report.table import Column, Document, Note, Table
from archstat.report.writers import render

NONE = "-"

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


def _overhead(value: float | None) -> str:
    return NONE if value is None else f"{value:.2f}x"


def _per_second(value: float) -> str:
    return f"{value:,.1f}"


def _intensity(value: float | None) -> str:
    return NONE if value is None else f"{value:,.1f}"


def _rate_plain(value: float | None) -> str:
    return _rate(value, "")


BATCH_COLUMNS: tuple[Column[BatchResult], ...] = (
    Column("Batch", "batch", lambda b: b.batch),
    Column("Median ms", "median_ms", lambda b: b.whole.median_ms, _ms),
    Column("p10 ms", "p10_ms", lambda b: b.whole.p10_ms, _ms),
    Column("p90 ms", "p90_ms", lambda b: b.whole.p90_ms, _ms),
    Column("Spread", "spread", lambda b: b.whole.spread, _fraction),
    Column("Images/s", "images_per_s", lambda b: b.throughput, _per_second),
    Column("Graph ms", "graph_median_ms", lambda b: b.graph.median_ms if b.graph else None, _ms),
    Column("Coverage", "coverage", lambda b: b.per_layer.coverage if b.per_layer else None, _fraction),
    Column("Hook overhead", "hook_overhead", lambda b: b.per_layer.hook_overhead if b.per_layer else None,
           _overhead),
    Column("Unattributed ms", "unattributed_ms", lambda b: b.per_layer.unattributed_ms if b.per_layer else None,
           _ms),
)

MEMORY_COLUMNS: tuple[Column[BatchResult], ...] = (
    Column("Batch", "batch", lambda b: b.batch),
    Column("Before", "baseline_bytes", lambda b: b.memory.baseline_bytes, _bytes),
    Column("Inference peak", "inference_peak_bytes", lambda b: b.memory.inference_peak_bytes, _bytes),
    Column("Training peak", "training_peak_bytes", lambda b: b.memory.training_peak_bytes, _bytes),
    Column("Est. outputs", "estimated_activation_bytes", lambda b: b.memory.estimated_activation_bytes,
           units.nbytes),
    Column("Est. peak live", "estimated_peak_activation_bytes",
           lambda b: b.memory.estimated_peak_activation_bytes, units.nbytes),
    Column("Est. saved for backward", "estimated_training_bytes", lambda b: b.memory.estimated_training_bytes,
           units.nbytes),
    Column("Weights", "param_bytes", lambda b: b.memory.param_bytes, units.nbytes),
)

LAYER_COLUMNS: tuple[Column[LayerTiming], ...] = (
    Column("Layer", "layer", lambda t: t.path + (f" #{t.call}" if t.call else ""), numeric=False, code=True,
           data=False),
    Column("path", "path", lambda t: t.path, shown=False),
    Column("call", "call", lambda t: t.call, shown=False),
    Column("Type", "type", lambda t: t.type, numeric=False),
    Column("Median ms", "median_ms", lambda t: t.median_ms, _ms),
    Column("p10 ms", "p10_ms", lambda t: t.p10_ms, _ms),
    Column("p90 ms", "p90_ms", lambda t: t.p90_ms, _ms),
    Column("FLOP/s", "flops_per_s", lambda t: t.flops_per_s, _rate_plain),
    Column("Bytes/s", "bytes_per_s", lambda t: t.bytes_per_s, _rate_plain),
    Column("FLOP/B", "intensity", lambda t: t.intensity, _intensity),
    Column("Roofline", "roofline_fraction", lambda t: t.roofline_fraction, _fraction),
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


def latency_document(result: LatencyResult) -> Document:
    """The sweep, memory and per-layer tables under the measurement's header, the model, device and
    dtype as facts of the first, the run's notes under the last; JSON as `LatencyResult.to_dict`."""
    layers = _layers(result)
    facts = (("model", result.model), ("device", result.device), ("dtype", result.dtype),
             ("failed_batch", result.failed_batch))
    notes = tuple(Note("note", note) for note in result.notes)
    tables: tuple[Table, ...] = (
        Table.build("Whole model (no hooks)", BATCH_COLUMNS, result.batches, facts=facts),
        Table.build("Memory", MEMORY_COLUMNS, result.batches, footer=MEMORY_NOTE, notes=() if layers else notes),
    )
    if layers:
        tables += (Table.build(f"Leaf layers at batch {result.reported.batch}", LAYER_COLUMNS, layers,
                               notes=notes, footer=PER_LAYER_NOTE),)
    header = header_lines(result)
    return Document(tables, heading=header[0], lines=tuple(header[1:]), data=result.to_dict())


def render_latency(result: LatencyResult, fmt: str, width: int = 160) -> str:
    """`result` as text in `fmt` (one of `writers.FORMATS`)."""
    return render(latency_document(result), fmt, width)

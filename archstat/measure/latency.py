"""Measured latency: whole-model and per-layer forward times, memory, and a batch sweep.

The protocol (see `.library/device/METHOD.md`): warm up on the exact shapes, so cuDNN's
autotuning (`cudnn.benchmark`, set explicitly and restored) stays out of the numbers; time each
iteration with CUDA events on the current stream (on the CPU with `perf_counter_ns`) and
synchronize once per iteration; report the median with p10/p90. Whole-model times run with no
hooks attached. Per-layer times come from a separate pass with pre/post hooks that only record
an event (or a CPU stamp) from a reused pool; a stack pairs each post hook with its pre hook, so
a module that is re-entered gets one row per call. The model's modes, its hooks and every global
flag touched come back as they went in, also when the forward raises. The records measured here,
and the JSON they are saved in, are in `archstat.measure.results`.
"""

from __future__ import annotations

import copy
import gc
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Protocol

import torch
from torch import nn

from archstat.analysis.analyze import analyze, resolve_device, resolve_dtype
from archstat.analysis.records import Analysis, LayerStats
from archstat.analysis.tracing.execution import make_input, preserved_state
from archstat.errors import ArchstatError, DataDependentError, ForwardError, UsageError, one_line
from archstat.measure.peaks import (
    DevicePeaks,
    compute_ceiling,
    environment,
    match_peaks,
    read_clocks,
    roofline_fraction,
)
from archstat.measure.results import BatchResult, LatencyResult, LayerTiming, Memory, PerLayer, Stats

MATRIX_TYPES: tuple[type[nn.Module], ...] = (nn.modules.conv._ConvNd, nn.Linear)
ProgressFn = Callable[[int, int, str], None]


# ------------------------------------------------------------------------------------------ clocks

class Clock(Protocol):
    """What the timing loops need of a clock; tests inject a fake one that advances deterministically."""

    def stamp(self) -> Any:
        """A point in time (an opaque stamp; on CUDA an event recorded on the current stream)."""

    def ms(self, start: Any, end: Any) -> float:
        """Milliseconds between two stamps, valid after `sync()`."""

    def sync(self) -> None:
        """Wait until every stamp taken so far has a time."""

    def reset(self) -> None:
        """Forget the stamps of the last synchronized iteration (their storage may be reused)."""


class CpuClock:
    """Host stamps from the monotonic `perf_counter_ns`; nothing to synchronize."""

    def stamp(self) -> int:
        return time.perf_counter_ns()

    def ms(self, start: Any, end: Any) -> float:
        return float(end - start) / 1e6

    def sync(self) -> None:
        pass

    def reset(self) -> None:
        pass


class CudaClock:
    """CUDA events recorded on the current stream, from a pool reused after each synchronize."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.pool: list[torch.cuda.Event] = []
        self.used = 0

    def stamp(self) -> torch.cuda.Event:
        if self.used == len(self.pool):
            self.pool.append(torch.cuda.Event(enable_timing=True))
        event = self.pool[self.used]
        self.used += 1
        event.record(torch.cuda.current_stream(self.device))
        return event

    def ms(self, start: Any, end: Any) -> float:
        return float(start.elapsed_time(end))

    def sync(self) -> None:
        torch.cuda.synchronize(self.device)

    def reset(self) -> None:
        self.used = 0      # only after sync(): every event in the pool has completed


def time_calls(fn: Callable[[], Any], clock: Clock, warmup: int, repeat: int) -> Stats:
    """Median of `repeat` timed calls after `warmup` untimed ones; one synchronize per call."""
    for _ in range(warmup):
        fn()
    clock.sync()
    samples = []
    for _ in range(repeat):
        clock.reset()
        start = clock.stamp()
        fn()
        end = clock.stamp()
        clock.sync()
        samples.append(clock.ms(start, end))
    return Stats.of(samples)


# ------------------------------------------------------------------------------------------ hooks

class _LayerStamps:
    """Pre/post hooks that stamp each module call; nothing else runs inside them."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.stack: list[int] = []
        self.records: list[list[Any]] = []        # [module, call, start, end] in call (pre-)order
        self.calls: dict[int, int] = {}

    def reset(self) -> None:
        self.stack.clear()
        self.records.clear()
        self.calls.clear()

    def pre(self, module: nn.Module, args: Any) -> None:
        call = self.calls.get(id(module), 0)
        self.calls[id(module)] = call + 1
        self.stack.append(len(self.records))
        self.records.append([module, call, None, None])
        self.records[-1][2] = self.clock.stamp()

    def post(self, module: nn.Module, args: Any, output: Any) -> None:
        end = self.clock.stamp()
        self.records[self.stack.pop()][3] = end


@contextmanager
def layer_hooks(model: nn.Module, clock: Clock) -> Iterator[_LayerStamps]:
    """Stamping hooks on every submodule (not the model itself), removed whatever happens."""
    stamps = _LayerStamps(clock)
    handles = []
    try:
        for m in dict.fromkeys(model.modules()):
            if m is model:
                continue
            handles.append(m.register_forward_pre_hook(stamps.pre))
            handles.append(m.register_forward_hook(stamps.post))
        yield stamps
    finally:
        for h in handles:
            h.remove()


# ------------------------------------------------------------------------------------------ state

# What allocators say when they run out: CUDA ("CUDA out of memory"), the CPU allocator
# ("DefaultCPUAllocator: can't allocate memory: ...", "... not enough memory: ..."), MPS and XPU.
_OUT_OF_MEMORY = ("out of memory", "can't allocate memory", "cannot allocate memory", "not enough memory")


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA's OutOfMemoryError, Python's MemoryError, or the RuntimeError an allocator raises."""
    if isinstance(exc, torch.cuda.OutOfMemoryError | MemoryError):
        return True
    return isinstance(exc, RuntimeError) and any(text in str(exc).lower() for text in _OUT_OF_MEMORY)


# ------------------------------------------------------------------------------------------ one batch

@dataclass(frozen=True, slots=True)
class Settings:
    """How to measure: fixed for a whole sweep."""

    device: torch.device
    dtype: torch.dtype
    channels_last: bool
    per_layer: bool
    warmup: int
    repeat: int
    cuda_graph: bool
    clock: Clock | None = None      # None: CUDA events on a GPU, perf_counter_ns on the CPU


def measure_batch(model: nn.Module, sample_shape: Sequence[int], batch: int, settings: Settings,
                  analysis: Analysis) -> BatchResult:
    """Whole-model, optional CUDA-graph and per-layer times and memory at one batch size."""
    device, cuda = settings.device, settings.device.type == "cuda"
    clock: Clock = settings.clock or (CudaClock(device) if cuda else CpuClock())
    x = make_input((batch, *sample_shape), settings.dtype, device)
    if settings.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    before = read_clocks(device)
    with torch.inference_mode():
        whole = time_calls(lambda: model(x), clock, settings.warmup, settings.repeat)
    graph = _time_graph(model, x, clock, settings) if settings.cuda_graph else None
    per_layer = _time_layers(model, x, clock, settings, whole, analysis) if settings.per_layer else None
    memory = _measure_memory(model, x, analysis) if cuda else _estimates(analysis)
    after = read_clocks(device)
    return BatchResult(
        batch=batch, input_shape=tuple(x.shape), whole=whole, throughput=batch / (whole.median_ms / 1e3),
        graph=graph, graph_throughput=batch / (graph.median_ms / 1e3) if graph else None,
        per_layer=per_layer, memory=memory, clocks_before=before, clocks_after=after,
    )


def _time_graph(model: nn.Module, x: torch.Tensor, clock: Clock, settings: Settings) -> Stats:
    """Replays of one captured forward: no launch gaps, so a lower bound for the eager time."""
    static_x = x.clone()
    side = torch.cuda.Stream(settings.device)
    side.wait_stream(torch.cuda.current_stream(settings.device))
    # Capture cannot autotune or allocate lazily: warm up on a side stream first, as PyTorch advises.
    with torch.cuda.stream(side), torch.inference_mode():
        for _ in range(max(settings.warmup, 3)):
            model(static_x)
    torch.cuda.current_stream(settings.device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.inference_mode(), torch.cuda.graph(graph):
        static_out = model(static_x)
    try:
        return time_calls(graph.replay, clock, settings.warmup, settings.repeat)
    finally:
        del static_out, graph


def _time_layers(model: nn.Module, x: torch.Tensor, clock: Clock, settings: Settings, unhooked: Stats,
                 analysis: Analysis) -> PerLayer:
    samples: dict[tuple[int, int], list[float]] = {}
    order: dict[tuple[int, int], nn.Module] = {}
    totals = []
    with layer_hooks(model, clock) as stamps, torch.inference_mode():
        for _ in range(settings.warmup):
            stamps.reset()
            model(x)
        clock.sync()
        for _ in range(settings.repeat):
            clock.reset()
            stamps.reset()
            start = clock.stamp()
            model(x)
            end = clock.stamp()
            clock.sync()                          # the one synchronize of this forward
            totals.append(clock.ms(start, end))
            for module, call, a, b in stamps.records:
                order.setdefault((id(module), call), module)
                samples.setdefault((id(module), call), []).append(clock.ms(a, b))
    hooked = Stats.of(totals)
    paths = {id(m): name for name, m in model.named_modules()}
    rows = {(r.path, r.call): r for r in analysis.layers}
    layers = tuple(_layer(paths[key[0]], key[1], module, Stats.of(samples[key]), rows.get((paths[key[0]], key[1])),
                          analysis, settings)
                   for key, module in order.items())
    leaf_sum = sum(t.median_ms for t in layers if t.is_leaf)
    return PerLayer(layers, hooked, leaf_sum, leaf_sum / hooked.median_ms, hooked.median_ms / unhooked.median_ms,
                    hooked.median_ms - leaf_sum)


def activation_traffic(row: LayerStats, itemsize: int) -> int:
    """Bytes a layer call must read and write besides its weights: its inputs and outputs once each."""
    return (sum(math.prod(s) for s in row.input_shapes) + sum(math.prod(s) for s in row.output_shapes)) * itemsize


def _layer(path: str, call: int, module: nn.Module, stats: Stats, row: LayerStats | None, analysis: Analysis,
           settings: Settings) -> LayerTiming:
    depth = path.count(".") + 1
    is_leaf = len(module._modules) == 0
    base: dict[str, Any] = dict(path=path, call=call, type=type(module).__name__, depth=depth, is_leaf=is_leaf,
                median_ms=stats.median_ms, p10_ms=stats.p10_ms, p90_ms=stats.p90_ms)
    if row is None:
        return LayerTiming(**base, flops=None, bytes=None, intensity=None, flops_per_s=None, bytes_per_s=None,
                           ceiling_flops=None, roofline_fraction=None)
    itemsize = settings.dtype.itemsize
    weights = sum(p.numel() for p in module.parameters()) * itemsize     # read again on every call
    moved = activation_traffic(row, itemsize) + weights
    seconds = stats.median_ms / 1e3
    flops_per_s = row.flops / seconds if seconds > 0 else None
    intensity = row.flops / moved if moved else None
    ceiling = fraction = None
    peaks = _device_peaks(settings.device)
    if peaks is not None:
        matrix = [m for m in module.modules() if isinstance(m, MATRIX_TYPES)]
        convs = any(isinstance(m, nn.modules.conv._ConvNd) for m in matrix)
        tf32 = torch.backends.cudnn.allow_tf32 if convs else torch.backends.cuda.matmul.allow_tf32
        ceiling = compute_ceiling(peaks, settings.dtype, matrix=bool(matrix), tf32=tf32)
        if row.flops and flops_per_s is not None and intensity is not None:
            fraction = roofline_fraction(flops_per_s, intensity, ceiling, peaks.bandwidth)
    return LayerTiming(**base, flops=row.flops, bytes=moved, intensity=intensity, flops_per_s=flops_per_s,
                       bytes_per_s=moved / seconds if seconds > 0 else None, ceiling_flops=ceiling,
                       roofline_fraction=fraction)


def _device_peaks(device: torch.device) -> DevicePeaks | None:
    if device.type != "cuda":
        return None
    props = torch.cuda.get_device_properties(device)
    return match_peaks(props.name, props.multi_processor_count)


def _estimates(analysis: Analysis, baseline: int | None = None, inference: int | None = None,
               training: int | None = None, mode: str | None = None) -> Memory:
    t = analysis.totals
    return Memory(baseline, inference, training, mode, t.activation_bytes, t.peak_activation_bytes,
                  t.saved_bytes(), t.param_bytes)


def _measure_memory(model: nn.Module, x: torch.Tensor, analysis: Analysis) -> Memory:
    """Peak allocated in a warm inference forward, then in a forward + backward; the model is left as found."""
    device = x.device
    torch.cuda.synchronize(device)
    baseline = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    with torch.inference_mode():
        out = model(x)
    del out
    torch.cuda.synchronize(device)
    inference = torch.cuda.max_memory_allocated(device)
    buffers = [(b, b.detach().clone()) for b in model.buffers()]   # batch-norm statistics a train step moves
    grads = [(p, p.grad) for p in model.parameters()]
    modes = [(m, m.training) for m in model.modules()]    # the next batch must time the model as it was
    training = mode = None
    try:
        for mode in ("train", "eval"):
            model.train(mode == "train")
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            try:
                with torch.enable_grad():
                    out = model(x)
                    loss = sum(t.float().sum() for t in _tensors(out) if t.requires_grad)
                    if isinstance(loss, torch.Tensor):
                        loss.backward()
                    del out, loss
            except ValueError:       # batch norm with one value per channel cannot train: try eval
                continue
            torch.cuda.synchronize(device)
            training = torch.cuda.max_memory_allocated(device)
            break
    finally:
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        for p, g in grads:
            p.grad = g
        for m, was_training in modes:
            m.training = was_training
    return _estimates(analysis, baseline, inference, training, mode if training is not None else None)


def _tensors(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, Mapping):
        return [t for v in out.values() for t in _tensors(v)]
    if isinstance(out, tuple | list):
        return [t for v in out for t in _tensors(v)]
    return [t for v in getattr(out, "__dict__", {}).values() for t in _tensors(v)]


# ------------------------------------------------------------------------------------------ sweep

def _prepared(model: nn.Module, device: torch.device, dtype: torch.dtype, channels_last: bool) -> nn.Module:
    """The model itself when it already lives on `device` at `dtype`; else a converted copy (the caller's stays)."""
    tensors = [*model.parameters(), *model.buffers()]
    fits = all(t.device == device and (not t.is_floating_point() or t.dtype == dtype) for t in tensors)
    if fits and not channels_last:
        return model
    converted = copy.deepcopy(model).to(device=device, dtype=dtype)
    if channels_last:
        converted.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # missing from the stubs
    return converted


def measure_latency(
    model: nn.Module,
    sample_shape: Sequence[int],
    batches: Sequence[int],
    *,
    label: str,
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype = "float32",
    channels_last: bool = False,
    per_layer: bool = False,
    warmup: int = 3,
    repeat: int = 20,
    cuda_graph: bool = False,
    cudnn_benchmark: bool = True,
    progress: ProgressFn | None = None,
    clock: Clock | None = None,
) -> LatencyResult:
    """Measure MODEL at each batch (ascending) on one input shape without its batch axis.

    Stops at the first batch that runs out of memory and reports the ones before it; raises an
    ArchstatError if not even the smallest fits. The model and global flags come back unchanged.
    `clock` replaces the device's own (CUDA events, or `perf_counter_ns` on the CPU).
    """
    torch_device, torch_dtype = resolve_device(device), resolve_dtype(dtype)
    if torch_device.type == "meta":
        raise UsageError("latency needs a real device: cpu or cuda")
    sizes = sorted(set(batches))
    if not sizes or any(b <= 0 for b in sizes):
        raise UsageError(f"batch sizes must be positive integers, not {list(batches)}")
    if warmup < 0 or repeat < 1:
        raise UsageError(f"warm-up must be >= 0 and repeat >= 1 (got {warmup} and {repeat})")
    if cuda_graph and torch_device.type != "cuda":
        raise UsageError("--cuda-graph needs --device cuda")
    if channels_last and len(sample_shape) != 3:
        raise UsageError(f"--channels-last needs a C x H x W input, not {tuple(sample_shape)}")
    settings = Settings(torch_device, torch_dtype, channels_last, per_layer, warmup, repeat, cuda_graph, clock)
    results: list[BatchResult] = []
    failed = failure = None
    notes: list[str] = []
    with preserved_state(model):
        run_model = _prepared(model, torch_device, torch_dtype, channels_last)
        with preserved_state(run_model):
            torch.backends.cudnn.benchmark = cudnn_benchmark
            run_model.eval()
            env = environment(torch_device)
            for i, batch in enumerate(sizes):
                if progress is not None:
                    progress(i, len(sizes), f"{label}: batch {batch}")
                analysis = _counted(run_model, (batch, *sample_shape), torch_dtype, torch_device, label)
                if analysis.fallback_reason and not any(n.startswith(_COUNTED_ON) for n in notes):
                    notes.append(f"{_COUNTED_ON} {torch_device}, not meta: {analysis.fallback_reason}")
                try:
                    results.append(_batch(run_model, sample_shape, batch, settings, analysis, label))
                except _OutOfMemory as oom:
                    failed, failure = batch, oom.message
                    break
            if progress is not None:
                progress(len(sizes), len(sizes), f"{label}: done")
    if not results:
        raise ArchstatError(f"{label} does not fit at batch {failed} on {torch_device}: {failure}")
    if failed is not None:
        notes.append(f"batch {failed} ran out of memory; the largest batch that fit is {results[-1].batch}")
    peaks = _device_peaks(torch_device)
    if torch_device.type == "cpu":
        notes.append("CPU: no peak table, so no roofline fractions; memory is not measured (only estimated)")
    elif peaks is None:
        notes.append(f"{env.get('gpu')} is not in the peak table: no roofline fractions")
    matrix_tf32 = torch.backends.cudnn.allow_tf32
    return LatencyResult(
        model=label, device=str(env.get("gpu") or f"cpu: {env.get('cpu')}"), device_type=torch_device.type,
        dtype=str(torch_dtype).removeprefix("torch."), channels_last=channels_last, warmup=warmup, repeat=repeat,
        cuda_graph=cuda_graph, per_layer=per_layer, requested_batches=tuple(sizes), batches=tuple(results),
        failed_batch=failed, failure=failure, peaks_name=peaks.name if peaks else None,
        peak_flops=compute_ceiling(peaks, torch_dtype, matrix=True, tf32=matrix_tf32) if peaks else None,
        peak_bandwidth=peaks.bandwidth if peaks else None, environment={**env, "cudnn_benchmark": cudnn_benchmark},
        notes=tuple(notes),
    )


_COUNTED_ON = "FLOPs and bytes counted on"


def _counted(model: nn.Module, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device,
             label: str) -> Analysis:
    """The analysis on meta, or, for a model that reads tensor values there, on the device it is
    timed on (where its weights already are), with `fallback_reason` saying why."""
    try:
        return analyze(model, shape, dtype=dtype, device="meta", label=label, receptive_fields=False,
                       saved_for_backward=True, cpu_fallback_bytes=0)
    except DataDependentError as error:
        real = analyze(model, shape, dtype=dtype, device=device, label=label, receptive_fields=False,
                       saved_for_backward=True)
        return replace(real, fallback_reason=error.reason)


class _OutOfMemory(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _batch(model: nn.Module, sample_shape: Sequence[int], batch: int, settings: Settings, analysis: Analysis,
           label: str) -> BatchResult:
    oom: str | None = None
    try:
        return measure_batch(model, sample_shape, batch, settings, analysis)
    except ArchstatError:
        raise
    except Exception as exc:
        if not is_out_of_memory(exc):
            message = one_line(exc) or type(exc).__name__
            raise ForwardError(f"the forward of {label} at batch {batch} raised {type(exc).__name__}: "
                               f"{message}") from exc
        oom = one_line(exc)[:200]
    # Out of the except block, so the traceback (and the tensors its frames hold) is gone.
    gc.collect()
    if settings.device.type == "cuda":
        torch.cuda.empty_cache()
    raise _OutOfMemory(oom)

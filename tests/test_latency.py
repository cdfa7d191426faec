"""`archstat latency`: the timing protocol on small CPU models, state restored, JSON round trip, OOM.

No assertion depends on how fast this machine is. The timing arithmetic (medians, coverage, hook
overhead, unattributed time, one synchronize per iteration) is checked exactly with a fake clock
that advances only when the code under test says so; runs on the real clock are checked for
structure only: hooks gone, rows present, statistics ordered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from torch import nn

from archstat.analysis.analyze import analyze
from archstat.analysis.loading import load_model
from archstat.cli.main import main
from archstat.errors import ArchstatError, UsageError
from archstat.measure import latency
from archstat.measure.latency import measure_latency, time_calls
from archstat.measure.peaks import H100_PCIE, H100_SXM, H200, compute_ceiling, match_peaks
from archstat.measure.results import LatencyResult, Stats, parse_result, read_result
from archstat.report.html import match_latency
from archstat.report.latency import render_latency

REPEAT = 5


def _measure(name: str, batches: tuple[int, ...] = (1, 4), **kwargs: object) -> LatencyResult:
    loaded = load_model(name, device="cpu")
    return measure_latency(loaded.module, loaded.input_shape[1:], batches, label=loaded.label, warmup=1,
                           repeat=REPEAT, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """One intra-op thread: on a shared machine a starved OpenMP thread stalls every op by a scheduler tick."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def resnet20() -> LatencyResult:
    return _measure("resnet20", per_layer=True)


def _hooks_left(model: nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if m._forward_hooks or m._forward_pre_hooks]


def model_paths(name: str) -> list[tuple[str, nn.Module]]:
    return list(load_model(name, device="meta").module.named_modules())


def _flags() -> tuple[object, ...]:
    return (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
            torch.get_float32_matmul_precision(), torch.is_grad_enabled())


@pytest.mark.parametrize("name", ["lenet5", "resnet20"])
def test_stats_are_consistent(name: str, resnet20: LatencyResult) -> None:
    result = resnet20 if name == "resnet20" else _measure(name, per_layer=True)
    assert [b.batch for b in result.batches] == [1, 4]
    for b in result.batches:
        s = b.whole
        assert s.samples == REPEAT
        assert 0 < s.min_ms <= s.p10_ms <= s.median_ms <= s.p90_ms <= s.max_ms
        assert b.throughput == pytest.approx(b.batch / (s.median_ms / 1e3))
        assert b.input_shape[0] == b.batch
        assert b.per_layer is not None
        assert b.per_layer.coverage > 0 and b.per_layer.hook_overhead > 0
        assert b.per_layer.unattributed_ms == pytest.approx(b.per_layer.hooked.median_ms - b.per_layer.leaf_sum_ms)
        assert b.per_layer.leaves() and {t.path for t in b.per_layer.leaves()} <= {n for n, _ in model_paths(name)}
        for t in b.per_layer.layers:
            assert 0 <= t.p10_ms <= t.median_ms <= t.p90_ms
        # CPU: nothing measured that needs CUDA, and no roofline without a peak table entry.
        assert b.memory.inference_peak_bytes is None and b.memory.training_peak_bytes is None
        assert b.memory.estimated_peak_activation_bytes > 0
        assert all(t.roofline_fraction is None for t in b.per_layer.layers)
        assert b.clocks_before is None
    assert result.peak_flops is None and any("CPU" in n for n in result.notes)


def test_layers_carry_the_analyzer_counts(resnet20: LatencyResult) -> None:
    per = resnet20.reported.per_layer
    assert per is not None
    conv = next(t for t in per.layers if t.path == "conv1")
    assert conv.flops and conv.bytes and conv.intensity == pytest.approx(conv.flops / conv.bytes)
    assert conv.flops_per_s == pytest.approx(conv.flops / (conv.median_ms / 1e3))


def test_whole_model_runs_without_hooks_and_everything_is_restored() -> None:
    model = load_model("resnet20", device="cpu").module
    model.train()
    model.layer1.eval()                      # a mixed state must come back as it was
    before = _flags()
    measure_latency(model, (3, 32, 32), (1,), label="resnet20", per_layer=True, warmup=1, repeat=2,
                    cudnn_benchmark=not torch.backends.cudnn.benchmark)
    assert _hooks_left(model) == []
    assert model.training and not model.layer1.training and model.layer2.training
    assert _flags() == before


class Exploding(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > 3:                    # the analyzer's meta forward and a warm-up pass first
            raise RuntimeError("injected failure")
        return self.conv(x)


def test_state_is_restored_after_an_error_in_forward() -> None:
    model = Exploding().train()
    before = _flags()
    with pytest.raises(ArchstatError, match="injected failure"):
        measure_latency(model, (3, 8, 8), (1,), label="exploding", per_layer=True, warmup=1, repeat=3,
                        cudnn_benchmark=not torch.backends.cudnn.benchmark)
    assert model.training
    assert _hooks_left(model) == []
    assert _flags() == before


class Reentrant(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(self.a(x)))


def test_reentered_modules_get_a_row_per_call() -> None:
    result = measure_latency(Reentrant(), (8,), (2,), label="reentrant", per_layer=True, warmup=1, repeat=3)
    per = result.reported.per_layer
    assert per is not None
    assert [(t.path, t.call) for t in per.layers] == [("a", 0), ("a", 1), ("b", 0)]
    first, second = per.layers[0], per.layers[1]
    assert first.flops == second.flops and first.flops is not None and first.flops >= 2 * 2 * 8 * 8
    saved = result.to_dict()["batches"][-1]["per_layer"]["layers"]
    assert [(entry["path"], entry["call"]) for entry in saved] == [("a", 0), ("a", 1), ("b", 0)]


def test_json_round_trip_renders_without_running(resnet20: LatencyResult, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.json"
    path.write_text(render_latency(resnet20, "json"))
    data = json.loads(path.read_text())
    assert data["schema_version"] == 2 and "models" not in data
    again = parse_result(data)
    assert again == resnet20 == read_result(path)
    # The one reader serves the report and compare as well.
    ((index, (result, timings)),) = match_latency([again], [analyze(load_model("resnet20").module, (1, 3, 32, 32),
                                                                    label="resnet20")]).items()
    assert index == 0 and result is again and [t.layer for t in timings] == list(again.reported.per_layer.leaves())
    from archstat.studies.compare import Latency, load_latency

    assert load_latency([path]) == {"resnet20": Latency(again.reported.whole.median_ms, again.label, 4)}

    def no_running(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendering must not measure")

    monkeypatch.setattr(latency, "measure_batch", no_running)
    for fmt in ("table", "markdown", "csv"):
        assert "resnet20" in render_latency(again, fmt)
    out = tmp_path / "out.md"
    assert main(["latency", "--from", str(path), "--format", "markdown", "-o", str(out)]) == 0
    assert "Leaf layers at batch 4" in out.read_text()


def test_out_of_memory_reports_the_largest_batch_that_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    real = latency.measure_batch

    def runner(model: nn.Module, shape: tuple[int, ...], batch: int, *args: object) -> object:
        if batch >= 8:
            raise RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate; out of memory")
        return real(model, shape, batch, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(latency, "measure_batch", runner)
    result = _measure("lenet5", (1, 4, 8, 16))
    assert [b.batch for b in result.batches] == [1, 4]
    assert result.failed_batch == 8 and result.reported.batch == 4
    assert "largest batch that fit is 4" in " ".join(result.notes)
    with pytest.raises(ArchstatError, match="does not fit at batch 8"):
        _measure("lenet5", (8,))


def test_bad_input_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError):
        _measure("lenet5", (0,))
    with pytest.raises(UsageError, match="cuda-graph"):
        _measure("lenet5", (1,), cuda_graph=True)
    assert main(["latency", "lenet5", "--batch", "1,x"]) == 2
    assert main(["latency", "--from", "/nonexistent.json"]) == 2
    if not torch.cuda.is_available():
        assert main(["latency", "lenet5", "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert all(line.startswith("archstat: error:") for line in err.splitlines())


# --- the timing arithmetic, on a fake clock ----------------------------------------------------

class FakeClock:
    """Time passes only when told: each stamp costs `stamp_ms` (what a hook costs), work what it says."""

    def __init__(self, stamp_ms: float = 0.0) -> None:
        self.now = 0.0
        self.stamp_ms = stamp_ms
        self.syncs = 0

    def stamp(self) -> float:
        taken = self.now
        self.now += self.stamp_ms
        return taken

    def ms(self, start: float, end: float) -> float:
        return end - start

    def sync(self) -> None:
        self.syncs += 1

    def reset(self) -> None:
        pass

    def advance(self, ms: float) -> None:
        self.now += ms


class Work(nn.Module):
    """A layer that takes `ms` of fake time per real call (the analyzer's meta forward takes none)."""

    def __init__(self, clock: FakeClock, ms: float) -> None:
        super().__init__()
        self.clock, self.cost = clock, ms

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "meta":
            self.clock.advance(self.cost)
        return x + 1


class FakeNet(nn.Module):
    """a (2 ms) twice, then b (3 ms), then 1 ms of glue outside any leaf: 8 ms of work per forward."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.a, self.b, self.clock = Work(clock, 2.0), Work(clock, 3.0), clock

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.b(self.a(self.a(x)))
        if x.device.type != "meta":
            self.clock.advance(1.0)
        return y


def test_time_calls_on_a_fake_clock() -> None:
    clock = FakeClock()
    costs = iter([5.0, 1.0, 3.0, 2.0, 4.0, 5.0, 1.0])

    s = time_calls(lambda: clock.advance(next(costs)), clock, warmup=2, repeat=5)  # timed: 3, 2, 4, 5, 1
    assert (s.min_ms, s.p10_ms, s.median_ms, s.p90_ms, s.max_ms, s.samples) == (1.0, 1.4, 3.0, 4.6, 5.0, 5)
    assert clock.syncs == 1 + 5                      # once after the warm-up, then once per timed call
    assert next(costs, None) is None                 # warm-up and timed calls, nothing more


def test_per_layer_arithmetic_on_a_fake_clock() -> None:
    clock = FakeClock(stamp_ms=0.5)
    result = measure_latency(FakeNet(clock), (4,), (2,), label="fake", per_layer=True, warmup=1, repeat=3,
                             clock=clock)
    (b,) = result.batches
    # Unhooked: one stamp's cost inside the interval, then 8 ms of work.
    assert (b.whole.median_ms, b.whole.p10_ms, b.whole.p90_ms, b.whole.samples) == (8.5, 8.5, 8.5, 3)
    assert b.throughput == 2 / (8.5 / 1e3)
    per = b.per_layer
    assert per is not None
    # Each layer call spans its own work and the stamp of its pre hook.
    assert [(t.path, t.call, t.median_ms) for t in per.layers] == [("a", 0, 2.5), ("a", 1, 2.5), ("b", 0, 3.5)]
    # Hooked: the outer start stamp and six hook stamps, then 8 ms of work.
    assert per.hooked.median_ms == 0.5 * 7 + 8
    assert per.leaf_sum_ms == 8.5
    assert per.coverage == 8.5 / 11.5
    assert per.hook_overhead == 11.5 / 8.5
    assert per.unattributed_ms == 3.0               # 1 ms of glue, the start stamp and four hook stamps


def test_stats_percentiles() -> None:
    s = Stats.of([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s.min_ms, s.p10_ms, s.median_ms, s.p90_ms, s.max_ms) == (1.0, 1.4, 3.0, 4.6, 5.0)
    assert s.spread == pytest.approx(3.2 / 3.0)


def test_peak_table_matches_device_names() -> None:
    assert match_peaks("NVIDIA H100 80GB HBM3", 132) is H100_SXM
    assert match_peaks("NVIDIA H100 PCIe", 114) is H100_PCIE
    assert match_peaks("NVIDIA H200") is H200
    assert match_peaks("NVIDIA H100 NVL") is None
    assert match_peaks("NVIDIA GeForce RTX 4090") is None
    assert compute_ceiling(H100_SXM, torch.bfloat16, matrix=True, tf32=False) == 989e12
    assert compute_ceiling(H100_SXM, torch.float32, matrix=True, tf32=True) == 495e12
    assert compute_ceiling(H100_SXM, torch.float32, matrix=True, tf32=False) == 67e12
    assert compute_ceiling(H100_SXM, torch.bfloat16, matrix=False, tf32=False) == 67e12


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@cuda
def test_cuda_protocol_graph_and_memory() -> None:
    before = _flags()
    result = _measure("resnet20", (1, 4), device="cuda", per_layer=True, cuda_graph=True)
    assert _flags() == before
    for b in result.batches:
        assert b.graph is not None and b.graph.median_ms > 0
        assert b.memory.inference_peak_bytes is not None and b.memory.baseline_bytes is not None
        assert b.memory.inference_peak_bytes >= b.memory.baseline_bytes
        assert b.memory.training_peak_bytes is not None
        assert b.per_layer is not None and b.per_layer.coverage > 0
    assert result.environment["gpu"] and result.environment["sm_count"]


@cuda
def test_cuda_half_precision_copies_and_leaves_the_model() -> None:
    model = load_model("resnet20", device="cpu").module
    result = measure_latency(model, (3, 32, 32), (2,), label="resnet20", device="cuda", dtype="float16",
                             channels_last=True, per_layer=True, warmup=1, repeat=3)
    assert next(model.parameters()).device.type == "cpu"
    assert next(model.parameters()).dtype == torch.float32
    assert result.dtype == "float16"

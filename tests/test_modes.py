"""Every path that runs a model gives it back exactly as it came: each module's own train/eval
flag, each parameter's requires_grad, and PyTorch's global flags, on success and on error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from torch import nn

from archstat.analysis import analyze
from archstat.analysis.inputs import Call, InputSpec, materialize
from archstat.analysis.rf.verify import verify_fields
from archstat.analysis.tracing.execution import GlobalFlags, ModelTree, set_mode
from archstat.analysis.tracing.lifetimes import saved_for_backward
from archstat.measure.latency import measure_latency
from archstat.studies import check

SHAPE = (2, 3, 8, 8)


class Mixed(nn.Module):
    """conv → batch norm → ReLU → linear head; on the device type named by `fail`, changes modes and raises."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * 8 * 8, 5))
        self.fail: str | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type == self.fail:  # first upset the modes, then fail
            self.bn.train(not self.bn.training)
            self.conv.weight.requires_grad_(not self.conv.weight.requires_grad)
            torch.backends.cudnn.benchmark = not torch.backends.cudnn.benchmark
            raise RuntimeError("injected failure")
        return self.head(torch.relu(self.bn(self.conv(x))))


def train_root_frozen_bn() -> Mixed:
    model = Mixed().train()
    model.bn.eval()
    model.conv.weight.requires_grad_(False)
    return model


def eval_root_training_child() -> Mixed:
    model = Mixed().eval()
    model.head.train()
    model.bn.bias.requires_grad_(False)
    return model


MODELS = [train_root_frozen_bn, eval_root_training_child]


def state(model: nn.Module) -> tuple[dict[str, bool], dict[str, bool], GlobalFlags]:
    return (
        {name: m.training for name, m in model.named_modules()},
        {name: p.requires_grad for name, p in model.named_parameters()},
        GlobalFlags.current(),
    )


@pytest.fixture(autouse=True)
def unusual_flags() -> Iterator[None]:
    """Global flags away from their defaults, so a run that resets them to defaults is caught."""
    before = GlobalFlags.current()
    torch.backends.cudnn.benchmark = not torch.backends.cudnn.benchmark
    torch.backends.cudnn.deterministic = not torch.backends.cudnn.deterministic
    torch.set_float32_matmul_precision("medium")
    torch.backends.cudnn.allow_tf32 = not torch.backends.cudnn.allow_tf32
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_grad_enabled(False)
    try:
        yield
    finally:
        before.restore()


def _analyze_meta(model: nn.Module) -> Any:
    return analyze(model, SHAPE, device="meta")


def _analyze_cpu(model: nn.Module) -> Any:
    return analyze(model, SHAPE, device="cpu")


def _saved_for_backward(model: nn.Module) -> Any:
    meta = torch.device("meta")
    return saved_for_backward(model, materialize(Call((InputSpec(SHAPE),)), torch.float32, meta), torch.float32, meta)


def _check(model: nn.Module) -> Any:
    return check.reconcile(model, SHAPE)


def _latency(model: nn.Module) -> Any:
    return measure_latency(model, SHAPE[1:], [1, 2], label="mixed", warmup=0, repeat=1, per_layer=True,
                           cudnn_benchmark=not torch.backends.cudnn.benchmark)


PATHS: dict[str, Callable[[nn.Module], Any]] = {
    "analyze-meta": _analyze_meta,
    "analyze-cpu": _analyze_cpu,
    "saved-for-backward": _saved_for_backward,
    "check": _check,
    "latency": _latency,
}


@pytest.mark.parametrize("build", MODELS)
@pytest.mark.parametrize("path", list(PATHS))
def test_state_comes_back_after_a_run(build: Callable[[], Mixed], path: str) -> None:
    model = build()
    before = state(model)
    PATHS[path](model)
    assert state(model) == before


@pytest.mark.parametrize("build", MODELS)
def test_state_comes_back_after_rf_verify(build: Callable[[], Mixed]) -> None:
    model = build()
    analysis = analyze(model, SHAPE)
    before = state(model)
    verification = verify_fields(model, analysis)
    assert verification.checks and state(model) == before


# Where the failure is injected: the device whose forward raises.
FAILING = {"analyze-meta": "meta", "analyze-cpu": "cpu", "saved-for-backward": "meta", "latency": "cpu"}


@pytest.mark.parametrize("build", MODELS)
@pytest.mark.parametrize("path", list(FAILING))
def test_state_comes_back_when_the_forward_raises(build: Callable[[], Mixed], path: str) -> None:
    model = build()
    model.fail = FAILING[path]
    before = state(model)
    with pytest.raises(Exception, match="injected failure"):
        PATHS[path](model)
    assert state(model) == before


@pytest.mark.parametrize("build", MODELS)
def test_state_comes_back_when_check_fails(build: Callable[[], Mixed], monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_counter(model: nn.Module, x: torch.Tensor) -> dict[str, int]:
        model.train()  # a counter that changes the mode and then raises
        torch.set_grad_enabled(True)
        raise RuntimeError("injected failure")

    monkeypatch.setattr(check, "_flop_counter", failing_counter)
    model = build()
    before = state(model)
    with pytest.raises(RuntimeError, match="injected failure"):
        check.reconcile(model, SHAPE)
    assert state(model) == before


@pytest.mark.parametrize("build", MODELS)
def test_state_comes_back_when_rf_verify_fails(build: Callable[[], Mixed]) -> None:
    model = build()
    analysis = analyze(model, SHAPE)
    model.fail = "cpu"
    before = state(model)
    with pytest.raises(RuntimeError, match="injected failure"):
        verify_fields(model, analysis)
    assert state(model) == before


class KeepsBnFrozen(nn.Module):
    """A model whose own `train` keeps its batch norm in eval: the way models freeze statistics."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)

    def train(self, mode: bool = True) -> KeepsBnFrozen:
        super().train(mode)
        self.bn.eval()
        return self


@pytest.mark.parametrize("factory", [train_root_frozen_bn, eval_root_training_child, KeepsBnFrozen])
@pytest.mark.parametrize("training", [True, False])
def test_set_mode_leaves_every_flag_as_model_train_does(factory: Callable[[], nn.Module], training: bool) -> None:
    """The direct flag store sets exactly what `model.train(mode)` sets; a class with its own `train`
    is called (its batch norm stays frozen)."""
    expected, given = factory(), factory()
    expected.train(training)
    set_mode(given, ModelTree.of(given), training)
    assert [m.training for m in given.modules()] == [m.training for m in expected.modules()]
    if isinstance(given, KeepsBnFrozen):
        assert given.training is training and given.bn.training is False

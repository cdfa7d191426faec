"""A training step, counted (`analyze(..., training=True)`, `archstat summary --training`).

The oracles: FlopCounterMode on a real CPU forward + backward, hand counts of the conv and linear
gradients, a real CPU training forward's saved tensors, and what a real `torch.optim` step allocates.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.graph import saved_tensors_hooks
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

import archstat
from archstat.analysis.inputs import at_batch
from archstat.analysis.records import Analysis, StepCost
from archstat.analysis.training import _search
from archstat.cli.main import main
from archstat.errors import UsageError
from tests.oracles import TORCHVISION

aten = torch.ops.aten


def small_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 32), nn.ReLU(), nn.Linear(32, 10),
    )


def step(model: nn.Module | str, shape: tuple[int, ...], **kwargs: object) -> Analysis:
    return archstat.analyze(model, shape, training=True, gpu_memory=(), **kwargs)  # type: ignore[arg-type]


def row(analysis: Analysis, path: str) -> StepCost:
    assert analysis.training is not None
    index = next(r.index for r in analysis.layers if r.path == path)
    return analysis.training.layers[index]


# --- cost ----------------------------------------------------------------------------------------


def test_conv_and_linear_backward_is_twice_the_forward_and_the_first_input_needs_no_gradient() -> None:
    a = step(small_cnn(), (2, 3, 8, 8))
    first, second, fc1, fc2 = row(a, "0"), row(a, "3"), row(a, "7"), row(a, "9")
    assert first.forward_macs == 2 * 8 * 8 * 8 * 27
    assert first.input_grad_macs == 0                       # the input needs no gradient
    assert first.weight_grad_macs == first.forward_macs
    for layer in (second, fc1, fc2):
        assert layer.input_grad_macs == layer.weight_grad_macs == layer.forward_macs
        assert layer.backward_macs == 2 * layer.forward_macs
    # conv bias gradient: 1 FLOP per output element, charged to the weight gradient
    assert first.weight_grad_flops == 2 * first.forward_macs + 2 * 8 * 8 * 8
    assert second.weight_grad_flops == 2 * second.forward_macs   # no bias


def flop_counter(model: nn.Module, x: torch.Tensor) -> dict[object, int]:
    """FlopCounterMode's counts per op over a real CPU training forward and a backward from the output."""
    model.train()
    with FlopCounterMode(display=False) as counter:
        y = model(x)
        y.backward(torch.ones_like(y))
    return dict(counter.get_flop_counts()["Global"])


@pytest.mark.parametrize(("make", "size"), [(lambda: archstat.get_model("resnet18"), 32), (small_cnn, 8)],
                         ids=["resnet18", "cnn"])
def test_conv_and_matmul_flops_equal_flop_counter_mode_forward_and_backward(make: Callable[[], nn.Module],
                                                                             size: int) -> None:
    model = make()
    x = torch.randn(2, 3, size, size)
    counts = flop_counter(model, x)
    a = step(model, tuple(x.shape))
    assert a.training is not None
    conv, linear = a.training.by_category["conv"], a.training.by_category["linear"]
    assert counts[aten.convolution] == 2 * conv.forward_macs
    assert counts[aten.convolution_backward] == 2 * conv.backward_macs
    assert counts[aten.addmm] + counts.get(aten.mm, 0) == 2 * (linear.forward_macs + linear.backward_macs)


class Attention(nn.Module):
    def __init__(self, dim: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v)
        return self.out(y.transpose(1, 2).reshape(b, n, d))


def test_attention_backward_ratio_is_what_the_math_path_executes() -> None:
    model, x = Attention(), torch.randn(2, 16, 32)
    with sdpa_kernel(SDPBackend.MATH):
        forward = FlopCounterMode(display=False)
        with forward:
            model(x)
        counts = flop_counter(model, x)
    bmm_forward = forward.get_flop_counts()["Global"][aten.bmm]
    fcm_ratio = (counts[aten.bmm] - bmm_forward) / bmm_forward
    a = step(model, tuple(x.shape))
    assert a.training is not None
    projections = row(a, "qkv") + row(a, "out")
    attention = StepCost(*(getattr(a.training.layers[0], f) - getattr(projections, f) for f in
                           ("forward_macs", "forward_flops", "input_grad_macs", "input_grad_flops",
                            "weight_grad_macs", "weight_grad_flops")))
    assert 2 * attention.forward_macs == bmm_forward
    assert attention.backward_macs / attention.forward_macs == fcm_ratio == 2.0
    assert attention.weight_grad_macs == 0
    linear = a.training.by_category["linear"]
    assert counts[aten.bmm] + counts[aten.addmm] + counts[aten.mm] == 2 * (linear.forward_macs + linear.backward_macs)


RESNET50_MACS = TORCHVISION["resnet50"][1]
CONV1_MACS = 112 * 112 * 64 * 3 * 7 * 7       # 118,013,952
FC_MACS = 2048 * 1000


def test_frozen_resnet50_costs_what_a_hand_count_says() -> None:
    with torch.device("meta"):
        model = archstat.get_model("resnet50")
    full = step(model, (1, 3, 224, 224))
    assert full.training is not None
    assert full.training.totals.forward_macs == RESNET50_MACS
    assert full.training.totals.weight_grad_macs == RESNET50_MACS
    assert full.training.totals.input_grad_macs == RESNET50_MACS - CONV1_MACS

    # layer1..layer4 frozen: conv1 and fc still train, so the gradient still flows through every layer
    frozen = step(model, (1, 3, 224, 224), freeze=("layer*",))
    assert frozen.training is not None
    assert frozen.training.totals.weight_grad_macs == CONV1_MACS + FC_MACS
    assert frozen.training.totals.input_grad_macs == RESNET50_MACS - CONV1_MACS
    layer_params = sum(p.numel() for name, p in model.named_parameters() if name.startswith("layer"))
    assert frozen.training.trainable_params == TORCHVISION["resnet50"][0] - layer_params
    assert row(frozen, "layer3").weight_grad_macs == 0

    # the whole backbone frozen: only fc's weight gradient is left
    head = step(model, (1, 3, 224, 224), freeze=("conv1", "bn1", "layer*"))
    assert head.training is not None
    assert head.training.totals.weight_grad_macs == FC_MACS
    assert head.training.totals.input_grad_macs == 0
    assert all(p.requires_grad for p in model.parameters())      # the model comes back as it went in


def test_freeze_errors_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="matches no parameter"):
        step(small_cnn(), (1, 3, 8, 8), freeze=("features.*",))
    with pytest.raises(UsageError, match="no trainable parameter"):
        step(small_cnn(), (1, 3, 8, 8), freeze=("*",))
    with pytest.raises(UsageError, match="optimizer"):
        step(small_cnn(), (1, 3, 8, 8), optimizer="lbfgs")


# --- memory --------------------------------------------------------------------------------------


def real_saved_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Distinct storages a real CPU training forward saves for backward, parameters and buffers excluded."""
    weights = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in weights:
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    model.train()
    with saved_tensors_hooks(pack, lambda t: t):
        model(x)
    return sum(saved.values())


@pytest.mark.parametrize("freeze", [(), ("0", "1")])
def test_saved_activations_equal_a_real_training_forward(freeze: tuple[str, ...]) -> None:
    model, x = small_cnn(), torch.randn(4, 3, 8, 8)
    a = step(model, tuple(x.shape), freeze=freeze)
    assert a.training is not None
    for name, p in model.named_parameters():
        p.requires_grad_(name.split(".")[0] not in freeze)
    assert a.training.memory.saved_activation_bytes == real_saved_bytes(model, x)


def test_the_step_holds_the_forwards_live_peak_not_only_what_it_saves() -> None:
    # Only the last layer trains: autograd saves its input alone (B x 256), but the forward
    # holds the input (B x 64) and two 256-wide activations at once (a layer's input and output).
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    a = step(model, (8, 64), freeze=("0", "2"))
    assert a.training is not None
    memory = a.training.memory
    assert memory.saved_activation_bytes == 4 * 8 * 256
    assert memory.peak_activation_bytes == 4 * 8 * (64 + 256 + 256)
    assert memory.activation_bytes == memory.peak_activation_bytes
    # A frozen backbone saves almost nothing; the step still holds at least an inference forward's peak.
    frozen = step("resnet50", (2, 3, 224, 224), freeze=("conv1", "bn1", "layer*"))
    assert frozen.training is not None
    held = frozen.training.memory
    assert held.saved_activation_bytes < 1 << 20
    assert held.activation_bytes >= frozen.totals.peak_activation_bytes
    trained = step("resnet50", (2, 3, 224, 224))
    assert trained.training is not None
    held = trained.training.memory
    assert held.activation_bytes >= max(trained.totals.peak_activation_bytes, held.saved_activation_bytes)


OPTIMIZERS: dict[str, Callable[[list[nn.Parameter]], torch.optim.Optimizer]] = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
    "adam": lambda ps: torch.optim.Adam(ps),
    "adamw": lambda ps: torch.optim.AdamW(ps),
}


def _bytes(value: object) -> int:
    if isinstance(value, torch.Tensor):
        return value.untyped_storage().nbytes()
    if isinstance(value, dict):
        return sum(_bytes(v) for v in value.values())
    return 0


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_parameters_gradients_and_optimizer_state_equal_a_real_torch_optim_step(optimizer: str) -> None:
    model, x = small_cnn(), torch.randn(2, 3, 8, 8)
    a = step(model, tuple(x.shape), optimizer=optimizer, freeze=("0",))
    assert a.training is not None
    memory = a.training.memory
    model[0].requires_grad_(False)
    opt = OPTIMIZERS[optimizer]([p for p in model.parameters() if p.requires_grad])
    model.train()
    model(x).sum().backward()
    opt.step()
    assert memory.param_bytes == sum(p.untyped_storage().nbytes() for p in model.parameters())
    assert memory.grad_bytes == sum(p.grad.untyped_storage().nbytes() for p in model.parameters() if p.grad is not None)
    assert memory.optimizer_state_bytes == _bytes(opt.state_dict()["state"])
    assert memory.master_weight_bytes == 0
    assert memory.total_bytes == (memory.param_bytes + memory.grad_bytes + memory.optimizer_state_bytes
                                  + memory.activation_bytes)
    assert memory.activation_bytes == max(memory.saved_activation_bytes, memory.peak_activation_bytes)


def test_amp_holds_fp32_master_weights_and_optimizer_state() -> None:
    model = small_cnn()
    trainable = sum(p.numel() for p in model.parameters())
    fp32 = step(model, (2, 3, 8, 8))
    amp = step(model, (2, 3, 8, 8), amp="bf16")
    assert fp32.training is not None and amp.training is not None
    assert amp.training.memory.master_weight_bytes == 4 * trainable
    assert amp.training.memory.param_bytes == 2 * trainable
    assert amp.training.memory.grad_bytes == 2 * trainable
    assert amp.training.memory.optimizer_state_bytes == fp32.training.memory.optimizer_state_bytes
    assert amp.training.memory.saved_activation_bytes < fp32.training.memory.saved_activation_bytes


def test_largest_batch_is_searched_not_extrapolated() -> None:
    assert _search(lambda b: b <= 37, 1000) == 37
    assert _search(lambda b: b <= 37, 1) == 37
    assert _search(lambda b: b * b <= 1000, 10) == 31     # not linear: still exact
    assert _search(lambda b: False, 5) == 0
    with torch.device("meta"):
        model = archstat.get_model("resnet18")
    a = archstat.analyze(model, (1, 3, 224, 224), training=True, gpu_memory=(1,))
    assert a.training is not None
    memory = a.training.memory
    found = memory.largest_batch[1]
    assert found is not None and found > 1

    def total(batch: int) -> int:
        b = step(model, (batch, 3, 224, 224))
        assert b.training is not None
        return b.training.memory.total_bytes

    assert total(found) <= 1 << 30 < total(found + 1)


def test_at_batch_sets_dimension_zero_of_every_input() -> None:
    call = archstat.Call((torch.zeros(2, 5), archstat.InputSpec((2, 7), torch.int64)), {"mask": torch.ones(2, 7)})
    moved = at_batch(call, 9)
    assert [tuple(t.shape) for t in (*moved.args, moved.kwargs["mask"])] == [(9, 5), (9, 7), (9, 7)]


# --- the command and the JSON ----------------------------------------------------------------------


def test_summary_training_json_carries_the_split_and_the_memory(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["summary", "resnet18", "--input", "2x3x64x64", "--training", "--freeze", "layer1*",
                 "--optimizer", "momentum", "--gpu-memory", "2", "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    training = data["totals"]["training"]
    for key in ("forward_macs", "forward_flops", "backward_macs", "backward_flops", "input_grad_macs",
                "weight_grad_macs"):
        assert isinstance(training[key], int)
    assert training["backward_macs"] == training["input_grad_macs"] + training["weight_grad_macs"]
    memory = training["memory"]
    assert set(memory) >= {"param_bytes", "grad_bytes", "optimizer_state_bytes", "master_weight_bytes",
                           "saved_activation_bytes", "peak_activation_bytes", "activation_bytes", "total_bytes",
                           "largest_batch"}
    assert list(memory["largest_batch"]) == ["24", "40", "80", "141", "2"]
    assert data["layers"][1]["training"]["forward_macs"] == data["layers"][1]["macs"]
    assert training["frozen"] == ["layer1*"]


def test_summary_training_tables_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "resnet18", "--input", "1x3x64x64", "--freeze", "layer*", "--gpu-memory", "1"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "training step" in out and "training memory" in out and "Largest batch" in out
    assert "Weight-grad MACs" in out and "optimizer state (adam)" in out
    assert main(["summary", "resnet18", "--freeze", "features.*"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archstat: error: --freeze 'features.*' matches no parameter") and err.count("\n") == 1

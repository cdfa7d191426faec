"""What the analyzer records and how it rolls up: functional ops, repeated calls, shared weights,
containers, memory figures, immutability, and that the model comes back as it went in."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from archstat.analysis import CONVENTIONS, analyze
from archstat.errors import ForwardError, InputTooSmallError, UsageError
from archstat.report.summary import summary_lines


class Functional(nn.Module):
    """Functional ops only, in a container's own forward."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.conv(x))
        z = torch.cat([y, y], dim=1) + 1.0
        flat = torch.flatten(z, 1)
        return flat @ flat.t()


class Tied(nn.Module):
    """One Linear called twice and a second Linear sharing its weight."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(8, 8, bias=False)
        self.b = nn.Linear(8, 8, bias=False)
        self.b.weight = self.a.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(self.a(x)))


def test_functional_ops_are_recorded_and_attributed_to_their_module() -> None:
    analysis = analyze(Functional(), (2, 3, 5, 5))
    root = analysis.layers[0]
    conv = next(r for r in analysis.layers if r.path == "conv")
    # conv: 2*4*5*5 outputs x 27 MACs; matmul: (2 x 200) @ (200 x 2) = 800 MACs.
    assert conv.macs == 2 * 4 * 25 * 27
    assert root.macs == conv.macs + 2 * 200 * 2
    # relu (200) and "+ 1" (400 elements) are charged to the root's own forward.
    assert root.by_category["activation"].flops == 200
    assert root.by_category["elementwise"].flops == 400
    assert not analysis.totals.partial


def test_repeated_calls_get_a_row_each_and_shared_weights_count_once() -> None:
    analysis = analyze(Tied(), (1, 8))
    rows = analysis.rows()
    assert [(r.path, r.call) for r in rows] == [("a", 0), ("a", 1), ("b", 0)]
    assert [r.params for r in rows] == [64, 0, 0]
    assert [r.shared for r in rows] == [False, True, True]
    assert analysis.totals.params == 64
    assert analysis.totals.macs == 3 * 64


def test_containers_roll_up_and_depth_filters_rows() -> None:
    model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), nn.Flatten(), nn.Linear(4 * 9, 2))
    analysis = analyze(model, (1, 3, 5, 5))
    inner = analysis.rows(depth=1)[0]
    leaves = [r for r in analysis.layers if r.parent == inner.index]
    assert inner.macs == sum(r.macs for r in leaves)
    assert inner.flops == sum(r.flops for r in leaves)
    assert inner.params == sum(r.params for r in leaves)
    assert [r.depth for r in analysis.rows(depth=1)] == [1, 1, 1]
    assert analysis.totals.flops == analysis.layers[0].flops


def test_unsupported_op_marks_totals_partial() -> None:
    class Odd(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.special.i0(x)  # a Bessel function: no formula

    analysis = analyze(Odd(), (1, 4))
    assert analysis.totals.partial
    assert analysis.unsupported == {"i0": 1}


def test_meta_equals_cpu_and_cost_is_linear_in_batch() -> None:
    one = analyze("resnet20")
    cpu = analyze("resnet20", device="cpu")
    eight = analyze("resnet20", (8, 3, 32, 32))
    assert (one.totals.macs, one.totals.flops) == (cpu.totals.macs, cpu.totals.flops)
    assert one.totals.activation_bytes == cpu.totals.activation_bytes
    assert eight.totals.flops == 8 * one.totals.flops
    assert eight.totals.activation_bytes == 8 * one.totals.activation_bytes


def test_dtype_sets_every_byte_figure() -> None:
    f32 = analyze("resnet18")
    bf16 = analyze("resnet18", dtype="bfloat16")
    assert bf16.totals.param_bytes * 2 == f32.totals.param_bytes == 4 * f32.totals.params
    assert bf16.totals.activation_bytes * 2 == f32.totals.activation_bytes
    assert bf16.totals.macs == f32.totals.macs
    assert bf16.dtype == "bfloat16"


def test_lecture_activation_memory_counts_each_layer_output_once() -> None:
    # conv -> in-place ReLU -> pool -> conv: the ReLU writes into the conv's output, so it adds
    # nothing; the sum is conv1 (8x16x16) + pool (8x8x8) + conv2 (4x8x8), 4 bytes each.
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                          nn.Conv2d(8, 4, 3, padding=1))
    analysis = analyze(model, (1, 3, 16, 16))
    assert analysis.totals.activation_bytes == 4 * (8 * 256 + 8 * 64 + 4 * 64)
    relu = next(r for r in analysis.leaves() if r.type == "ReLU")
    assert relu.activation_bytes == 0
    # Not in place, the ReLU's output is a tensor of its own.
    model[1] = nn.ReLU()
    assert analyze(model, (1, 3, 16, 16)).totals.activation_bytes == 4 * (2 * 8 * 256 + 8 * 64 + 4 * 64)


def test_vgg16_activation_memory_matches_a_hand_count() -> None:
    # Sum of conv, pool and FC outputs of VGG-16 at 224x224 (ReLUs in place, dropout a no-op in
    # eval), plus the 7x7 adaptive pool's output, in float32.
    maps = [(64, 224)] * 2 + [(64, 112)] + [(128, 112)] * 2 + [(128, 56)] + [(256, 56)] * 3 + [(256, 28)]
    maps += [(512, 28)] * 3 + [(512, 14)] + [(512, 14)] * 3 + [(512, 7)] + [(512, 7)]
    elements = sum(c * s * s for c, s in maps) + 4096 + 4096 + 1000
    assert analyze("vgg16").totals.activation_bytes == 4 * elements


def test_peak_live_memory_of_a_chain() -> None:
    # Input 1x4x8x8 (1 KiB); conv1 out 8x8x8 (2 KiB), in-place ReLU, conv2 out 8x8x8 (2 KiB).
    # While conv2 runs, input (held by the caller), conv1's output and conv2's output are live.
    model = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(8, 8, 3, padding=1))
    analysis = analyze(model, (1, 4, 8, 8))
    assert analysis.totals.peak_activation_bytes == 1024 + 2048 + 2048


def test_training_saved_tensors_of_an_mlp() -> None:
    # Linear(10, 20) saves its input (4x10); ReLU saves its output (4x20), which the second
    # Linear also saves (the same tensor, counted once). Weights are not activations.
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    analysis = analyze(model, (4, 10), saved_for_backward=True)
    assert analysis.totals.training_activation_bytes == 4 * (4 * 10 + 4 * 20)
    assert analysis.training_mode == "train"


def test_saved_bytes_are_measured_only_when_asked() -> None:
    """The default analysis is the one recorded forward: no train-mode forward runs, and the
    figure says it was not measured rather than 0; every other figure is the same either way."""
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    plain, measured = analyze(model, (4, 10)), analyze(model, (4, 10), saved_for_backward=True)
    assert plain.totals.training_activation_bytes is None and plain.training_mode is None
    assert plain.to_dict()["totals"]["training_activation_bytes"] is None
    with pytest.raises(ValueError, match="saved_for_backward=True"):
        plain.totals.saved_bytes()
    assert measured.totals.saved_bytes() == 4 * (4 * 10 + 4 * 20)
    assert dataclasses.replace(measured.totals, training_activation_bytes=None) == plain.totals
    assert "saved for backward" not in "\n".join(v for _, v in summary_lines(plain))
    assert "saved for backward 480 B (train mode)" in "\n".join(v for _, v in summary_lines(measured))


def test_results_are_immutable_and_serialise() -> None:
    analysis = analyze("lenet5")
    with pytest.raises(dataclasses.FrozenInstanceError):
        analysis.totals.params = 0  # type: ignore[misc]
    data = json.loads(analysis.to_json())
    assert data["totals"]["params"] == 60_840
    assert data["conventions"]["macs"] == CONVENTIONS["macs"]
    frame = analysis.to_pandas()
    assert len(frame) == len(analysis.rows())
    assert frame["macs"].sum() >= analysis.totals.macs


def test_model_comes_back_as_it_went_in() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout())
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    analyze(model, (2, 3, 8, 8))
    analyze(model, (2, 3, 8, 8), device="cpu")
    assert model.training
    assert all(m.training for m in model.modules())
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks
        assert "forward" not in module.__dict__
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_hooks_are_removed_when_the_forward_raises() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 4), nn.Linear(5, 2))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.body(x)

    model = Broken()
    with pytest.raises(ForwardError, match=r"body\.1 \(Linear"):
        analyze(model, (1, 4))
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert all("forward" not in m.__dict__ for m in model.modules())


class OwnCall(nn.Linear):
    """A layer with its own `__call__` (as Hugging Face's checkpointing layers have)."""

    def __call__(self, *args: object, **kwargs: object) -> torch.Tensor:
        return super().__call__(*args, **kwargs)


class PropertyForward(nn.Module):
    """A `forward` that is a property: an instance attribute cannot shadow it."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)

    @property
    def forward(self) -> nn.Module:   # type: ignore[override]
        return self.fc


class OwnRegister(nn.Linear):
    """A layer whose class registers forward hooks its own way (and has its own `__call__`)."""

    registered = 0

    def __call__(self, *args: object, **kwargs: object) -> torch.Tensor:
        return super().__call__(*args, **kwargs)

    def register_forward_hook(self, *args: object, **kwargs: object) -> torch.utils.hooks.RemovableHandle:
        OwnRegister.registered += 1
        return super().register_forward_hook(*args, **kwargs)  # type: ignore[arg-type]


class EveryCallKind(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.plain = nn.Linear(4, 6)
        self.patched = nn.Linear(6, 6)
        self.own_call = OwnCall(6, 6)
        self.prop = PropertyForward()
        self.own_register = OwnRegister(6, 6)
        self.hooked = nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.prop(self.own_call(self.patched(self.plain(x))))
        return self.hooked(self.own_register(x))


def test_every_way_a_module_is_called_is_recorded_and_put_back() -> None:
    """Plain modules have their `forward` wrapped, others get hooks (recorder._hooked); each way
    records the call, the model's own hooks still run around it, and everything is put back."""
    model = EveryCallKind()
    original = model.patched.forward
    model.patched.forward = lambda x: original(x) * 2          # an instance's own forward
    patched = model.patched.forward
    seen: list[torch.Size] = []
    pre = model.hooked.register_forward_pre_hook(lambda m, args: (torch.cat([args[0], args[0]], dim=1),))
    post = model.hooked.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    OwnRegister.registered = 0

    analysis = analyze(model, (2, 4))

    rows = {row.path: row for row in analysis.layers}
    for path in ("plain", "patched", "own_call", "prop", "prop.fc", "own_register"):
        assert rows[path].output_shapes == ((2, 6),), path
        assert rows[path].macs == 2 * (4 if path == "plain" else 6) * 6, path   # prop: its child's
    assert rows["hooked"].input_shapes == ((2, 12),)             # after the model's own pre-hook
    assert rows["hooked"].macs == 2 * 12 * 3
    assert seen == [torch.Size([2, 3])]                          # the model's own hook ran on meta
    assert OwnRegister.registered == 1
    assert model.patched.forward is patched
    assert all("forward" not in m.__dict__ for name, m in model.named_modules() if name != "patched")
    assert list(model.hooked._forward_pre_hooks) == [pre.id] and list(model.hooked._forward_hooks) == [post.id]
    assert all(not m._forward_hooks and not m._forward_pre_hooks for name, m in model.named_modules()
               if name != "hooked")


def test_input_too_small_names_the_layer() -> None:
    with pytest.raises(InputTooSmallError, match=r"features\.30 \(MaxPool2d"):
        analyze("vgg16", (1, 3, 16, 16))
    with pytest.raises(InputTooSmallError, match=r"at 0 \(Conv2d"):
        analyze(nn.Sequential(nn.Conv2d(3, 3, 5)), (1, 3, 3, 3))


def test_googlenet_aux_heads_are_counted_but_not_run_in_eval() -> None:
    analysis = analyze("googlenet")
    assert analysis.totals.executed_params < analysis.totals.params
    assert not any(r.path.startswith("aux") for r in analysis.layers)
    assert analysis.layers[0].output_shape == (1, 1000)


def test_a_tensor_given_as_the_shape_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="give an example tensor as inputs="):
        analyze(nn.Linear(4, 2), torch.zeros(3, 4))  # type: ignore[arg-type]

"""The empirical receptive-field probe against fields computed by hand (REFERENCES.md §3).

Closed form per axis: r = 1 + Σ (k'_l − 1)·Π_{i<l} s_i, start = −Σ p_l·Π_{i<l} s_i; output
unit u sees input pixels [start + u·j, start + u·j + r − 1], clipped to the image. The probe
picks the centre unit u = (size − 1) // 2 of each output axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import archstat
from archstat.analysis.rf.field import AxisField
from archstat.analysis.rf.probe import ProbeResult, probe_fields
from archstat.errors import UsageError


def probe(model: nn.Module, shape: tuple[int, ...], target: str = "") -> ProbeResult:
    return probe_fields(model, shape, [target])[target]


def conv(k: int | tuple[int, int], *, s: int = 1, p: int | tuple[int, int] = 0, d: int = 1, c: int = 2) -> nn.Conv2d:
    return nn.Conv2d(c, c, k, stride=s, padding=p, dilation=d)


class Lambda(nn.Module):
    def __init__(self, fn: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)


# ---------------------------------------------------------------- chains


def test_three_3x3_see_7() -> None:
    # r = 1 + 2 + 2 + 2 = 7, start = −3; 15×15 out, u = 7: [7 − 3, 7 + 3] = [4, 10]
    result = probe(nn.Sequential(conv(3, p=1), nn.ReLU(), conv(3, p=1), nn.ReLU(), conv(3, p=1)), (1, 2, 15, 15))
    assert result.status == "ok"
    assert result.output_size == (15, 15)
    assert result.unit == (7, 7)
    assert result.extent == ((4, 10), (4, 10))
    assert result.sizes == (7, 7)


def test_two_3x3_see_5() -> None:
    # r = 5, start = −2; u = 7: [5, 9]
    result = probe(nn.Sequential(conv(3, p=1), nn.ReLU(), conv(3, p=1)), (1, 2, 15, 15))
    assert result.extent == ((5, 9), (5, 9))


def test_7x7_s2_then_3x3_s2_max_pool_sees_11() -> None:
    # conv 7/2 pad 3 then max pool 3/2 pad 1 (ResNet's stem): r = 7 + (3 − 1)·2 = 11,
    # jump 4, start = −3 − 1·2 = −5. 32 → 16 → 8, u = 3: [−5 + 12, 7 + 10] = [7, 17].
    # One output channel: were the max pool left as it is, its gradient would reach a single
    # conv output, whose field is 7 wide, not 11.
    model = nn.Sequential(nn.Conv2d(3, 1, 7, stride=2, padding=3), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1))
    result = probe(model, (1, 3, 32, 32))
    assert result.output_size == (8, 8)
    assert result.extent == ((7, 17), (7, 17))


def test_dilated_3x3_three_times_spans_13() -> None:
    # k' = 2·(3 − 1) + 1 = 5: r = 1 + 3·4 = 13, start = −6; 21×21, u = 10: [4, 16]. Only even
    # offsets from the centre are reached (the field has holes); the bounding box is the field.
    model = nn.Sequential(conv(3, p=2, d=2), nn.ReLU(), conv(3, p=2, d=2), nn.ReLU(), conv(3, p=2, d=2))
    assert probe(model, (1, 2, 21, 21)).extent == ((4, 16), (4, 16))


def test_1x7_then_7x1_sees_7x7() -> None:
    # H and W are separate axes: 1×7 (pad (0, 3)) gives H [7, 7], W [4, 10]; 7×1 then H [4, 10]
    model = nn.Sequential(conv((1, 7), p=(0, 3)), nn.ReLU(), conv((7, 1), p=(3, 0)))
    results = probe_fields(model, (1, 2, 15, 15), ["0", "2"])
    assert results["0"].extent == ((7, 7), (4, 10))
    assert results["2"].extent == ((4, 10), (4, 10))


def test_unpadded_chain_stays_inside_the_image() -> None:
    # valid 3×3 convs: r = 7, start 0 (no padding, so no field can leave the image);
    # 9 → 7 → 5 → 3, u = 1: [1, 7]
    model = nn.Sequential(conv(3), nn.ReLU(), conv(3), nn.ReLU(), conv(3))
    result = probe(model, (1, 2, 9, 9))
    assert result.output_size == (3, 3)
    assert result.extent == ((1, 7), (1, 7))


def test_field_wider_than_the_image_is_clipped() -> None:
    # five padded 3×3 on 7×7: r = 11, start = −5, u = 3: [−2, 8], clipped to [0, 6]
    model = nn.Sequential(*(layer for _ in range(5) for layer in (conv(3, p=1), nn.ReLU())))
    result = probe(model, (1, 2, 7, 7))
    field = AxisField()
    for _ in range(5):
        field = field.then(3, 1, 1)
    assert field.span(3) == (-2, 8)
    assert result.extent == ((0, 6), (0, 6))


def test_deep_chain_does_not_underflow() -> None:
    # 60 padded 3×3: r = 121, start = −60; 128 wide, u = 63: [3, 123]. A corner of the field
    # is reached by one path only, through one weight of about 1/9 per layer: about
    # 9^−60 ≈ 6e−58, below float32's smallest subnormal (1.4e−45), far above float64's (5e−324).
    model = nn.Sequential(*(conv(3, p=1, c=1) for _ in range(60)))
    result = probe(model, (1, 1, 128, 128))
    assert result.extent == ((3, 123), (3, 123))
    assert 1e-300 < result.smallest_gradient < 1e-45


# ---------------------------------------------------------------- max pools, functional and modules


POOLS: dict[str, Callable[[Tensor], Tensor]] = {
    "F.max_pool2d": lambda x: F.max_pool2d(x, kernel_size=3, stride=2),
    "F.max_pool2d positional": lambda x: F.max_pool2d(x, 3, 2, 0, 1, False),
    "F.max_pool2d return_indices": lambda x: F.max_pool2d(x, 3, stride=2, return_indices=True)[0],
    "torch.max_pool2d": lambda x: torch.max_pool2d(x, [3, 3], [2, 2]),
    "nn.MaxPool2d": nn.MaxPool2d(3, stride=2),
    # 9 into 4 bins: bin 1 is [⌊9/4⌋, ⌈18/4⌉) = [2, 5), the same pixels as the 3/2 window
    "F.adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, 4),
    "nn.AdaptiveMaxPool2d return_indices": lambda x: nn.AdaptiveMaxPool2d(4, return_indices=True)(x)[0],
}


@pytest.mark.parametrize("pool", POOLS.values(), ids=POOLS.keys())
def test_every_max_pool_becomes_an_average_pool(pool: Callable[[Tensor], Tensor]) -> None:
    # One channel straight into a 3/2 pool: 9 → 4, u = 1 sees [2, 4]. A real max pool sends
    # the gradient to the single pixel that won the window (the control below), so a 3-wide
    # extent proves the swap intercepted the call.
    model = Lambda(pool) if not isinstance(pool, nn.Module) else pool
    x = torch.rand(1, 1, 9, 9, dtype=torch.float64, requires_grad=True)
    out = model(x)
    (grad,) = torch.autograd.grad(out[0, 0, 1, 1], x)
    assert int((grad != 0).sum()) == 1

    result = probe(model, (1, 1, 9, 9))
    assert result.extent == ((2, 4), (2, 4))


class FunctionalPools(nn.Module):
    """Inception's pattern: a max pool called in forward, not held as a module."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(self.conv(x), kernel_size=3, stride=2)


def test_functional_max_pool_in_forward_is_swapped() -> None:
    # 3×3 conv then 3/2 pool: r = 3 + 2 = 5, jump 2, start −1; 17 → 17 → 8, u = 3: [5, 9]
    # (a real max pool would leave a single conv output, 3 wide)
    assert probe(FunctionalPools(), (1, 1, 17, 17)).extent == ((5, 9), (5, 9))


def test_the_swap_does_not_outlive_the_probe() -> None:
    probe(FunctionalPools(), (1, 1, 17, 17))
    x = torch.tensor([[[[1.0, 3.0], [2.0, 0.0]]]])
    assert F.max_pool2d(x, 2).item() == 3.0


# ---------------------------------------------------------------- merges and preparation


class TwoBranches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.small = conv(3, p=1)
        self.large = conv(5, p=2)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.small(x) + self.large(x), x  # a tuple in eval mode is fine


def test_two_branches_see_the_wider() -> None:
    # max(3, 5) = 5, both centred; 11×11, u = 5: [3, 7]
    results = probe_fields(TwoBranches(), (1, 2, 11, 11), ["small", "large", ""])
    assert results["small"].extent == ((4, 6), (4, 6))
    assert results["large"].extent == ((3, 7), (3, 7))
    assert results[""].extent == ((3, 7), (3, 7))  # the forward's first output


class InPlaceAfterTarget(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = conv(3, p=1)
        self.b = conv(7, p=3)

    def forward(self, x: Tensor) -> Tensor:
        out = self.a(x)
        out += self.b(x)  # changes a's output tensor in place after a's hook ran
        return torch.relu_(out)


def test_output_modified_in_place_later_keeps_its_own_field() -> None:
    results = probe_fields(InPlaceAfterTarget(), (1, 2, 15, 15), ["a", ""])
    assert results["a"].extent == ((6, 8), (6, 8))
    assert results[""].extent == ((4, 10), (4, 10))


def hostile() -> nn.Sequential:
    """Negative weights, batch norm statistics that drive every ReLU to 0, and dropout."""
    model = nn.Sequential(conv(3, p=1), nn.BatchNorm2d(2), nn.ReLU(), nn.Dropout(0.9), conv(3, p=1))
    with torch.no_grad():
        model[0].weight.fill_(-1.0)
        model[1].running_mean.fill_(1e3)
        model[1].bias.fill_(-5.0)
    return model


def test_preparation_undoes_what_hides_the_field() -> None:
    model = hostile().eval()
    x = torch.rand(1, 2, 15, 15, requires_grad=True)
    (grad,) = torch.autograd.grad(model(x)[0, :, 7, 7].sum(), x)
    assert not grad.any()  # as the model stands, the ReLUs are dead

    assert probe(model, (1, 2, 15, 15)).extent == ((5, 9), (5, 9))


def test_batch_norm_without_running_statistics_is_pointwise() -> None:
    # in eval it would normalise with the map's own mean and variance: every unit would see all
    model = nn.Sequential(conv(3, p=1), nn.BatchNorm2d(2, track_running_stats=False), nn.ReLU(), conv(3, p=1))
    assert probe(model, (1, 2, 15, 15)).extent == ((5, 9), (5, 9))


def test_the_callers_model_is_left_as_it_was() -> None:
    model = hostile().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    probe(model, (1, 2, 15, 15), "4")
    assert model.training
    assert all(p.dtype == torch.float32 and p.requires_grad for p in model.parameters())
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(m._forward_hooks for m in model.modules())


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode], ids=["no_grad", "inference_mode"])
def test_works_under_the_callers_grad_mode(mode: Callable[[], Any]) -> None:
    with mode():
        model = nn.Sequential(conv(3, p=1), nn.BatchNorm2d(2), nn.ReLU(), conv(3, p=1))
        assert probe(model, (1, 2, 15, 15)).extent == ((5, 9), (5, 9))


# ---------------------------------------------------------------- flags and errors


class Odd(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = conv(3, p=1)
        self.unused = conv(3, p=1)
        self.fc = nn.Linear(2 * 5 * 5, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.conv(x).flatten(1))


def test_flags_for_what_cannot_be_measured() -> None:
    results = probe_fields(Odd(), (1, 2, 5, 5), ["conv", "unused", "fc"])
    assert results["conv"].status == "ok"
    assert results["unused"].status == "not_run"
    assert results["fc"].status == "not_spatial"


def test_zero_gradient_is_flagged() -> None:
    model = nn.Sequential(conv(3, p=1), Lambda(lambda t: t * 0))
    result = probe(model, (1, 2, 7, 7), "1")
    assert result.status == "zero_gradient"
    assert result.extent == ()
    assert result.output_size == (7, 7)


def test_unknown_target_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"features\.99"):
        probe_fields(nn.Sequential(conv(3)), (1, 2, 7, 7), ["features.99"])


# ---------------------------------------------------------------- the zoo: VGG16 (REFERENCES.md §3)


def vgg16_closed_form(features: nn.Sequential, last: int) -> AxisField:
    field = AxisField()
    for layer in list(features)[: last + 1]:
        if isinstance(layer, nn.Conv2d):
            field = field.then(3, 1, 1)
        elif isinstance(layer, nn.MaxPool2d):
            field = field.then(2, 2, 0)
    return field


def test_vgg16_conv5_3_and_pool5() -> None:
    # conv5_3: r = 196, jump 16, start = −(2·1 + 2·2 + 3·4 + 3·8 + 3·16) = −90; 14×14, u = 6:
    # [−90 + 96, 6 + 195] = [6, 201], inside the 224 image, so nothing is clipped.
    # pool5: r = 196 + 16 = 212, jump 32, start −90; 7×7, u = 3: [6, 217].
    with torch.device("meta"):  # every weight is redrawn by the probe: skip the initialisation
        model = archstat.get_model("vgg16")
    model = model.to_empty(device="cpu")
    shape = archstat.model_info("vgg16").input_shape
    assert shape == (1, 3, 224, 224)
    results = probe_fields(model, shape, ["features.28", "features.30"])

    conv5_3, pool5 = vgg16_closed_form(model.features, 28), vgg16_closed_form(model.features, 30)
    assert (conv5_3.size, pool5.size, pool5.jump) == (196, 212, 32)
    for result, field in ((results["features.28"], conv5_3), (results["features.30"], pool5)):
        first, last = field.span(result.unit[0])
        assert result.extent == ((max(first, 0), min(last, 223)),) * 2
    assert results["features.28"].extent == ((6, 201), (6, 201))
    assert results["features.30"].extent == ((6, 217), (6, 217))

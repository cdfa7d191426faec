"""ResNet, pre-activation ResNet, CIFAR ResNet, DenseNet, MobileNetV2 and SqueezeNet against
published numbers (../shared/REFERENCES.md and the papers), never against our own output."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from archstat.models import model_info
from tests.oracles import TORCHVISION as REFERENCE

# REFERENCES.md section 1: torchvision-layout params and MACs (conv + linear), 224×224 input.
TORCHVISION: dict[str, tuple[int, int]] = {
    name: REFERENCE[name]
    for name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "densenet121", "densenet161",
                 "densenet169", "densenet201", "mobilenet_v2", "squeezenet1_0", "squeezenet1_1")
}

# The paper's ResNets (stride on the first 1×1) have the same weights as torchvision's v1.5.
V1 = {"resnet50_v1": "resnet50", "resnet101_v1": "resnet101", "resnet152_v1": "resnet152"}

# Pre-activation ResNets, derived by hand from the torchvision numbers above. The BNs move
# from after each conv to before it: a basic unit's go from (w, w) to (in, w), a bottleneck's
# from (w, w, 4w) to (in, w, w); no change where in == out.
# - first unit of stages 2–4 (in = out / 2): −2·(out − in) = −(128 + 256 + 512) basic,
#   −(512 + 1,024 + 2,048) bottleneck;
# - first unit of layer1 has no pre-activation (the stem's BN-ReLU serves): −2·64 basic,
#   −2·256 bottleneck;
# - the final BN before pooling: +2·512 basic, +2·2048 bottleneck, which cancels both above;
# - the projection shortcuts read the normalised input and lose their BN:
#   −2·(128 + 256 + 512) = −1,792 basic, −2·(256 + 512 + 1,024 + 2,048) = −7,680 bottleneck.
PREACT_PARAMS: dict[str, int] = {
    "preact_resnet18": 11_689_512 - 1_792,
    "preact_resnet34": 21_797_672 - 1_792,
    "preact_resnet50": 25_557_032 - 7_680,
    "preact_resnet101": 44_549_160 - 7_680,
    "preact_resnet152": 60_192_808 - 7_680,
}

# CIFAR ResNets, paper section 4.2 / table 6 (0.27M, 0.46M, 0.66M, 0.85M, 1.7M), n blocks per
# stage, type-A shortcuts. By hand: stem 3·16·9 + 2·16 = 464; stage 1: n·(2·16·16·9 + 4·16)
# = 4,672n; stage 2: first unit 16·32·9 + 32·32·9 + 4·32 = 13,952, the others 18,560 each;
# stage 3: first 32·64·9 + 64·64·9 + 4·64 = 55,552, the others 73,984 each; fc 64·10 + 10 = 650.
# Total 97,216n − 21,926: resnet20 = 269,722. (The often-quoted 272,474 is resnet20 with
# type-B shortcuts: + 16·32 + 2·32 + 32·64 + 2·64 = 2,752.)
CIFAR: dict[str, tuple[int, float, int]] = {  # name -> (n, table 6 params in M, its decimals)
    "resnet20": (3, 0.27, 2),
    "resnet32": (5, 0.46, 2),
    "resnet44": (7, 0.66, 2),
    "resnet56": (9, 0.85, 2),
    "resnet110": (18, 1.7, 1),
}

ALL = [*TORCHVISION, *V1, *PREACT_PARAMS, *CIFAR]


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _meta_build(name: str, **options: object) -> nn.Module:
    with torch.device("meta"):
        return model_info(name).builder(**options)


def _macs(name: str, **options: object) -> int:
    info = model_info(name)
    model = info.builder(**options).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.randn(info.input_shape))
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("name", list(TORCHVISION))
def test_torchvision_layout_params(name: str) -> None:
    assert _params(_meta_build(name)) == TORCHVISION[name][0]


@pytest.mark.parametrize("name", list(V1))
def test_paper_v1_params_equal_v15(name: str) -> None:
    assert _params(_meta_build(name)) == TORCHVISION[V1[name]][0]


@pytest.mark.parametrize("name", list(PREACT_PARAMS))
def test_preact_params(name: str) -> None:
    assert _params(_meta_build(name)) == PREACT_PARAMS[name]


@pytest.mark.parametrize("name", list(CIFAR))
def test_cifar_params(name: str) -> None:
    n, table6_millions, decimals = CIFAR[name]
    params = _params(_meta_build(name))
    assert params == 97_216 * n - 21_926
    assert round(params / 1e6, decimals) == table6_millions


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("num_classes", [None, 7])
def test_meta_forward_shape(name: str, num_classes: int | None) -> None:
    info = model_info(name)
    default_classes = 10 if name in CIFAR else 1000
    options = {} if num_classes is None else {"num_classes": num_classes}
    model = _meta_build(name, **options)
    with torch.device("meta"):
        out = model(torch.empty(2, *info.input_size))
    assert out.shape == (2, num_classes or default_classes)


def test_default_inputs() -> None:
    assert model_info("resnet20").input_size == (3, 32, 32)
    assert model_info("resnet50").input_size == (3, 224, 224)
    assert model_info("squeezenet1_0").input_size == (3, 224, 224)


@pytest.mark.parametrize(
    "name", ["resnet18", "resnet50", "densenet121", "mobilenet_v2", "squeezenet1_0", "squeezenet1_1"]
)
def test_macs_fast_subset(name: str) -> None:
    assert _macs(name) == TORCHVISION[name][1]


def test_resnet50_v1_macs() -> None:
    # Moving the stride from the 3×3 to the first 1×1 of the three down-sampling bottlenecks
    # runs that 1×1 on a quarter of the pixels: saves in·w·H²·3/4 MACs per stage, where
    # (in, w, H) = (256, 128, 56), (512, 256, 28), (1024, 512, 14): 77,070,336 each.
    # 4,089,184,256 − 3 · 77,070,336 = 3,857,973,248 (the paper's table 1: "3.8×10^9").
    assert _macs("resnet50_v1") == TORCHVISION["resnet50"][1] - 3 * 77_070_336


def test_preact_resnet18_macs_equal_resnet18() -> None:
    # Same convolutions at the same resolutions; the projections just read a normalised input.
    assert _macs("preact_resnet18") == TORCHVISION["resnet18"][1]


def test_shortcut_types_resnet34() -> None:
    # Paper table 3 compares A/B/C on ResNet-34. B (REFERENCES) = 21,797,672.
    # B's projections (1×1 conv + BN) at stages 2–4: 64·128 + 256 = 8,448; 128·256 + 512 =
    # 33,280; 256·512 + 1,024 = 132,096; sum 173,824, so A = 21,623,848.
    # C adds a projection to every other unit: 3·(64·64 + 128) = 12,672; 3·(128² + 256) =
    # 49,920; 5·(256² + 512) = 330,240; 2·(512² + 1,024) = 526,336; sum 919,168 → 22,716,840.
    counts = {s: _params(_meta_build("resnet34", shortcut=s)) for s in "ABC"}
    assert counts == {"A": 21_623_848, "B": 21_797_672, "C": 22_716_840}
    assert counts["A"] < counts["B"] < counts["C"]


def test_shortcut_types_resnet20() -> None:
    # A = 269,722 (see CIFAR above); B adds 2,752; C adds a projection (conv + BN) to all 9
    # units: 3·(16·16 + 32) + (16·32 + 64) + 2·(32·32 + 64) + (32·64 + 128) + 2·(64·64 + 128)
    # = 864 + 576 + 2,176 + 2,176 + 8,448 = 14,240 → 283,962.
    counts = {s: _params(_meta_build("resnet20", shortcut=s)) for s in "ABC"}
    assert counts == {"A": 269_722, "B": 272_474, "C": 283_962}


@pytest.mark.parametrize("shortcut", ["A", "B", "C"])
@pytest.mark.parametrize("name", ["resnet20", "preact_resnet18", "resnet50_v1"])
def test_shortcut_types_run_on_cpu(name: str, shortcut: str) -> None:
    info = model_info(name)
    model = info.builder(shortcut=shortcut, num_classes=5).eval()
    size = (3, 64, 64) if name != "resnet20" else info.input_size
    with torch.no_grad():
        out = model(torch.randn(2, *size))
    assert out.shape == (2, 5)
    assert torch.isfinite(out).all()


def test_bad_shortcut_is_an_error() -> None:
    with pytest.raises(ValueError):
        model_info("resnet18").builder(shortcut="D")


def test_torchvision_module_names() -> None:
    resnet = _meta_build("resnet50")
    names = dict(resnet.named_modules())
    for key in ("conv1", "bn1", "maxpool", "layer1.0.conv3", "layer2.0.downsample.0", "layer4.2.bn3", "fc"):
        assert key in names
    # v1.5: the stride sits on the 3×3 conv; the paper's v1 on the first 1×1.
    assert names["layer2.0.conv2"].stride == (2, 2)
    assert dict(_meta_build("resnet50_v1").named_modules())["layer2.0.conv1"].stride == (2, 2)
    dense = dict(_meta_build("densenet121").named_modules())
    for key in ("features.conv0", "features.denseblock4.denselayer16.conv2", "features.transition3.pool",
                "features.norm5", "classifier"):
        assert key in dense
    squeeze = dict(_meta_build("squeezenet1_1").named_modules())
    assert "features.3.expand3x3" in squeeze and "classifier.1" in squeeze

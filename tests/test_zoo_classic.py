"""The classic zoo (LeNet-5, AlexNet, ZFNet, VGG, NIN, GoogLeNet, blocks) against published numbers."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from archstat.models import alexnet, blocks, googlenet, lenet, nin, vgg
from tests.oracles import TORCHVISION


def params(module: nn.Module, *, trainable: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable)


def meta_forward(builder: Callable[..., nn.Module], shape: tuple[int, ...], **options: object) -> torch.Size:
    with torch.device("meta"):
        model = builder(**options).eval()
        return model(torch.zeros(shape)).shape


def macs(builder: Callable[..., nn.Module], shape: tuple[int, ...]) -> int:
    """Conv + linear MACs of an eval CPU forward (FlopCounterMode counts a MAC as 2 FLOPs)."""
    with torch.device("meta"):
        model = builder()
    model = model.to_empty(device="cpu").eval()  # values are irrelevant to the count; skip init
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(shape))
    return counter.get_total_flops() // 2


# ---------------------------------------------------------------- LeNet-5 (LeCun et al. 1998)


def test_lenet5_params_as_published() -> None:
    model = lenet.lenet5()
    assert params(model, trainable=True) == 60_000            # "60,000 trainable parameters"
    assert params(model) == 60_000 + 84 * 10                   # plus the fixed RBF centres
    layers = model.features
    assert params(layers.c1) == 156
    assert params(layers.s2) == 12
    assert params(layers.c3) == 1_516
    assert params(layers.s4) == 32
    assert params(layers.c5) == 48_120
    assert params(model.classifier.f6) == 10_164
    assert not model.classifier.output.weight.requires_grad


def test_lenet5_connections_as_published() -> None:
    # 340,908 connections in all; S2 5,880, S4 2,000 and the RBF layer 840 are not conv/linear
    # MACs, and neither are the conv/linear biases (one per output unit of C1, C3, C5, F6).
    biases = 6 * 28 * 28 + 16 * 10 * 10 + 120 + 84
    assert macs(lenet.lenet5, (1, 1, 32, 32)) == 340_908 - 5_880 - 2_000 - 840 - biases


def test_lenet5_shapes() -> None:
    assert meta_forward(lenet.lenet5, (1, 1, 32, 32)) == (1, 10)
    assert meta_forward(lenet.lenet5_modern, (1, 1, 32, 32)) == (1, 10)
    assert lenet.lenet5()(torch.randn(2, 1, 32, 32)).shape == (2, 10)


def test_lenet5_modern_params() -> None:
    full_c3 = (6 * 25 + 1) * 16
    assert params(lenet.lenet5_modern()) == 156 + full_c3 + 48_120 + 10_164 + (84 + 1) * 10


# ---------------------------------------------------------------- AlexNet family


def test_alexnet_as_published() -> None:
    model = alexnet.alexnet()
    assert params(model) == 60_965_224
    conv1 = model.features[0]
    assert params(conv1) == 34_944                             # the lecture's worked example
    with torch.device("meta"):
        assert conv1.to("meta")(torch.zeros(1, 3, 227, 227)).shape == (1, 96, 55, 55)
    assert meta_forward(alexnet.alexnet, (1, 3, 227, 227)) == (1, 1000)


def test_alexnet_map_sizes() -> None:
    with torch.device("meta"):
        features = alexnet.alexnet().features
        x = torch.zeros(1, 3, 227, 227)
        sizes = []
        for layer in features:
            x = layer(x)
            if isinstance(layer, nn.MaxPool2d):
                sizes.append(x.shape[1:])
    assert sizes == [(96, 27, 27), (256, 13, 13), (256, 6, 6)]


def test_alexnet_owt_matches_torchvision() -> None:
    assert params(alexnet.alexnet_owt()) == 61_100_840
    assert macs(alexnet.alexnet_owt, (1, 3, 224, 224)) == 714_188_480
    assert meta_forward(alexnet.alexnet_owt, (1, 3, 224, 224)) == (1, 1000)


def test_zfnet_fig3_map_sizes() -> None:
    with torch.device("meta"):
        features = alexnet.zfnet().features
        x = torch.zeros(1, 3, 224, 224)
        sizes = []
        for layer in features:
            x = layer(x)
            if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
                sizes.append(x.shape[-1])
    assert sizes == [110, 55, 26, 13, 13, 13, 13, 6]
    assert meta_forward(alexnet.zfnet, (1, 3, 224, 224)) == (1, 1000)


# ---------------------------------------------------------------- VGG (torchvision layout)

# name: (params, MACs) from REFERENCES.md (torchvision metadata)
VGG_REFERENCES = {name: TORCHVISION[name] for name in TORCHVISION if name.startswith("vgg")}


@pytest.mark.parametrize("name", list(VGG_REFERENCES))
def test_vgg_matches_torchvision(name: str) -> None:
    builder = getattr(vgg, name)
    expected_params, expected_macs = VGG_REFERENCES[name]
    with torch.device("meta"):
        assert params(builder()) == expected_params
    assert macs(builder, (1, 3, 224, 224)) == expected_macs
    assert meta_forward(builder, (1, 3, 224, 224)) == (1, 1000)


@pytest.mark.parametrize(
    ("name", "millions"),
    [("vgg11", 133), ("vgg11_lrn", 133), ("vgg13", 133), ("vgg16c", 134), ("vgg16", 138), ("vgg19", 144)],
)
def test_vgg_table2_params(name: str, millions: int) -> None:
    with torch.device("meta"):
        assert round(params(getattr(vgg, name)()) / 1e6) == millions


def test_vgg_layout() -> None:
    with torch.device("meta"):
        model = vgg.vgg16()
        configuration_c = vgg.vgg16c()
    last_conv = model.features[28]
    assert isinstance(last_conv, nn.Conv2d) and last_conv.out_channels == 512
    assert params(model.classifier[0]) == 102_764_544           # FC6, REFERENCES.md
    one_by_one = [m for m in configuration_c.features if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)]
    assert [m.out_channels for m in one_by_one] == [256, 512, 512]
    assert meta_forward(vgg.vgg11_lrn, (1, 3, 224, 224)) == (1, 1000)
    assert meta_forward(vgg.vgg16c, (1, 3, 224, 224)) == (1, 1000)


# ---------------------------------------------------------------- NIN


def test_nin_gap_head() -> None:
    assert meta_forward(nin.nin, (1, 3, 224, 224)) == (1, 1000)
    assert meta_forward(nin.nin, (2, 3, 224, 224), num_classes=10) == (2, 10)
    with torch.device("meta"):
        model = nin.nin()
    assert not any(isinstance(m, nn.Linear) for m in model.modules())


# ---------------------------------------------------------------- GoogLeNet (Table 1)

# Table 1: output channels and "ops" (millions of multiply-adds) of each Inception module.
TABLE1 = {
    "inception3a": (256, 128), "inception3b": (480, 304),
    "inception4a": (512, 73), "inception4b": (512, 88), "inception4c": (512, 100),
    "inception4d": (528, 119), "inception4e": (832, 170),
    "inception5a": (832, None),  # the paper's 54M does not fit its own filter counts
    "inception5b": (1024, 71),
}  # fmt: skip


def test_googlenet_table1() -> None:
    with torch.device("meta"):
        model = googlenet.googlenet()
    model = model.to_empty(device="cpu").eval()
    x = torch.zeros(1, 3, 224, 224)
    with torch.no_grad():
        x = model.maxpool2(model.norm2(model.conv3(model.conv2(model.norm1(model.maxpool1(model.conv1(x)))))))
        assert x.shape == (1, 192, 28, 28)
        for name in model.stages:
            with FlopCounterMode(display=False) as counter:
                x = model.get_submodule(name)(x)
            if name in TABLE1:
                channels, ops = TABLE1[name]
                assert x.shape[1] == channels
                if ops is not None:
                    assert abs(counter.get_total_flops() / 2 / 1e6 - ops) < 1  # Table 1 rounds loosely
    assert x.shape == (1, 1024, 7, 7)
    # Table 1's params column (K = 1,024 weights, no biases) for the rows it gets right
    weights = {n: sum(p.numel() for k, p in m.named_parameters() if k.endswith("weight"))
               for n, m in model.named_children()}  # fmt: skip
    assert math.floor((weights["conv2"] + weights["conv3"]) / 1024) == 112
    assert math.floor(weights["inception3a"] / 1024) == 159
    assert weights["fc"] / 1024 == 1000


def test_googlenet_aux_classifiers() -> None:
    with torch.device("meta"):
        model = googlenet.googlenet()
        x = torch.zeros(2, 3, 224, 224)
        out = model.train()(x)
        assert isinstance(out, tuple) and [t.shape for t in out] == [(2, 1000)] * 3
        assert model.eval()(x).shape == (2, 1000)
        bare = googlenet.googlenet(aux_logits=False)
    # aux head: 1×1 conv to 128, FC 128·4·4 → 1024, linear 1024 → 1000 (section 5)
    assert params(model.aux1) == (512 * 128 + 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)
    assert params(model.aux2) == (528 * 128 + 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)
    assert params(model) == params(bare) + params(model.aux1) + params(model.aux2)
    with torch.device("meta"):
        assert bare.train()(x).shape == (2, 1000)


# ---------------------------------------------------------------- lecture blocks (REFERENCES.md §2)


def test_conv_stacks() -> None:
    assert params(blocks.conv_stack(k=3, n=2, channels=128)) == 294_912
    assert params(blocks.conv_stack(k=5, n=1, channels=128)) == 409_600
    c = 64
    assert params(blocks.conv_stack()) == 27 * c * c
    assert params(blocks.conv_stack(k=7, n=1)) == 49 * c * c
    assert meta_forward(blocks.conv_stack, (1, 64, 56, 56)) == (1, 64, 56, 56)


def test_inception_blocks() -> None:
    assert meta_forward(blocks.inception_reduced, (1, 192, 28, 28)) == (1, 256, 28, 28)
    assert meta_forward(blocks.inception_naive, (1, 192, 28, 28)) == (1, 64 + 128 + 32 + 192, 28, 28)
    reduced, naive = params(blocks.inception_reduced()), params(blocks.inception_naive())
    assert reduced < naive / 2


def test_resnet_blocks() -> None:
    assert meta_forward(blocks.resnet_basic_block, (1, 256, 56, 56)) == (1, 256, 56, 56)
    assert meta_forward(blocks.resnet_bottleneck_block, (1, 256, 56, 56)) == (1, 256, 56, 56)
    convs = [m for m in blocks.resnet_bottleneck_block().modules() if isinstance(m, nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size[0]) for m in convs] == [
        (256, 64, 1), (64, 64, 3), (64, 256, 1)
    ]  # fmt: skip


def test_dense_block() -> None:
    assert meta_forward(blocks.dense_block, (1, 64, 56, 56)) == (1, (64 + 6 * 32) // 2, 28, 28)
    assert meta_forward(blocks.dense_block, (1, 64, 56, 56), bottleneck=False) == (1, 128, 28, 28)
    with_1x1 = [m for m in blocks.dense_block().modules() if isinstance(m, nn.Conv2d)]
    without = [m for m in blocks.dense_block(bottleneck=False).modules() if isinstance(m, nn.Conv2d)]
    assert len(with_1x1) == 2 * 6 + 1 and len(without) == 6 + 1


def test_heads() -> None:
    assert meta_forward(blocks.gap_head, (1, 512, 7, 7)) == (1, 1000)
    assert meta_forward(blocks.fc_head, (1, 512, 7, 7)) == (1, 1000)
    assert params(blocks.gap_head()) == 512 * 1000 + 1000
    assert params(blocks.fc_head()) == 25_088 * 1000 + 1000

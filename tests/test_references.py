"""archstat's counts against published numbers (REFERENCES.md sections 1 and 2)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import archstat
from archstat.analysis import analyze
from tests.oracles import INCEPTION_V3_PARAMS_WITHOUT_AUX, TORCHVISION


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_layout_matches_params_and_macs_to_the_unit(name: str) -> None:
    params, macs = TORCHVISION[name]
    analysis = analyze(name)
    assert analysis.totals.params == params
    assert analysis.totals.macs == macs
    # FLOPs of conv and linear are 2 x MACs plus one add per output for each bias.
    conv_linear = [analysis.totals.by_category[c] for c in ("conv", "linear") if c in analysis.totals.by_category]
    assert sum(c.flops for c in conv_linear) == 2 * macs + analysis.totals.bias_flops
    assert not analysis.totals.partial


def test_inception_v3_params_without_aux_and_aux_not_executed() -> None:
    with_aux = analyze("inception_v3")
    without = analyze("inception_v3", options={"aux_logits": False})
    assert without.totals.params == INCEPTION_V3_PARAMS_WITHOUT_AUX
    # The auxiliary head runs only in training: the eval forward executes the rest.
    assert with_aux.totals.executed_params == INCEPTION_V3_PARAMS_WITHOUT_AUX
    assert with_aux.totals.macs == without.totals.macs


def test_conv_worked_example_ten_5x5_filters_on_32x32x3() -> None:
    # 32x32x3 input, ten 5x5 filters, stride 1, pad 2 -> 32x32x10 and (5*5*3 + 1) * 10 = 760 params.
    analysis = analyze(nn.Conv2d(3, 10, 5, stride=1, padding=2), (1, 3, 32, 32))
    assert analysis.layers[0].output_shape == (1, 10, 32, 32)
    assert analysis.totals.params == 760


def test_alexnet_conv1_worked_example() -> None:
    # 227x227x3, 96 filters 11x11 stride 4 -> 55x55x96, 34,944 parameters.
    analysis = analyze("alexnet")
    conv1 = next(r for r in analysis.leaves() if r.type == "Conv2d")
    assert conv1.output_shape == (1, 96, 55, 55)
    assert conv1.params == 34_944


@pytest.mark.parametrize(("k", "n", "channels", "weights"), [
    (3, 2, 128, 294_912),    # two stacked 3x3, 128 -> 128, no bias
    (5, 1, 128, 409_600),    # one 5x5
    (3, 3, 64, 27 * 64 * 64),  # three 3x3: 27 C^2
    (7, 1, 64, 49 * 64 * 64),  # one 7x7: 49 C^2
])
def test_stacked_small_kernels_vs_one_large(k: int, n: int, channels: int, weights: int) -> None:
    analysis = analyze("conv_stack", options={"k": k, "n": n, "channels": channels, "bias": False})
    assert analysis.totals.params == weights
    convs = [r for r in analysis.leaves() if r.type == "Conv2d"]
    assert len(convs) == n
    # MACs of a same-padded conv: one weight per output element.
    h, w = analysis.input_shape[2:]
    assert analysis.totals.macs == weights * h * w


def test_inception_3a_with_and_without_reductions() -> None:
    naive = analyze("inception_naive")
    reduced = analyze("inception_reduced")
    # Hand counts from the 3a filter numbers (weights + biases):
    # naive: 1x1 192*64+64, 3x3 192*9*128+128, 5x5 192*25*32+32 = 387,296
    # reduced: 12,352 + (18,528 + 110,720) + (3,088 + 12,832) + 6,176 = 163,696
    assert naive.totals.params == 387_296
    assert reduced.totals.params == 163_696
    assert reduced.layers[0].output_shape == (1, 256, 28, 28)
    assert naive.layers[0].output_shape == (1, 64 + 128 + 32 + 192, 28, 28)
    assert reduced.totals.macs < naive.totals.macs / 2


def test_resnet_bottleneck_vs_basic_block_at_256_channels() -> None:
    basic = analyze("resnet_basic_block")
    bottleneck = analyze("resnet_bottleneck_block")
    # conv weights: basic 2 * 3*3*256*256 = 1,179,648; bottleneck 256*64 + 9*64*64 + 64*256 = 69,632
    # plus BN scale and shift: basic 2 * 2*256; bottleneck 2*64 + 2*64 + 2*256.
    assert basic.totals.params == 1_179_648 + 1_024
    assert bottleneck.totals.params == 69_632 + 768
    assert bottleneck.layers[0].output_shape == (1, 256, 56, 56)
    assert basic.totals.macs == 1_179_648 * 56 * 56
    assert bottleneck.totals.macs == 69_632 * 56 * 56


def test_dense_block_grows_channels_by_k_and_transition_halves() -> None:
    analysis = analyze("dense_block", options={"layers": 6, "growth_rate": 32, "in_channels": 64})
    # 64 + 6 * 32 = 256 channels; the transition's 1x1 halves them and its 2x2 pool halves H, W.
    assert analysis.layers[0].output_shape == (1, 128, 28, 28)
    cats = [r for r in analysis.leaves() if r.type == "Conv2d"]
    assert len(cats) == 6 * 2 + 1


def test_vgg16_fc6_holds_most_parameters_and_early_layers_most_memory() -> None:
    analysis = analyze("vgg16")
    assert analysis.totals.params == 138_357_544
    fc6 = next(r for r in analysis.leaves() if r.type == "Linear")
    assert fc6.params == 102_764_544
    convs = [r for r in analysis.leaves() if r.type in ("Conv2d", "MaxPool2d")]
    first_half = sum(r.activation_bytes for r in convs[: len(convs) // 2])
    assert first_half > 0.75 * analysis.totals.activation_bytes


def test_gap_head_vs_fc_head() -> None:
    # 512x7x7 -> 1000: flatten + FC has 25,088*1000 + 1000 weights; GAP + FC 512*1000 + 1000.
    assert analyze("fc_head").totals.params == 25_089_000
    assert analyze("gap_head").totals.params == 513_000


def test_lenet5_as_published() -> None:
    analysis = analyze("lenet5")
    # LeCun et al. 1998: 60,000 trainable parameters; the RBF output layer's 84*10 are fixed.
    assert analysis.totals.trainable_params == 60_000
    assert analysis.totals.params == 60_000 + 840
    assert analysis.layers[0].output_shape == (1, 10)


def test_registry_lists_the_paper_letters_for_vgg() -> None:
    letters = {i.name: i.variant for i in archstat.list_models("vgg*")}
    assert letters["vgg11"] == "A" and letters["vgg11_lrn"] == "A-LRN" and letters["vgg13"] == "B"
    assert letters["vgg16c"] == "C" and letters["vgg16"] == "D" and letters["vgg19"] == "E"


def test_list_models_natural_order() -> None:
    names = [i.name for i in archstat.list_models("resnet1*")]
    assert names.index("resnet18") < names.index("resnet101") < names.index("resnet110")
    assert names.index("resnet101") < names.index("resnet152")


def test_duplicate_registration_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        @archstat.register_model(paper="x", year=2000)
        def vgg16() -> nn.Module:
            return nn.Identity()


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(archstat.ArchstatError, match="resnet50"):
        archstat.get_model("resnet5O")


def test_get_model_drops_none_options() -> None:
    # None keeps the builder's own default (1000 classes), as CLI defaults must.
    with torch.device("meta"):
        model = archstat.get_model("resnet18", num_classes=None)
    assert model(torch.empty(1, 3, 224, 224, device="meta")).shape == (1, 1000)

"""EfficientNet-B0, ConvNeXt-T and ViT-B/16 against published numbers (torchvision's metadata for
its IMAGENET1K_V1 weights, tests/oracles.py) and against FlopCounterMode on a real CPU forward."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from archstat.analysis.analyze import analyze
from archstat.models import model_info
from tests.oracles import TORCHVISION_MODERN

MODELS = list(TORCHVISION_MODERN)

# ViT-B/16 by hand (N = 197 tokens, D = 768, MLP 3072, 12 heads of 64, 12 layers): patch embedding
# 196·768·(3·16·16) = 115,605,504; per layer q/k/v 197·768·2304 = 348,585,984, QKᵀ and AV
# 12·197·197·(64 + 64) = 59,610,624, output projection 197·768² = 116,195,328, MLP
# 2·197·768·3072 = 929,562,624, so 1,453,954,560 a layer; head 768·1000 = 768,000.
VIT_B_16_MACS = 115_605_504 + 12 * 1_453_954_560 + 768_000
assert VIT_B_16_MACS == 17_563_828_224

# The ops FlopCounterMode counts per archstat category (2 FLOPs per MAC, bias not counted); with
# the math attention backend, scaled_dot_product_attention runs as two batched products (bmm).
FLOP_COUNTER_OPS = {"conv": ("convolution",), "linear": ("mm", "addmm", "bmm")}


def _meta_build(name: str, **options: object) -> nn.Module:
    with torch.device("meta"):
        return model_info(name).builder(**options)


@pytest.mark.parametrize("name", MODELS)
def test_params_to_the_unit(name: str) -> None:
    assert sum(p.numel() for p in _meta_build(name).parameters()) == TORCHVISION_MODERN[name][0]


@pytest.mark.parametrize("name", MODELS)
def test_registry_metadata(name: str) -> None:
    info = model_info(name)
    assert info.input_size == (3, 224, 224)
    assert info.num_classes == 1000
    assert info.top1 is not None and info.top1.top1 == TORCHVISION_MODERN[name][2]
    assert info.family == {"efficientnet_b0": "efficientnet", "convnext_tiny": "convnext", "vit_b_16": "vit"}[name]


@pytest.mark.parametrize("name", MODELS)
def test_macs_match_torchvision_gflops(name: str) -> None:
    macs = analyze(name).totals.macs
    assert round(macs / 1e9, 2) == TORCHVISION_MODERN[name][1]
    if name == "vit_b_16":
        assert macs == VIT_B_16_MACS


@pytest.mark.parametrize("name", MODELS)
def test_categories_match_flop_counter_mode(name: str) -> None:
    info = model_info(name)
    model = info.builder().eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad(), sdpa_kernel(SDPBackend.MATH):
        model(torch.randn(info.input_shape))
    counted = {op.__name__: int(n) for op, n in counter.get_flop_counts()["Global"].items()}
    categories = analyze(model, device="meta").totals.by_category
    for category, ops in FLOP_COUNTER_OPS.items():
        assert 2 * categories[category].macs == sum(counted.get(op, 0) for op in ops), category
    assert counter.get_total_flops() == 2 * sum(categories[c].macs for c in FLOP_COUNTER_OPS)


@pytest.mark.parametrize("name", MODELS)
def test_other_classes(name: str) -> None:
    with torch.device("meta"):
        out = _meta_build(name, num_classes=7).eval()(torch.empty(2, 3, 224, 224))
    assert out.shape == (2, 7)


def test_vit_other_image_size() -> None:
    model = _meta_build("vit_b_16", image_size=384)
    assert model.encoder.pos_embedding.shape == (1, 577, 768)
    with torch.device("meta"):
        assert model(torch.empty(1, 3, 384, 384)).shape == (1, 1000)


def test_vit_state_dict_names_are_torchvision_s() -> None:
    names = dict(_meta_build("vit_b_16").state_dict())
    for key, shape in {
        "class_token": (1, 1, 768), "conv_proj.weight": (768, 3, 16, 16), "encoder.pos_embedding": (1, 197, 768),
        "encoder.layers.encoder_layer_0.self_attention.in_proj_weight": (2304, 768),
        "encoder.layers.encoder_layer_11.self_attention.out_proj.bias": (768,),
        "encoder.layers.encoder_layer_0.mlp.3.weight": (768, 3072), "encoder.ln.weight": (768,),
        "heads.head.weight": (1000, 768),
    }.items():
        assert names[key].shape == shape, key


def test_convnext_and_efficientnet_module_names() -> None:
    convnext = dict(_meta_build("convnext_tiny").state_dict())
    assert convnext["features.1.0.layer_scale"].shape == (96, 1, 1)
    assert convnext["features.1.0.block.3.weight"].shape == (384, 96)
    assert convnext["features.6.1.weight"].shape == (768, 384, 2, 2)
    assert convnext["classifier.2.weight"].shape == (1000, 768)
    efficientnet = dict(_meta_build("efficientnet_b0").state_dict())
    assert efficientnet["features.1.0.block.1.fc1.weight"].shape == (8, 32, 1, 1)
    assert efficientnet["features.2.0.block.2.fc1.weight"].shape == (4, 96, 1, 1)
    assert efficientnet["features.8.0.weight"].shape == (1280, 320, 1, 1)


def test_stochastic_depth_only_in_training() -> None:
    torch.manual_seed(0)
    block = model_info("convnext_tiny").builder(stochastic_depth_prob=0.5).features[7][2]  # drop 0.5
    x = torch.randn(8, 768, 2, 2)
    with torch.no_grad():
        assert torch.equal(block.eval()(x), block(x))
        trained = block.train()(x)
    dropped = [torch.equal(trained[i], x[i]) for i in range(8)]
    assert any(dropped) and not all(dropped)


def test_cli_lists_summarises_and_gives_a_clear_field(capsys: pytest.CaptureFixture[str]) -> None:
    from archstat.cli.main import main

    def run(*args: str) -> str:
        capsys.readouterr()
        assert main(list(args)) == 0
        return capsys.readouterr().out

    listing = run("list")
    assert all(name in listing for name in MODELS)
    assert "28,589,128" in run("summary", "convnext_tiny")
    # ViT: the field is the 16-pixel patch until the tokens are flattened; past that it is not modelled
    vit = run("rf", "vit_b_16")
    assert "16 px at conv_proj" in vit and "unknown" in vit and "never covers" not in vit
    # EfficientNet's first squeeze-and-excitation pool already sees the whole input
    assert "from features.1.0.block.1.avgpool" in run("rf", "efficientnet_b0")

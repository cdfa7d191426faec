"""Inception-v3, Inception-v4 and Inception-ResNet-v2 against published counts.

Oracles:
- inception_v3: ../shared/REFERENCES.md section 1 (torchvision's metadata).
- inception_v4: 42,679,816 parameters, the published total of the PyTorch port of Google's
  checkpoint (BN with scale and shift, 1000 classes; timm lists it as 42.68M).
- inception_resnet_v2: Keras' ``InceptionResNetV2()`` summary, "Total params: 55,873,736"
  (keras.io lists 55.9M). Keras counts BN's shift and both running statistics but no scale;
  PyTorch counts scale and shift, so the two differ by one number per BN channel.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from archstat.models import model_info
from archstat.models.inception_resnet_v2 import inception_resnet_v2
from archstat.models.inception_v3 import InceptionOutputs, inception_v3
from archstat.models.inception_v4 import inception_v4

INPUT = (1, 3, 299, 299)

INCEPTION_V3_PARAMS = 27_161_264
INCEPTION_V3_PARAMS_NO_AUX = 23_834_568
INCEPTION_V3_MACS = 5_713_216_096
INCEPTION_V4_PARAMS = 42_679_816
INCEPTION_RESNET_V2_KERAS_PARAMS = 55_873_736


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def bn_channels(model: nn.Module) -> int:
    return sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_inception_v3_params_with_and_without_aux() -> None:
    with torch.device("meta"):
        assert n_params(inception_v3()) == INCEPTION_V3_PARAMS
        assert n_params(inception_v3(aux_logits=False)) == INCEPTION_V3_PARAMS_NO_AUX


def test_inception_v3_macs_eval_mode() -> None:
    model = inception_v3().eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.randn(INPUT))
    assert counter.get_total_flops() // 2 == INCEPTION_V3_MACS


def test_inception_v3_aux_runs_only_in_training() -> None:
    with torch.device("meta"):
        model = inception_v3(num_classes=10)
        out = model.train()(torch.empty(2, 3, 299, 299))
        assert isinstance(out, InceptionOutputs)
        assert out.logits.shape == (2, 10)
        assert out.aux_logits.shape == (2, 10)
        logits = model.eval()(torch.empty(2, 3, 299, 299))
        assert isinstance(logits, torch.Tensor)
        assert logits.shape == (2, 10)
        no_aux = inception_v3(num_classes=10, aux_logits=False).train()
        assert no_aux(torch.empty(2, 3, 299, 299)).shape == (2, 10)


def test_inception_v4_params() -> None:
    with torch.device("meta"):
        assert n_params(inception_v4()) == INCEPTION_V4_PARAMS


def test_inception_resnet_v2_params_keras_convention() -> None:
    with torch.device("meta"):
        model = inception_resnet_v2()
    # Keras: no BN scale but two running statistics per channel, so one more per BN channel.
    assert n_params(model) + bn_channels(model) == INCEPTION_RESNET_V2_KERAS_PARAMS


@pytest.mark.parametrize("name", ["inception_v3", "inception_v4", "inception_resnet_v2"])
@pytest.mark.parametrize("num_classes", [1000, 7])
def test_output_shape_on_meta(name: str, num_classes: int) -> None:
    info = model_info(name)
    assert info.input_size == (3, 299, 299)
    with torch.device("meta"):
        model = info.builder(num_classes=num_classes).eval()
        out = model(torch.empty(info.input_shape))
    assert out.shape == (1, num_classes)


@pytest.mark.parametrize("builder", [inception_v4, inception_resnet_v2])
def test_runs_on_cpu(builder: Callable[..., nn.Module]) -> None:
    with torch.no_grad():
        out = builder(num_classes=5).eval()(torch.randn(INPUT))
    assert out.shape == (1, 5)
    assert torch.isfinite(out).all()


def test_factorised_convs() -> None:
    with torch.device("meta"):
        v3 = inception_v3()
        v4 = inception_v4()
        irv2 = inception_resnet_v2()
    kernel = {name: m.kernel_size for name, m in v3.named_modules() if isinstance(m, nn.Conv2d)}
    assert kernel["Mixed_6b.branch7x7_2.conv"] == (1, 7)
    assert kernel["Mixed_6b.branch7x7_3.conv"] == (7, 1)
    assert kernel["Mixed_6e.branch7x7dbl_5.conv"] == (1, 7)
    assert kernel["Mixed_7a.branch7x7x3_3.conv"] == (7, 1)
    assert kernel["Mixed_7b.branch3x3_2a.conv"] == (1, 3)
    assert kernel["Mixed_7c.branch3x3dbl_3b.conv"] == (3, 1)
    assert kernel["Mixed_5b.branch5x5_2.conv"] == (5, 5)

    kernel = {name: m.kernel_size for name, m in v4.named_modules() if isinstance(m, nn.Conv2d)}
    assert kernel["inception_b.0.branch_7x7.1.conv"] == (1, 7)
    assert kernel["inception_b.6.branch_7x7.2.conv"] == (7, 1)
    assert kernel["inception_c.2.branch_3x3dbl.3.branch_3x1.conv"] == (3, 1)
    assert kernel["reduction_b.branch_7x7x3.3.conv"] == (3, 3)

    kernel = {name: m.kernel_size for name, m in irv2.named_modules() if isinstance(m, nn.Conv2d)}
    assert kernel["inception_resnet_b.19.branches.branch_7x7.1.conv"] == (1, 7)
    assert kernel["inception_resnet_c.0.branches.branch_3x3.2.conv"] == (3, 1)
    assert kernel["inception_resnet_a.0.up"] == (1, 1)


def test_inception_v4_block_counts_and_reduction_a_filters() -> None:
    with torch.device("meta"):
        model = inception_v4()
    assert [len(model.inception_a), len(model.inception_b), len(model.inception_c)] == [4, 7, 3]
    convs = [m for m in model.reduction_a.modules() if isinstance(m, nn.Conv2d)]
    # Table 1, Inception-v4: n = 384 (3×3/2), then k = 192, l = 224, m = 256.
    assert [c.out_channels for c in convs] == [384, 192, 224, 256]


def test_inception_resnet_v2_residual_scales() -> None:
    with torch.device("meta"):
        model = inception_resnet_v2()
    assert {blk.scale for blk in model.inception_resnet_a} == {0.17}
    assert {blk.scale for blk in model.inception_resnet_b} == {0.10}
    assert [blk.scale for blk in model.inception_resnet_c][:-1] == [0.20] * 9

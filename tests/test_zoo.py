"""Every zoo network: builds on meta and on CPU with the right output, and archstat's counts agree
with fvcore (conv + linear MACs) and FlopCounterMode (conv/matmul FLOPs = 2 x MACs)."""

from __future__ import annotations

import pytest
import torch

import archstat
from archstat.studies.check import reconcile

MODELS = [info.name for info in archstat.list_models()]

# Networks whose classifier needs the paper's input size (fixed pools or FC sizes); the others
# are checked at a smaller input, since the agreement does not depend on resolution.
FIXED_INPUT = {"alexnet", "zfnet", "googlenet", "vit_b_16"}


def check_input(name: str) -> tuple[int, ...]:
    info = archstat.model_info(name)
    if info.kind == "model" and name not in FIXED_INPUT and info.input_size[1] >= 224:
        return (1, info.input_size[0], 128, 128)
    return info.input_shape


@pytest.mark.parametrize("name", MODELS)
def test_builds_on_meta_and_cpu_with_the_right_output(name: str) -> None:
    info = archstat.model_info(name)
    with torch.device("meta"):
        meta_model = archstat.get_model(name).eval()
    meta_out = meta_model(torch.empty(info.input_shape, device="meta"))
    cpu_model = archstat.get_model(name).eval()
    with torch.no_grad():
        cpu_out = cpu_model(torch.randn(check_input(name)))
    assert meta_out.device.type == "meta"
    assert torch.isfinite(cpu_out).all()
    if info.kind == "model":
        assert meta_out.shape == (1, 10 if name in {"resnet20", "resnet32", "resnet44", "resnet56",
                                                   "resnet110", "lenet5", "lenet5_modern"} else 1000)
        with torch.device("meta"):
            smaller = archstat.get_model(name, num_classes=7).eval()
        assert smaller(torch.empty(info.input_shape, device="meta")).shape == (1, 7)


@pytest.mark.parametrize("name", MODELS)
def test_counts_agree_with_fvcore_and_flop_counter_mode(name: str) -> None:
    result = reconcile(name, check_input(name))
    assert result.meta_matches, "meta-device counts differ from the real CPU forward"
    rows = {row.category: row for row in result.rows}
    for category in ("conv", "linear"):
        if category in rows:
            row = rows[category]
            # less the attention products each engine cannot see (zero for a CNN; see `reconcile`)
            assert row.fvcore == row.macs - row.fvcore_uncounted, f"{category}: fvcore {row.fvcore} vs {row.macs}"
            assert row.flop_counter == 2 * (row.macs - row.flop_counter_uncounted)
            assert row.flops == 2 * row.macs + row.bias_flops
    assert result.analysis.totals.macs == sum(rows[c].macs for c in ("conv", "linear") if c in rows)
    assert not result.analysis.totals.partial


@pytest.mark.parametrize("name", MODELS)
def test_registered_parameter_counts_are_the_built_networks(name: str) -> None:
    # the oracle for `archstat list`, which reads these counts instead of building every network
    info = archstat.model_info(name)
    with torch.device("meta"):
        params = list(archstat.get_model(name).parameters())
    assert (info.params, info.trainable_params) == (
        sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)
    ), f"{name}: register it with params={sum(p.numel() for p in params):_}"

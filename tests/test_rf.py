"""Receptive fields from the analyzer's pass: published numbers, per-axis fields, merges, and the
closed form against the gradient probe on random chains and two-branch networks."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from archstat.analysis import analyze
from archstat.analysis.rf.growth import growth
from archstat.analysis.rf.probe import probe_fields
from archstat.analysis.rf.verify import compare
from archstat.errors import InputTooSmallError


def _row(analysis, path):  # type: ignore[no-untyped-def]
    return next(r for r in analysis.layers if r.path == path)


def test_vgg16_conv5_3_and_pool5() -> None:
    # REFERENCES.md section 3: conv5_3 -> 196, pool5 -> 212, effective stride 32.
    analysis = analyze("vgg16")
    conv5_3, pool5 = _row(analysis, "features.28"), _row(analysis, "features.30")
    assert conv5_3.rf is not None and pool5.rf is not None
    assert [a.size for a in conv5_3.rf.axes] == [196, 196]
    assert [a.size for a in pool5.rf.axes] == [212, 212]
    assert [a.jump for a in pool5.rf.axes] == [32, 32]
    assert _row(analysis, "classifier.0").rf.whole  # type: ignore[union-attr]
    assert growth(analysis).final is pool5


@pytest.mark.parametrize(("n", "field"), [(2, 5), (3, 7)])
def test_stacked_3x3_convs(n: int, field: int) -> None:
    # REFERENCES.md sections 2-3: two 3x3 see 5x5, three see 7x7.
    analysis = analyze("conv_stack", options={"k": 3, "n": n})
    final = growth(analysis).final
    assert final is not None and final.rf is not None
    assert [a.size for a in final.rf.axes] == [field, field]


@pytest.mark.parametrize("model", ["inception_v3", "inception_v4"])
def test_factorised_convs_grow_one_axis_at_a_time(model: str) -> None:
    analysis = analyze(model)
    one_by_seven = [r for r in analysis.leaves() if r.type == "Conv2d" and r.rf is not None
                    and r.rf.axes[0].size != r.rf.axes[1].size]
    assert one_by_seven, "a 1x7 or 7x1 conv must give a non-square field"
    if model == "inception_v3":
        before, wide, square = (_row(analysis, f"Mixed_6b.branch7x7_{i}.conv").rf for i in (1, 2, 3))
        assert before is not None and wide is not None and square is not None
        jump = before.axes[0].jump
        # 1x7 grows W only by 6 jumps; the 7x1 after it grows H to match.
        assert wide.axes[0].size == before.axes[0].size
        assert wide.axes[1].size == before.axes[1].size + 6 * jump
        assert square.axes[0].size == square.axes[1].size == wide.axes[1].size


def test_merges_take_the_union_and_flag_unaligned_paths() -> None:
    class TwoPaths(nn.Module):
        def __init__(self, pad_b: int) -> None:
            super().__init__()
            self.a = nn.Conv2d(1, 1, 3, stride=2, padding=1)
            self.b = nn.Conv2d(1, 1, 1, stride=2, padding=pad_b)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a = self.a(x)
            b = self.b(x)
            return a + b[..., : a.shape[-2], : a.shape[-1]]

    aligned = analyze(TwoPaths(0), (1, 1, 16, 16)).layers[0].rf
    assert aligned is not None and not aligned.unaligned
    assert [a.size for a in aligned.axes] == [3, 3]
    # Padding the 1x1 path shifts its centre by one input pixel: the merge is unaligned.
    shifted = analyze(TwoPaths(1), (1, 1, 16, 16)).layers[0].rf
    assert shifted is not None and shifted.unaligned and "centres" in shifted.unaligned


def test_global_pool_and_flatten_see_the_whole_input() -> None:
    analysis = analyze("resnet18")
    assert _row(analysis, "avgpool").rf.whole  # type: ignore[union-attr]
    assert _row(analysis, "fc").rf.whole  # type: ignore[union-attr]
    assert [a.size for a in _row(analysis, "layer4").rf.axes] == [435, 435]  # type: ignore[union-attr]


def test_json_carries_rf_per_layer() -> None:
    data = analyze("vgg16").to_dict()
    conv5_3 = next(layer for layer in data["layers"] if layer["path"] == "features.28")
    assert conv5_3["rf"] == {"size": [196, 196], "stride": [16, 16], "padding": [90, 90]}


# --- closed form vs the gradient probe -----------------------------------------------------------

layer_specs = st.tuples(
    st.sampled_from(["conv", "conv", "max", "avg"]),
    st.integers(1, 4),       # kernel
    st.integers(1, 2),       # stride
    st.integers(1, 2),       # dilation (convs only)
    st.integers(0, 2),       # padding, capped at kernel // 2
)


def _layer(spec: tuple[str, int, int, int, int]) -> nn.Module:
    kind, k, s, d, p = spec
    p = min(p, k // 2)
    if kind == "conv":
        return nn.Conv2d(2, 2, k, stride=s, padding=p, dilation=d)
    if kind == "max":
        return nn.MaxPool2d(k, s, p)
    return nn.AvgPool2d(k, s, p)


def _check_against_probe(model: nn.Module, size: int) -> None:
    shape = (1, 2, size, size)
    try:
        analysis = analyze(model, shape)
    except InputTooSmallError:
        return  # the input collapsed: nothing to compare
    targets = [r.path for r in growth(analysis).rows if r.path]
    checks = compare(analysis, probe_fields(model, shape, targets))
    compared = [c for c in checks if c.status in ("agree", "DIFFER")]
    assert compared
    assert all(c.agrees for c in compared), [c for c in compared if not c.agrees]


@settings(max_examples=25, deadline=None)
@given(st.lists(layer_specs, min_size=1, max_size=5), st.integers(12, 40))
def test_random_chains_match_the_gradient_probe(specs: list[tuple[str, int, int, int, int]], size: int) -> None:
    _check_against_probe(nn.Sequential(*(_layer(s) for s in specs)), size)


class _TwoBranches(nn.Module):
    def __init__(self, a: list[nn.Module], b: list[nn.Module], how: str) -> None:
        super().__init__()
        self.a, self.b, self.how = nn.Sequential(*a), nn.Sequential(*b), how

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.a(x), self.b(x)
        return a + b if self.how == "add" else torch.cat([a, b], dim=1)


same_conv = st.tuples(st.sampled_from([1, 3, 5]), st.integers(1, 2))  # odd kernel, dilation


@settings(max_examples=20, deadline=None)
@given(st.lists(same_conv, min_size=1, max_size=3), st.lists(same_conv, min_size=1, max_size=3),
       st.sampled_from(["add", "cat"]), st.integers(16, 40))
def test_random_two_branch_merges_match_the_gradient_probe(
    a: list[tuple[int, int]], b: list[tuple[int, int]], how: str, size: int
) -> None:
    def branch(specs: list[tuple[int, int]]) -> list[nn.Module]:
        return [nn.Conv2d(2, 2, k, padding=d * (k - 1) // 2, dilation=d) for k, d in specs]

    model = nn.Sequential(_TwoBranches(branch(a), branch(b), how), nn.Conv2d(2 * (2 if how == "cat" else 1), 2, 3))
    _check_against_probe(model, size)

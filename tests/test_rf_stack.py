"""`archstat rf`: stack specs, their receptive fields and costs, against REFERENCES.md sections 2 and 3."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archstat.analysis.rf.stack import GRAMMAR, StackLayer, StackResult, analyze_stack, layer_list, parse_stack
from archstat.errors import UsageError
from archstat.report.rf_stack import render_stack
from archstat.report.writers import FORMATS

VGG16_CONV = "3x3x2,max2s2,3x3x2,max2s2,3x3x3,max2s2,3x3x3,max2s2,3x3x3"


def analyze(spec: str, **kwargs: Any) -> StackResult:
    return analyze_stack(parse_stack(spec), **kwargs)


# -- section 2: stacked small convs against one big conv ----------------------------------------------

def test_three_3x3_vs_one_7x7() -> None:
    """Three 3×3 convs: 7×7 field, 27·C² vs 49·C² weights, three non-linearities instead of one."""
    result = analyze_stack(parse_stack("3x3x3"))
    assert result.stack.rf == (7, 7)
    assert result.stack.weights_c2 == 27
    assert result.stack.nonlinearities == 3
    other = result.comparison.other
    assert other.layers == (StackLayer("conv", (7, 7), padding=(3, 3)),)
    assert other.rf == (7, 7)
    assert other.weights_c2 == 49
    assert other.nonlinearities == 1
    assert result.comparison.same_field
    assert result.comparison.weights_change_pct == round(100 * (27 - 49) / 49, 1)
    text = render_stack(result, "table")
    assert "27·C²" in text and "49·C²" in text and "−44.9%" in text
    assert "3 non-linearities" in text and "1 non-linearity" in text


def test_two_3x3_vs_one_5x5_at_128_channels() -> None:
    """128 → 128 channels, no bias: 294,912 vs 409,600 weights; both see 5×5."""
    result = analyze_stack(parse_stack("3x3x2"), channels=128)
    assert result.stack.rf == (5, 5)
    assert result.comparison.other.rf == (5, 5)
    assert result.stack.weights == 294_912
    assert result.comparison.other.weights == 409_600
    assert "294,912 vs 409,600 weights" in render_stack(result, "table")


@pytest.mark.parametrize(("spec", "field"), [("5x5", 5), ("7x7", 7), ("3x3", 3), ("3x3x2", 5), ("3x3x3", 7)])
def test_single_and_stacked_fields(spec: str, field: int) -> None:
    assert analyze(spec).stack.rf == (field, field)


def test_factorized_1x7_7x1() -> None:
    """Inception-v3's factorization: 1×7 then 7×1 sees 7×7 with 14·C² instead of 49·C²."""
    result = analyze_stack(parse_stack("1x7, 7x1"))
    assert [row.rf for row in result.stack.rows] == [(1, 7), (7, 7)]
    assert result.stack.weights_c2 == 14
    assert result.comparison.other.weights_c2 == 49
    assert result.comparison.same_field


def test_resnet_stem() -> None:
    """7×7/2 conv then 3×3/2 max pool: field 1 + 6 + 2·2 = 11, jump 2·2 = 4."""
    result = analyze_stack(parse_stack("7x7s2,max3s2"))
    assert result.stack.rf == (11, 11)
    assert result.stack.jump == (4, 4)
    assert result.stack.nonlinearities == 1
    assert result.comparison.other.jump == (4, 4)


def test_dilated_stack() -> None:
    """Three 3×3 convs with dilation 2: effective kernel 5 each, field 1 + 3·4 = 13."""
    result = analyze_stack(parse_stack("3x3d2x3"))
    assert result.stack.rf == (13, 13)
    assert [row.layer.padding for row in result.stack.rows] == [(2, 2)] * 3
    assert result.stack.weights_c2 == 27


# -- section 3: VGG16 ---------------------------------------------------------------------------------

def test_vgg16_conv5_3_and_pool5() -> None:
    """VGG16 conv5_3 → 196; pool5 → 212 with effective stride 32."""
    conv5_3 = analyze_stack(parse_stack(VGG16_CONV))
    assert conv5_3.stack.rf == (196, 196)
    assert conv5_3.stack.nonlinearities == 13
    pool5 = analyze_stack(parse_stack(VGG16_CONV + ",max2s2"))
    assert pool5.stack.rf == (212, 212)
    assert pool5.stack.jump == (32, 32)


# -- output sizes and MACs ----------------------------------------------------------------------------

def test_output_size_formula_worked_examples() -> None:
    """Section 2: 32×32 with 5×5, stride 1, pad 2 → 32×32; AlexNet conv1 11×11/4 on 227 → 55×55."""
    assert analyze("5x5p2", size=(32, 32)).stack.output_size == (32, 32)
    assert analyze("11x11s4p0", size=(227, 227)).stack.output_size == (55, 55)


def test_macs_by_hand() -> None:
    """C = 4 on 8×8: 3×3/2 pad 1 → 4×4, 9·16·16 = 2,304 MACs; a 2×2/2 max pool → 2×2, no MACs.
    Then 1×1 → 2×2, 1·16·4 = 64 MACs."""
    result = analyze_stack(parse_stack("3x3s2,max2,1x1"), channels=4, size=(8, 8))
    assert [row.output_size for row in result.stack.rows] == [(4, 4), (2, 2), (2, 2)]
    assert [row.macs for row in result.stack.rows] == [2_304, 0, 64]
    assert [row.weights for row in result.stack.rows] == [144, 0, 16]
    assert result.stack.macs == 2_368
    assert result.stack.weights == 160


def test_two_3x3_vs_5x5_macs_at_56() -> None:
    """At 56×56 both keep 56×56: 18·128²·56² vs 25·128²·56² MACs."""
    result = analyze_stack(parse_stack("3x3x2"), channels=128, size=(56, 56))
    assert result.stack.output_size == result.comparison.other.output_size == (56, 56)
    assert result.stack.macs == 18 * 128**2 * 56**2 == 924_844_032
    assert result.comparison.other.macs == 25 * 128**2 * 56**2 == 1_284_505_600


def test_single_conv_matches_output_size_of_resnet_stem() -> None:
    """ResNet's stem on 224×224 gives 56×56 (max pool padded by 1); the single 11×11/4 conv too."""
    result = analyze_stack(parse_stack("7x7s2,max3s2p1"), size=(224, 224))
    assert result.stack.output_size == (56, 56)
    assert result.comparison.other.output_size == (56, 56)


def test_input_too_small() -> None:
    with pytest.raises(UsageError, match="too small"):
        analyze_stack(parse_stack("3x3p0x3"), size=(5, 5))


# -- --vs ---------------------------------------------------------------------------------------------

def test_vs_other_stack_and_field_mismatch() -> None:
    result = analyze_stack(parse_stack("3x3x3"), vs=parse_stack("5x5"))
    assert not result.comparison.single_conv
    assert not result.comparison.same_field
    assert result.comparison.other.rf == (5, 5)
    assert "FIELDS DIFFER" in render_stack(result, "table")
    same = analyze_stack(parse_stack("3x3x2"), vs=parse_stack("5x5"))
    assert same.comparison.same_field and "FIELDS DIFFER" not in render_stack(same, "table")


# -- parsing ------------------------------------------------------------------------------------------

def test_parse_defaults() -> None:
    assert parse_stack("7x7s2") == (StackLayer("conv", (7, 7), stride=2, padding=(3, 3)),)
    assert parse_stack("max2s2") == (StackLayer("max", (2, 2), stride=2),)
    assert parse_stack("avg3s1") == (StackLayer("avg", (3, 3), stride=1),)
    assert parse_stack("max3") == (StackLayer("max", (3, 3), stride=3),)
    assert parse_stack("max3s2p1x2") == (StackLayer("max", (3, 3), stride=2, padding=(1, 1)),) * 2
    assert parse_stack("3x3p0d2s2") == parse_stack("3x3s2d2p0")
    assert parse_stack("1x7") == (StackLayer("conv", (1, 7), padding=(0, 3)),)


@pytest.mark.parametrize("spec", ["3x", "0x0", "3x3s0", "x3", "3x3x0", "max", "foo", "", "3x3,,5x5", " , ",
                                  "3x3s2s2", "max3p2", "3x3 s2", "avg0", "3x3d0", "3x3,", "3x3x3x3"])
def test_malformed_specs(spec: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_stack(spec)
    message = str(info.value)
    assert "\n" not in message
    assert GRAMMAR in message
    assert f"--stack {spec!r}" in message


def test_malformed_names_the_option_and_the_piece() -> None:
    with pytest.raises(UsageError, match=r"^malformed --vs '3x3,3x': '3x' is not a layer"):
        parse_stack("3x3,3x", option="--vs")


# -- formats ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{}, {"channels": 128}, {"size": (56, 56)}, {"channels": 64, "size": (56, 56)}])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders(fmt: str, kwargs: dict[str, Any]) -> None:
    result = analyze_stack(parse_stack("7x7s2,max3s2p1"), vs=parse_stack("3x3s2,3x3x2,max3s2p1"), **kwargs)
    text = render_stack(result, fmt)
    if fmt == "json":
        data = json.loads(text)
        assert data["stack"]["rf"] == [11, 11]
        assert data["comparison"]["other"]["rf"] == [15, 15]
        assert data["comparison"]["same_field"] is False
    elif fmt == "csv":
        growth, comparison = text.split("\n\n")
        rows = list(csv.DictReader(io.StringIO(growth)))
        assert [r["side"] for r in rows] == ["stack"] * 2 + ["other"] * 4
        assert rows[1]["rf_h"] == "11" and rows[1]["jump_w"] == "4"
        quantities = {r["quantity"]: r for r in csv.DictReader(io.StringIO(comparison))}
        assert quantities["rf_h"]["stack"] == "11" and quantities["rf_h"]["other"] == "15"
    elif fmt == "latex":
        assert "\\toprule" in text and "\\bottomrule" in text
    elif fmt == "markdown":
        assert "| Layer |" in text
    else:
        assert "11×11" in text and "MACs = multiply-accumulates" in text


def test_unknown_format() -> None:
    with pytest.raises(UsageError):
        render_stack(analyze_stack(parse_stack("3x3")), "yaml")


# -- property: the closed form ------------------------------------------------------------------------

convs = st.lists(st.tuples(st.integers(1, 7), st.integers(1, 7), st.integers(1, 3), st.integers(1, 3)),
                 min_size=1, max_size=8)


@given(convs)
def test_field_equals_closed_form(chain: list[tuple[int, int, int, int]]) -> None:
    """r = 1 + Σ (k' − 1)·Π_{i<l} s_i per axis with k' = d(k − 1) + 1, and jump = Π s."""
    spec = ",".join(f"{kh}x{kw}s{s}d{d}" for kh, kw, s, d in chain)
    result = analyze_stack(parse_stack(spec))
    strides = [s for _, _, s, _ in chain]
    products = [math.prod(strides[:i]) for i in range(len(chain))]
    rh = 1 + sum((d * (kh - 1) + 1 - 1) * p for (kh, _, _, d), p in zip(chain, products, strict=True))
    rw = 1 + sum((d * (kw - 1) + 1 - 1) * p for (_, kw, _, d), p in zip(chain, products, strict=True))
    assert result.stack.rf == (rh, rw)
    assert result.stack.jump == (math.prod(strides),) * 2
    assert result.stack.weights_c2 == sum(kh * kw for kh, kw, _, _ in chain)
    assert result.stack.nonlinearities == len(chain)
    assert parse_stack(layer_list(result.stack.layers)) == result.stack.layers

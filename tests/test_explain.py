"""`archstat explain`: the lectures' worked examples (REFERENCES.md section 2) come out of it with
their printed values, and no explanation can disagree with the analysis it explains."""

from __future__ import annotations

import dataclasses
from functools import cache

import pytest
from torch import nn

from archstat.analysis.analyze import analyze
from archstat.analysis.loading import load_model
from archstat.analysis.records import Analysis
from archstat.cli.main import main
from archstat.studies.explain import LayerExplanation, Mismatch, Step, explain_layer, find_row
from archstat.studies.explain_block import BlockExplanation, explain
from tests.oracles import TORCHVISION


@cache
def _zoo(name: str, **options: object) -> tuple[nn.Module, Analysis]:
    loaded = load_model(name, device="meta", options=options)
    return loaded.module, analyze(loaded.module, loaded.input_shape, label=name)


def _layer(name: str, path: str) -> LayerExplanation:
    model, analysis = _zoo(name)
    result = explain(analysis, model, path)
    assert isinstance(result, LayerExplanation)
    return result


def _block(name: str, path: str = "", **options: object) -> BlockExplanation:
    model, analysis = _zoo(name, **options)
    result = explain(analysis, model, path)
    assert isinstance(result, BlockExplanation)
    return result


def _steps(e: LayerExplanation, label: str) -> list[Step]:
    return [s for s in e.steps if s.label == label]


def test_ten_5x5_filters_on_32x32x3_give_32x32x10_and_760_parameters() -> None:
    model = nn.Sequential(nn.Conv2d(3, 10, 5, stride=1, padding=2))
    analysis = analyze(model, (1, 3, 32, 32))
    e = explain_layer(analysis, model, find_row(analysis, "0"))
    sizes = _steps(e, "output_size")
    assert [s.value for s in sizes] == [32, 32]
    assert sizes[0].substituted == "⌊(32 + 4 − 4 − 1)/1⌋ + 1"
    (params,) = _steps(e, "params")
    assert (params.substituted, params.value) == ("(5·5·3 + 1)·10", 760)
    assert e.row.output_shape == (1, 10, 32, 32)


def test_alexnet_conv1_is_55x55x96_with_34944_parameters() -> None:
    e = _layer("alexnet", "features.0")
    assert [s.value for s in _steps(e, "output_size")] == [55, 55]
    assert _steps(e, "output_size")[0].substituted == "⌊(227 + 0 − 10 − 1)/4⌋ + 1"
    (params,) = _steps(e, "params")
    assert (params.substituted, params.value) == ("(11·11·3 + 1)·96", 34_944)
    assert e.row.output_shape[1] == 96


def test_grouped_conv_divides_the_input_channels() -> None:
    (params,) = _steps(_layer("alexnet", "features.4"), "params")
    assert params.substituted == "(5·5·96/2 + 1)·256"
    assert params.value == 307_456


def test_vgg16_fc6_holds_102764544_of_138357544_parameters() -> None:
    e = _layer("vgg16", "classifier.0")
    (params,) = _steps(e, "params")
    assert (params.substituted, params.value) == ("(25,088 + 1)·4,096", 102_764_544)
    assert _zoo("vgg16")[1].totals.params == TORCHVISION["vgg16"][0] == 138_357_544


def test_vgg16_first_conv_as_the_issue_writes_it() -> None:
    e = _layer("vgg16", "features.0")
    assert _steps(e, "output_size")[0].substituted == "⌊(224 + 2 − 2 − 1)/1⌋ + 1"
    assert _steps(e, "params")[0].substituted == "(3·3·3 + 1)·64"
    (macs,) = _steps(e, "macs")
    assert macs.value == e.row.macs == 224 * 224 * 64 * 27
    rf = {s.label: s.value for s in e.steps if s.section == "rf"}
    assert rf == {"rf_size": 3, "rf_jump": 1, "rf_start": -1}
    (memory,) = _steps(e, "activation")
    assert memory.value == 64 * 224 * 224 * 4


def test_two_3x3_against_one_5x5_at_128_channels() -> None:
    c = _block("conv_stack", n=2, channels=128).comparison
    assert c is not None and c.kind == "stack"
    assert (c.with_.params, c.without.params) == (294_912, 409_600)
    assert "18·C²" in c.with_.c2 and "25·C²" in c.without.c2


def test_three_3x3_against_one_7x7_is_27_against_49_c_squared() -> None:
    c = _block("conv_stack").comparison
    assert c is not None
    assert "= 27 → 27·C²" in c.with_.c2 and "= 49 → 49·C²" in c.without.c2
    assert [conv.substituted for conv in c.without.convs] == ["7·7·64·64"]


def test_inception_3a_filter_counts_and_what_the_reductions_buy() -> None:
    e = _block("googlenet", "inception3a")
    assert e.row.output_shape == (1, 256, 28, 28)
    c = e.comparison
    assert c is not None and c.kind == "inception"
    # #1×1 64; #3×3 reduce 96, #3×3 128; #5×5 reduce 16, #5×5 32; pool proj 32; in 192
    assert [conv.substituted for conv in c.with_.convs] == [
        "(1·1·192 + 1)·64", "(1·1·192 + 1)·96", "(3·3·96 + 1)·128", "(1·1·192 + 1)·16", "(5·5·16 + 1)·32",
        "(1·1·192 + 1)·32",
    ]
    assert c.without.params == (192 + 1) * 64 + (9 * 192 + 1) * 128 + (25 * 192 + 1) * 32
    assert c.with_.params == e.row.params == 163_696
    assert 0.3 < c.params_ratio < 0.45 and 0.3 < c.macs_ratio < 0.45   # the lecture's "about a third"
    assert sum(r.params for r in e.parts) == e.row.params


def test_bottleneck_against_3x3_at_full_width() -> None:
    c = _block("resnet_bottleneck_block").comparison
    assert c is not None and c.kind == "bottleneck"
    assert [conv.substituted for conv in c.with_.convs] == ["1·1·256·64", "3·3·64·64", "1·1·64·256"]
    assert [conv.substituted for conv in c.without.convs] == ["3·3·256·256", "3·3·256·256"]
    block = _block("resnet50", "layer1.0").comparison
    assert block is not None and [conv.substituted for conv in block.without.convs] == ["3·3·64·256", "3·3·256·256"]


@pytest.mark.parametrize("name", ["alexnet", "googlenet", "resnet50", "vgg16_bn", "mobilenet_v2", "densenet121"])
def test_every_leaf_and_block_is_explained_and_agrees_with_its_row(name: str) -> None:
    model, analysis = _zoo(name)
    for row in analysis.layers:
        explain(analysis, model, row.path)   # each result is checked against the row inside


def test_an_explanation_that_disagrees_with_the_row_is_a_bug() -> None:
    model, analysis = _zoo("vgg16")
    row = find_row(analysis, "features.0")
    with pytest.raises(Mismatch, match="parameters"):
        explain_layer(analysis, model, dataclasses.replace(row, params=row.params + 1))


def test_a_layer_without_closed_form_lists_its_recorded_ops() -> None:
    e = _layer("googlenet", "dropout")
    assert not e.closed_form and e.row.type == "Dropout"
    assert [s.label for s in e.steps if s.section == "cost"] == ["no_ops"]


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_vgg16_first_conv_in_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["explain", "vgg16", "features.0"], capsys)
    assert code == 0 and "⌊(224 + 2 − 2 − 1)/1⌋ + 1" in out and "(3·3·3 + 1)·64" in out and "1,792" in out
    code, out, _ = _run(["explain", "vgg16", "features.0", "--format", "markdown"], capsys)
    assert code == 0 and "| parameters | (k_h·k_w·C_in + 1)·C_out | (3·3·3 + 1)·64 | 1,792 |" in out
    code, out, _ = _run(["explain", "vgg16", "features.0", "--format", "latex"], capsys)
    assert code == 0 and out.isascii() and "\\begin{tabular}" in out


def test_cli_fallback_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["explain", "googlenet", "dropout"], capsys)
    assert code == 0 and "no closed form shown for Dropout; counted from the executed ops" in out


def test_cli_korean(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _run(["explain", "vgg16", "features.0", "--lang", "ko"], capsys)
    assert code == 0 and "출력 크기" in out and "수용 영역" in out and "(3·3·3 + 1)·64" in out
    monkeypatch.setenv("ARCHSTAT_LANG", "ko")
    code, out, _ = _run(["explain", "conv_stack"], capsys)
    assert code == 0 and "쌓은 합성곱" in out and "27·C²" in out


def test_cli_unknown_layer_suggests_close_paths(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["explain", "vgg16", "feature.0"], capsys)
    assert code == 2 and not out
    assert err.count("\n") == 1 and "unknown layer 'feature.0'" in err and "did you mean features.0" in err


def test_cli_vs_tools(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["explain", "alexnet", "features.0", "--vs-tools", "--format", "markdown"], capsys)
    assert code == 0
    macs = 55 * 55 * 96 * 11 * 11 * 3
    assert f"| fvcore | {macs:,} | {macs:,} MACs |" in out              # fvcore counts MACs
    assert f"| FlopCounterMode | {2 * macs:,} |" in out                  # 2 per MAC, no bias
    assert "| paper | 34,944 | 34,944 parameters |" in out

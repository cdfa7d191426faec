"""`archstat erf`: the effective receptive field against closed forms and Luo et al.'s findings.

Exact: n uniform 3×3 convs in float64 give the n-fold convolution of the uniform kernel, whose
per-axis variance is n·2/3. Statistical: random positive weights grow the std like √n. On the zoo,
at its own initialisation: the ERF/TRF ratio falls with depth on vgg16, the ERF of a ReLU network
stays centred, and the mean gradient never leaves the theoretical field.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from archstat.analysis.analyze import analyze
from archstat.analysis.rf.erf import ERFResult, effective_fields, fit_growth, seeded
from archstat.cli.main import main
from archstat.models import get_model
from archstat.report.erf import erf_document
from archstat.report.writers import FORMATS, render
from archstat.studies.lectures import plain_stack

SCHEMA_LAYER = {"path", "depth", "trf", "erf_std", "r68", "r95", "ratio_95", "centre_offset"}


def conv_stack(depth: int, weights: torch.Tensor | None = None) -> nn.Sequential:
    """`depth` single-channel 3×3 convs without bias or non-linearity: uniform 1/9, or `weights[i]`."""
    layers = []
    for i in range(depth):
        conv = nn.Conv2d(1, 1, 3, bias=False)
        with torch.no_grad():
            conv.weight.copy_(weights[i] if weights is not None else torch.full((1, 1, 3, 3), 1 / 9))
        layers.append(conv)
    return nn.Sequential(*layers)


def stack_erf(model: nn.Sequential, depth: int) -> ERFResult:
    """Every layer of the stack, on an input two pixels wider than the deepest field (no padding reached)."""
    size = 2 * depth + 3
    analysis = analyze(model, (1, 1, size, size))
    return effective_fields(model, analysis, [str(i) for i in range(depth)], images=1, dtype=torch.float64)


def test_uniform_stack_variance_is_exactly_two_thirds_per_layer() -> None:
    result = stack_erf(conv_stack(16), 16)
    assert [layer.depth for layer in result.layers] == list(range(1, 17))
    for n, layer in enumerate(result.layers, start=1):
        for std in layer.erf_std:
            assert std**2 == pytest.approx(n * 2 / 3, abs=1e-9)
        assert layer.centre_offset == pytest.approx((0.0, 0.0), abs=1e-9)
        assert layer.inside and layer.support == layer.trf_box     # all 2n + 1 pixels, nothing outside
    assert result.fit.erf_exponent == pytest.approx(0.5, abs=1e-9)
    assert result.fit.trf_exponent == pytest.approx(1.0, abs=1e-12)


def test_random_positive_stack_grows_like_sqrt_n() -> None:
    generator = torch.Generator().manual_seed(0)
    weights = torch.rand((32, 1, 1, 3, 3), generator=generator, dtype=torch.float64)
    result = stack_erf(conv_stack(32, weights), 32)
    fitted = fit_growth([layer for layer in result.layers if layer.depth >= 2])
    assert fitted.erf_exponent == pytest.approx(0.5, abs=0.05)
    assert fitted.trf_exponent == pytest.approx(1.0, abs=1e-12)


@pytest.fixture(scope="module")
def vgg16_erf() -> ERFResult:
    """vgg16 at its own initialisation (seed 0), 32 Gaussian inputs at 224×224: the default layers.

    The offset of features.28 is systematic for these weights (−0.83, +0.93 px at 32 inputs, the
    same with seed 1), not noise; with 8 inputs the estimate reads 1.08 px."""
    with seeded(0):
        model = get_model("vgg16")
    return effective_fields(model, analyze(model, (1, 3, 224, 224)), images=32, seed=0)


def test_vgg16_erf_share_of_the_field_falls_with_depth(vgg16_erf: ERFResult) -> None:
    """At 224×224 every default layer's field fits in (or just reaches) the input, so the ratio
    means what it says; it falls at every step (92%, 81%, 67%, 58%, 53%, 50% in our runs)."""
    ratios = [layer.ratio_95 for layer in vgg16_erf.layers]
    assert len(ratios) == 6
    assert all(later < earlier for earlier, later in itertools.pairwise(ratios)), ratios


def test_relu_network_erf_stays_centred_within_a_pixel(vgg16_erf: ERFResult) -> None:
    """Luo et al.: ReLU does not move the ERF off centre. Checked where the field lies inside the
    input (where it reaches into padding, the zeros make it lopsided by construction)."""
    inside = [layer for layer in vgg16_erf.layers
              if all(first > 0 and last < 223 for first, last in layer.trf_box)]
    assert len(inside) >= 3
    for layer in inside:
        assert all(abs(offset) < 1 for offset in layer.centre_offset), (layer.path, layer.centre_offset)
    # Built from a fixed seed, so the result does not depend on what ran before; at 32 channels the
    # largest offset over seeds 0-7 is 0.23-0.61 px (at 8 channels it reached 0.94 px: too close to call).
    with seeded(0):
        model = plain_stack(12, 32)
    analysis = analyze(model, (1, 3, 40, 40))
    result = effective_fields(model, analysis, [str(2 * i) for i in range(12)], images=16, seed=0)
    assert all(abs(offset) < 1 for layer in result.layers for offset in layer.centre_offset)


@pytest.mark.parametrize(("name", "shape"), [("resnet18", (1, 3, 96, 96)), ("alexnet", (1, 3, 227, 227)),
                                             ("googlenet", (1, 3, 224, 224))])
def test_mean_gradient_never_leaves_the_theoretical_field(name: str, shape: tuple[int, ...]) -> None:
    with seeded(0):
        model = get_model(name)
    result = effective_fields(model, analyze(model, shape), images=2)
    assert result.layers
    for layer in result.layers:
        assert layer.inside, (layer.path, layer.support, layer.trf_box)


def test_the_model_comes_back_as_it_came() -> None:
    model = plain_stack(3, 4)
    model.train()
    model[2].eval()
    model[0].weight.requires_grad_(False)
    before = ([m.training for m in model.modules()], [p.requires_grad for p in model.parameters()],
              [p.detach().clone() for p in model.parameters()], torch.is_grad_enabled())
    with torch.no_grad():
        effective_fields(model, analyze(model, (1, 3, 16, 16)), ["4"], images=3, batch=2)
    after = ([m.training for m in model.modules()], [p.requires_grad for p in model.parameters()],
             [p.detach().clone() for p in model.parameters()], True)
    assert before[0] == after[0] and before[1] == after[1]
    assert all(torch.equal(a, b) for a, b in zip(before[2], after[2], strict=True))
    assert all(p.grad is None for p in model.parameters())


def test_batches_give_the_same_erf_as_one_batch() -> None:
    model = plain_stack(4, 4)
    analysis = analyze(model, (1, 3, 20, 20))
    one = effective_fields(model, analysis, ["6"], images=6, batch=6, dtype=torch.float64)
    split = effective_fields(model, analysis, ["6"], images=6, batch=4, dtype=torch.float64)
    assert torch.allclose(one.layers[0].erf, split.layers[0].erf, atol=1e-12)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format(fmt: str) -> None:
    result = stack_erf(conv_stack(4), 4)
    text = render(erf_document(result), fmt, 160)
    assert "3" in text
    if fmt == "json":
        data = json.loads(text)
        assert {"model", "images", "layers", "fit"} <= set(data)
        assert {"erf_exponent", "trf_exponent"} <= set(data["fit"])
        assert all(set(layer) >= SCHEMA_LAYER for layer in data["layers"])
    if fmt == "latex":
        assert "\\begin{tabular}" in text


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["erf", "lenet5", "--images", "2", "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["model"] == "lenet5" and data["images"] == 2 and data["layers"]


@pytest.mark.parametrize(("args", "expected"), [
    (["erf", "vgg16", "--layer", "features.99"], "features."),
    (["erf", "vgg16", "--images", "zero"], "--images"),
    (["erf", "vgg16", "--images", "0"], "--images"),
    (["erf", "vgg16", "--weights", "/nonexistent.pt"], "no such file"),
    (["erf", "vgg16", "--plot", "x.gif"], "--plot"),
    (["erf", "vgg16", "--input", "3x224"], "ERF"),
])
def test_cli_errors_are_one_line(args: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(args, capsys)
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and expected in err, err


def test_weights_mismatch_names_the_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = get_model("lenet5").state_dict()
    state["extra.weight"] = torch.zeros(1)
    del state[next(iter(state))]
    path = tmp_path / "w.pt"
    torch.save(state, path)
    code, _, err = run_cli(["erf", "lenet5", "--weights", str(path), "--images", "1"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "missing" in err and "unexpected extra.weight" in err


def test_weights_are_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with seeded(5):
        state = get_model("lenet5").state_dict()
    path = tmp_path / "w.pt"
    torch.save(state, path)
    args = ["erf", "lenet5", "--images", "2", "--format", "json"]
    _, own, _ = run_cli(args, capsys)
    code, loaded, _ = run_cli([*args, "--weights", str(path)], capsys)
    assert code == 0 and json.loads(own)["layers"] != json.loads(loaded)["layers"]


def test_report_gains_the_erf_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "r.html"
    code, _, _ = run_cli(["report", "lenet5_modern", "--erf", "-o", str(page)], capsys)
    assert code == 0
    text = page.read_text(encoding="utf-8")
    assert "<h3>Effective receptive field</h3>" in text
    # nothing fetched: no URL but the SVG and XLink namespaces of the inline drawings
    head = text.split("<script>")[0]
    assert re.sub(r'xmlns(:xlink)?="http://www\.w3\.org/[0-9]+/(svg|xlink)"', "", head).count("http") == 0

"""`archstat sweep`: value lists, closed forms at several sizes, fitted exponents, marks, formats and endings.

The oracles are closed forms written out here (conv MACs = n·k²·C²·H·W; a ViT's linear terms plus
its quadratic attention products) and REFERENCES.md (VGG16's pool5 field, 212 px), never a
previous run's output.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from archstat.cli.main import main
from archstat.errors import UsageError
from archstat.studies import sweep as sweep_module
from archstat.studies.sweep import Swept, fit_power_law, parse_values, sweep


def _run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# -- value lists ----------------------------------------------------------------------------------

def test_ranges_and_lists() -> None:
    assert parse_values("size", "128:512:32") == tuple(range(128, 513, 32))
    assert parse_values("seq", "128:4096:x2") == (128, 256, 512, 1024, 2048, 4096)
    assert parse_values("batch", "1,8,64") == (1, 8, 64)
    assert parse_values("size", "224, 320x240, 96x96") == (224, (320, 240), 96)
    assert parse_values("batch", [1, 2]) == (1, 2)
    assert Swept.of("option", "0.5,1.0,(6, 12)", "x").values == (0.5, 1.0, (6, 12))
    assert Swept.of("option", "A,B", "shortcut").values == ("A", "B")
    assert Swept.of("option", "2:12:2", "num_hidden_layers").values == (2, 4, 6, 8, 10, 12)


@pytest.mark.parametrize(("text", "words"), [
    ("128:64", "the end 64 is below the start 128"),
    ("128:512:0", "step must be a positive integer"),
    ("128:512:x1", "factor must be above 1"),
    ("128:512", "give a step"),
    ("1:100000:1", "more than 256 points"),
    ("224,224", "given twice"),
    ("1,x", "not a positive integer"),
    ("", "empty"),
])
def test_bad_specs_are_usage_errors(text: str, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        parse_values("size", text)


# -- fits -----------------------------------------------------------------------------------------

def test_power_law_fit_recovers_exponent_prefactor_and_break() -> None:
    xs = [1.0, 2.0, 4.0, 8.0]
    fit = fit_power_law(xs, [3 * x**2 for x in xs])
    assert fit is not None
    assert (fit.exponent, fit.prefactor, fit.r2, fit.breakpoint) == (2.0, 3.0, 1.0, None)
    constant = fit_power_law(xs, [5.0] * 4)
    assert constant is not None and constant.exponent == 0.0 and constant.r2 == 1.0
    # linear up to 1,024, quadratic beyond: the break is found there
    xs = [2.0**i for i in range(4, 15)]
    bent = fit_power_law(xs, [x if x <= 1024 else x * x / 1024 for x in xs])
    assert bent is not None and bent.breakpoint is not None
    assert bent.breakpoint.at == 1024 and bent.breakpoint.below == 1.0 and bent.breakpoint.beyond == 2.0
    assert fit_power_law([1.0, 1.0], [1.0, 2.0]) is None


# -- closed forms ---------------------------------------------------------------------------------

def test_conv_macs_scale_exactly_with_height_times_width() -> None:
    """conv_stack (three 3×3 convs, C → C, no bias, no pooling): MACs = n·k²·C²·H·W at every size."""
    n, k, c = 3, 3, 64
    result = sweep("conv_stack", Swept.of("size", "28,56,40x72,112"))
    for point in result.points:
        h, w = point.input_shape[2:]
        assert point.macs == n * k * k * c * c * h * w
        assert point.params == n * k * k * c * c
    assert result.fits["macs"].exponent == pytest.approx(2.0, abs=0.01)
    assert result.fits["params"].exponent == 0.0


class TinyViT(nn.Module):
    """Patch embedding, then pre-norm blocks of multi-head self-attention and an MLP, class token head."""

    def __init__(self, dim: int = 64, depth: int = 2, heads: int = 4, patch: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.patch, self.heads = patch, heads
        self.embed = nn.Conv2d(3, dim, patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.blocks = nn.ModuleList(nn.ModuleDict({
            "norm1": nn.LayerNorm(dim), "qkv": nn.Linear(dim, 3 * dim), "proj": nn.Linear(dim, dim),
            "norm2": nn.LayerNorm(dim), "fc1": nn.Linear(dim, 4 * dim), "fc2": nn.Linear(4 * dim, dim),
        }) for _ in range(depth))
        self.head = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)
        b, n, d = x.shape
        for block in self.blocks:
            q, k, v = block["qkv"](block["norm1"](x)).reshape(b, n, 3, self.heads, d // self.heads).permute(
                2, 0, 3, 1, 4)
            attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d)
            x = x + block["proj"](attended)
            x = x + block["fc2"](F.gelu(block["fc1"](block["norm2"](x))))
        return self.head(x[:, 0])


def test_vit_macs_at_two_sequence_lengths_equal_the_closed_form() -> None:
    """N = patches + 1 tokens of width D, L blocks: the patch conv N_p·3P²·D, per block QKV 3ND², output
    projection ND², MLP 8ND², and the attention products QKᵀ and AV N²D each; the head D·classes."""
    dim, depth, patch, classes = 64, 2, 8, 10
    result = sweep(TinyViT(dim, depth, 4, patch, classes), Swept.of("size", "32,64"))
    for point in result.points:
        side = point.input_shape[-1]
        patches = (side // patch) ** 2
        n = patches + 1
        linear = 3 * n * dim**2 + n * dim**2 + 8 * n * dim**2
        attention = 2 * n * n * dim
        expected = patches * 3 * patch**2 * dim + depth * (linear + attention) + dim * classes
        assert point.macs == expected, side


def test_vit_b_16_macs_equal_the_closed_form_and_attention_goes_as_tokens_squared() -> None:
    """The zoo's vit_b_16 (torchvision's: 12 blocks of width 768, 16 px patches, MLP 3072, 1000 classes)
    built for 224 and 384 px (-O image_size: the position embedding fixes the input): N = patches + 1
    tokens, the same closed form; its attention products are 2·N²·D per block."""
    dim, depth, patch, classes, mlp = 768, 12, 16, 1000, 3072
    result = sweep("vit_b_16", Swept.of("option", [224, 384], "image_size"))
    for point in result.points:
        side = point.input_shape[-1]
        patches = (side // patch) ** 2
        n = patches + 1
        linear = 4 * n * dim**2 + 2 * n * dim * mlp
        attention = 2 * n * n * dim
        assert point.macs == patches * 3 * patch**2 * dim + depth * (linear + attention) + dim * classes, side
        assert point.macs_by_kind["attention"] == depth * attention
        assert point.macs_by_kind["linear"] == depth * linear + dim * classes
    assert set(result.fits) >= {"macs.conv", "macs.linear", "macs.attention"}


def test_bert_attention_products_go_as_seq_squared_and_the_projections_as_seq(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    result = sweep(f"hf:{_bert_dir(tmp_path / 'bert')}", Swept.of("seq", "64:512:x2"))
    assert result.fits["macs.attention"].exponent == pytest.approx(2.0, abs=0.005)
    assert result.fits["macs.linear"].exponent == pytest.approx(1.0, abs=0.005)
    for point in result.points:   # 2 layers, QKᵀ and PV: 2·L²·64 MACs each
        assert point.macs_by_kind["attention"] == 2 * 2 * point.value**2 * 64


# -- a training step per point ----------------------------------------------------------------------

def test_training_memory_per_point_equals_a_direct_training_analysis() -> None:
    from archstat.analysis.analyze import analyze
    from archstat.studies.lectures import plain_stack

    model = plain_stack(depth=3, width=8)
    result = sweep(model, Swept.of("size", "32,64,96"), training=True, freeze=("0",), optimizer="momentum")
    for point in result.points:
        direct = analyze(model, point.input_shape, training=True, freeze=("0",), optimizer="momentum",
                         gpu_memory=())
        assert direct.training is not None
        assert point.training_bytes == direct.training.memory.total_bytes
        assert point.step_activation_bytes == direct.training.memory.activation_bytes
    assert result.fits["step_activation_bytes"].exponent == pytest.approx(2.0, abs=0.05)
    assert result.training == {"optimizer": "momentum", "amp": None, "freeze": ["0"],
                               "gpu_memory": [24, 40, 80, 141]}
    assert "gpu" not in result.marks     # a few MiB passes no GPU
    plain = sweep(model, Swept.of("size", "32,64"))
    assert plain.points[0].training_bytes is None and "training_bytes" not in plain.fits


def test_the_gpu_mark_is_the_first_point_whose_training_step_passes_the_size() -> None:
    from archstat.studies.lectures import plain_stack

    model = plain_stack(depth=3, width=8)
    values = "8,16,32,64,128"
    totals = [p.training_bytes for p in sweep(model, Swept.of("batch", values), training=True,
                                                 gpu_memory=()).points]
    assert all(t is not None for t in totals) and totals == sorted(totals)
    between = (totals[2] + totals[3]) / 2 / 2**30          # GiB between the 3rd and the 4th point
    result = sweep(model, Swept.of("batch", values), training=True, gpu_memory=(between, totals[0] / 2**30 / 2))
    assert result.marks["gpu"] == [
        {"gib": between, "name": None, "value": 64, "label": "64", "training_bytes": totals[3]},
        {"gib": totals[0] / 2**30 / 2, "name": None, "value": 8, "label": "8", "training_bytes": totals[0]},
    ]
    from archstat.report.sweep import mark_lines

    assert f"training passes {between:g} GiB at 64" in mark_lines(result)


# -- exponents and marks --------------------------------------------------------------------------

def test_plain_cnn_macs_go_as_size_squared_and_activations_as_batch() -> None:
    from archstat.studies.lectures import plain_stack

    by_size = sweep(plain_stack(depth=4, width=8), Swept.of("size", "32:256:32"))
    assert by_size.fits["macs"].exponent == pytest.approx(2.0, abs=0.01)
    by_batch = sweep("resnet18", Swept.of("batch", "1,8,64"))
    assert by_batch.fits["activation_bytes"].exponent == pytest.approx(1.0, abs=0.01)
    assert [p.input_shape[0] for p in by_batch.points] == [1, 8, 64]


def test_vgg16_marks_its_paper_input_and_where_pool5_stops_covering() -> None:
    """REFERENCES section 3: VGG16's pool5 field is 212 px, so it covers 192 but not 224."""
    result = sweep("vgg16", Swept.of("size", "160:256:32"))
    assert result.marks["paper_input"] == {"value": 224}
    assert result.marks["rf_covers"]["value"] == 192 and result.marks["rf_covers"]["until"] is True
    at_224 = next(p for p in result.points if p.value == 224)
    assert at_224.rf_px == (212, 212) and at_224.rf_coverage == round(212 / 224, 4)


def test_sweeping_an_option_changes_exactly_that_option() -> None:
    """conv_stack -O k=1,3,5 (three k×k convs of 64 channels at 56×56): weights 3·k²·C², MACs 3·k²·C²·56²."""
    result = sweep("conv_stack", Swept.of("option", [1, 3, 5], "k"))
    for point in result.points:
        k = point.value
        assert point.params == 3 * k * k * 64 * 64
        assert point.macs == 3 * k * k * 64 * 64 * 56 * 56
        assert point.input_shape == (1, 64, 56, 56)
    assert result.marks["default"] == {"value": 3}
    assert result.fits["params"].exponent == pytest.approx(2.0, abs=1e-6)


# -- the command ----------------------------------------------------------------------------------

def _bert_dir(path: Path) -> Path:
    path.mkdir()
    (path / "config.json").write_text(json.dumps({
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "intermediate_size": 256, "max_position_embeddings": 512, "vocab_size": 1000,
        "type_vocab_size": 2,
    }))
    return path


def test_seq_sweep_of_an_hf_model_writes_the_documented_json(capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    model = _bert_dir(tmp_path / "bert")
    code, out, err = _run(capsys, "sweep", f"hf:{model}", "--seq", "64:512:x2", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= {"model", "swept", "points", "fits", "marks"}
    assert data["swept"]["axis"] == "seq" and [p["value"] for p in data["points"]] == [64, 128, 256, 512]
    assert [p["input_shape"] for p in data["points"]] == [[1, 64], [1, 128], [1, 256], [1, 512]]
    for key in ("params", "macs", "flops", "activation_bytes", "peak_activation_bytes", "training_activation_bytes",
                "rf_coverage"):
        assert key in data["points"][0]
    assert set(data["fits"]["macs"]) >= {"exponent", "prefactor", "r2"}
    assert 1.0 < data["fits"]["macs"]["exponent"] < 2.0
    # -O with several values sweeps the config field
    code, out, err = _run(capsys, "sweep", f"hf:{model}", "-O", "num_hidden_layers=1,2,4", "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out.split("\n\n")[0])))
    assert rows[0][0] == "value" and [r[0] for r in rows[1:]] == ["1", "2", "4"]


@pytest.mark.parametrize(("args", "words"), [
    (["vgg16", "--size", "128:64"], "the end 64 is below the start 128"),
    (["vgg16", "--seq", "128:512:x2"], "--seq sweeps token inputs"),
    (["mobilenet_v2", "-O", "widht_mult=0.5,1.0"], "did you mean width_mult?"),
    (["vgg16"], "nothing to sweep"),
    (["vgg16", "--size", "224", "--batch", "1,2"], "one thing at a time"),
])
def test_bad_command_lines_are_one_line_exit_2(capsys: pytest.CaptureFixture[str], args: list[str],
                                               words: str) -> None:
    code, out, err = _run(capsys, "sweep", *args)
    assert code == 2
    assert words in err and err.count("\n") == 1 and out == ""


def test_every_format_and_the_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["sweep", "conv_stack", "--size", "28,56"]
    for fmt, needle in (("table", "size^2.00"), ("markdown", "| Size |"), ("latex", "\\begin{tabular}"),
                        ("csv", "value,input_shape,params"), ("json", '"fits"')):
        code, out, err = _run(capsys, *args, "--format", fmt)
        assert code == 0 and needle in out, (fmt, err)
    plot = tmp_path / "sweep.html"
    code, _, err = _run(capsys, *args, "--plot", plot, "-o", tmp_path / "sweep.json")
    assert code == 0, err
    page = plot.read_text(encoding="utf-8")
    assert "MACs ∝ size^2.00" in page and page.count("* plotly.js v") == 1


def test_the_training_options_add_columns_json_and_traces(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    args = ["sweep", "conv_stack", "--batch", "1,2,4", "--training", "--optimizer", "sgd", "--gpu-memory", "0.0001"]
    code, out, err = _run(capsys, *args, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert all(isinstance(p["training_bytes"], int) for p in data["points"])
    assert data["training"]["optimizer"] == "sgd" and data["training"]["gpu_memory"][-1] == 0.0001
    assert data["marks"]["gpu"][0]["gib"] == 0.0001 and "training_bytes" in data["fits"]
    plot = tmp_path / "sweep.html"
    code, out, err = _run(capsys, *args, "--plot", plot)
    assert code == 0, err
    assert "Train mem" in out and "training passes 0.0001 GiB at" in " ".join(out.split())
    assert "training step ∝ batch^" in plot.read_text(encoding="utf-8")


def test_an_interrupted_sweep_writes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    real = sweep_module.analyze
    calls = []

    def interrupted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)   # type: ignore[arg-type]

    monkeypatch.setattr(sweep_module, "analyze", interrupted)
    target = tmp_path / "out.json"
    code, _, err = _run(capsys, "sweep", "conv_stack", "--size", "28,56,112", "-o", target,
                        "--plot", tmp_path / "p.html")
    assert code == 130 and "interrupted" in err
    assert list(tmp_path.iterdir()) == []

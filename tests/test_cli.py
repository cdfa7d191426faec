"""The `archstat` command end to end, run in-process through `archstat.cli.main.main`.

Every error must come out as one line on stderr (`archstat: error: ...`), a non-zero exit code,
no traceback and no file left behind. One test runs the installed console script for real.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import torch

import archstat
from archstat.cli.main import main
from tests.oracles import TORCHVISION

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
USER_MODEL = FIXTURES / "user_model.py"
BROKEN_MODEL = FIXTURES / "broken_model.py"

VGG16_PARAMS, VGG16_MACS = TORCHVISION["vgg16"]


def tiny_net(width: int) -> tuple[int, int]:
    """Params and MACs of fixtures/user_model.py's TinyNet at 1x3x224x224 with 10 classes."""
    conv_params, fc_params = 3 * width * 9 + width, width * 10 + 10
    return conv_params + fc_params, 224 * 224 * width * 27 + width * 10


@dataclasses.dataclass(frozen=True)
class Result:
    """What one `archstat` invocation returned and printed."""

    code: int
    out: str
    err: str


Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `archstat ARGS...` in-process; return the exit code and what it printed."""

    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def ok(result: Result) -> Result:
    """The result of a run that must succeed quietly."""
    assert result.code == 0, result.err
    assert result.err == ""
    return result


def summary_json(cli: Cli, *args: str | Path) -> dict[str, Any]:
    """`archstat summary ARGS --format json`, parsed."""
    return json.loads(ok(cli("summary", *args, "--format", "json")).out)


def assert_one_line_error(result: Result, code: int, fragments: Iterable[str] = ()) -> None:
    """The CLI's promise: one line on stderr, this exit code, no traceback."""
    assert result.code == code, result.err
    assert result.err.startswith("archstat: error: "), result.err
    assert result.err.count("\n") == 1 and result.err.endswith("\n"), result.err
    assert "Traceback" not in result.err + result.out
    for fragment in fragments:
        assert fragment in result.err


def flat(text: str) -> str:
    """Whitespace collapsed, so that phrases the table wrapped still match."""
    return " ".join(text.split())


def table_paths(text: str, known: Iterable[str]) -> list[str]:
    """Layer paths in the first column of a terminal table, in order."""
    names = set(known)
    return [line.split()[0] for line in text.splitlines() if line.split() and line.split()[0] in names]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def vgg16(cli: Cli) -> dict[str, Any]:
    return summary_json(cli, "vgg16")


# --- archstat list ----------------------------------------------------------------------------


def test_list_table_shows_every_registered_name(cli: Cli) -> None:
    names = [info.name for info in archstat.list_models()]
    result = ok(cli("list"))
    assert table_paths(result.out, names) == names
    assert f"archstat zoo: {len(names)} networks" in result.out


def test_list_json_has_the_documented_fields(cli: Cli) -> None:
    entries = json.loads(ok(cli("list", "--format", "json")).out)
    assert [e["name"] for e in entries] == [info.name for info in archstat.list_models()]
    for entry in entries:
        assert {"name", "paper", "year", "variant", "input_size", "params"} <= entry.keys()
    vgg16 = next(e for e in entries if e["name"] == "vgg16")
    assert (vgg16["params"], vgg16["year"], vgg16["variant"], vgg16["input_size"]) == (
        VGG16_PARAMS, 2014, "D", [3, 224, 224]
    )


def test_list_pattern_filters_names(cli: Cli) -> None:
    entries = json.loads(ok(cli("list", "vgg1*", "--format", "json")).out)
    assert [e["name"] for e in entries] == [info.name for info in archstat.list_models("vgg1*")]
    assert "vgg16" in {e["name"] for e in entries}
    table = ok(cli("list", "resnet*")).out
    everything = [info.name for info in archstat.list_models()]
    assert table_paths(table, everything) == [info.name for info in archstat.list_models("resnet*")]


def test_list_kind_block_shows_only_blocks(cli: Cli) -> None:
    entries = json.loads(ok(cli("list", "--kind", "block", "--format", "json")).out)
    blocks = [info.name for info in archstat.list_models(kind="block")]
    assert blocks and [e["name"] for e in entries] == blocks
    assert {e["kind"] for e in entries} == {"block"}


def test_list_csv_and_markdown_name_the_same_networks(cli: Cli) -> None:
    names = [info.name for info in archstat.list_models("vgg*")]
    rows = list(csv.DictReader(io.StringIO(ok(cli("list", "vgg*", "--format", "csv")).out)))
    assert [r["name"] for r in rows] == names
    assert next(r for r in rows if r["name"] == "vgg16")["params"] == str(VGG16_PARAMS)
    markdown = ok(cli("list", "vgg*", "--format", "markdown")).out
    rows = [line for line in markdown.splitlines() if line.startswith("| ")][1:]  # after the header
    assert [line.split("|")[1].strip() for line in rows] == names


# --- archstat summary: formats ------------------------------------------------------------------


def test_summary_table_of_vgg16(cli: Cli, vgg16: dict[str, Any]) -> None:
    out = ok(cli("summary", "vgg16")).out
    text = flat(out)
    assert "MACs = multiply-accumulates" in text
    assert "a multiply-add counted as 2" in text
    assert f"{VGG16_PARAMS:,}" == "138,357,544" and "138,357,544" in text
    assert f"{VGG16_MACS:,}" in text
    assert "GMAC" in text and "MiB" in text
    paths = [layer["path"] for layer in vgg16["layers"][1:]]
    assert table_paths(out, paths) == paths
    assert {f"features.{i}" for i in range(31)} <= set(paths)


def test_summary_depth_1_shows_only_top_level_rows(cli: Cli, vgg16: dict[str, Any]) -> None:
    out = ok(cli("summary", "vgg16", "--depth", "1")).out
    every_path = [layer["path"] for layer in vgg16["layers"][1:]]
    assert table_paths(out, every_path) == ["features", "avgpool", "classifier"]
    assert "138,357,544" in out


def test_summary_json_follows_the_schema(vgg16: dict[str, Any]) -> None:
    assert {"model", "input_shape", "dtype", "conventions", "totals", "layers"} <= vgg16.keys()
    assert (vgg16["model"], vgg16["input_shape"], vgg16["dtype"]) == ("vgg16", [1, 3, 224, 224], "float32")
    assert "multiply-accumulate" in vgg16["conventions"]["macs"]
    assert "multiply-add counted as 2" in vgg16["conventions"]["flops"]
    totals = vgg16["totals"]
    assert {"params", "trainable_params", "macs", "flops", "activation_bytes", "peak_activation_bytes",
            "training_activation_bytes", "param_bytes", "partial"} <= totals.keys()
    for layer in vgg16["layers"]:
        assert {"path", "type", "input_shapes", "output_shape", "params", "macs", "flops",
                "activation_bytes", "by_category"} <= layer.keys()
    assert vgg16["layers"][0]["path"] == ""
    assert vgg16["layers"][0]["output_shape"] == [1, 1000]


def test_summary_json_totals_match_published_vgg16(vgg16: dict[str, Any]) -> None:
    totals = vgg16["totals"]
    assert (totals["params"], totals["macs"]) == (VGG16_PARAMS, VGG16_MACS) == (138_357_544, 15_470_264_320)
    assert totals["trainable_params"] == VGG16_PARAMS
    assert totals["param_bytes"] == 4 * VGG16_PARAMS
    assert totals["partial"] is False
    assert totals["flops"] > 2 * totals["macs"]
    assert sum(cost["flops"] for cost in totals["by_category"].values()) == totals["flops"]


def test_summary_csv_has_a_row_per_layer(cli: Cli, vgg16: dict[str, Any]) -> None:
    layers_block = ok(cli("summary", "vgg16", "--format", "csv")).out.split("\n\n")[0]  # then totals and notes
    rows = list(csv.DictReader(io.StringIO(layers_block)))
    assert len(rows) == len(vgg16["layers"]) - 1
    assert [r["path"] for r in rows] == [layer["path"] for layer in vgg16["layers"][1:]]
    assert sum(int(r["macs"]) for r in rows if r["is_leaf"] == "True") == VGG16_MACS
    assert sum(int(r["params"]) for r in rows if r["is_leaf"] == "True") == VGG16_PARAMS


def test_summary_markdown(cli: Cli, vgg16: dict[str, Any]) -> None:
    out = ok(cli("summary", "vgg16", "--format", "markdown")).out
    lines = out.splitlines()
    assert "| Layer | Type | Output shape | RF | Params | MACs | FLOPs | Activations |" in lines
    assert sum(line.startswith("| `") for line in lines) == len(vgg16["layers"]) - 1
    assert "| `features.0` | Conv2d | 1x64x224x224 | 3 | 1,792 |" in out
    # REFERENCES.md section 3: conv5_3 sees 196 pixels, pool5 212.
    assert "| `features.28` | Conv2d | 1x512x14x14 | 196 |" in out
    assert "| `features.30` | MaxPool2d | 1x512x7x7 | 212 |" in out
    assert "138,357,544" in out and "MACs = multiply-accumulates" in out


def test_summary_latex(cli: Cli, vgg16: dict[str, Any]) -> None:
    out = ok(cli("summary", "vgg16", "--format", "latex")).out
    for command in ("\\begin{tabular}", "\\toprule", "\\midrule", "\\bottomrule", "\\end{tabular}"):
        assert command in out
    assert sum(line.startswith("\\texttt{") for line in out.splitlines()) == len(vgg16["layers"]) - 1
    assert "\\texttt{features.0} & Conv2d" in out


def test_summary_latex_escapes_underscores(cli: Cli) -> None:
    out = ok(cli("summary", "lenet5_modern", "--format", "latex")).out
    assert "lenet5\\_modern" in out
    assert "lenet5_modern" not in out


# --- archstat summary: -o ---------------------------------------------------------------------


@pytest.mark.parametrize(("suffix", "looks_right"), [
    (".json", lambda text: json.loads(text)["totals"]["params"] == VGG16_PARAMS),
    (".csv", lambda text: text.startswith("path,type,")),
    (".md", lambda text: text.startswith("**vgg16")),
    (".tex", lambda text: "\\begin{tabular}" in text),
    (".txt", lambda text: "138,357,544" in text and "|" not in text),
])
def test_output_format_follows_the_suffix(cli: Cli, tmp_path: Path, suffix: str,
                                          looks_right: Callable[[str], bool]) -> None:
    target = tmp_path / f"vgg16{suffix}"
    result = cli("summary", "vgg16", "-o", target)
    assert result.code == 0 and result.out == ""
    assert result.err == f"wrote {target}\n"
    assert looks_right(target.read_text(encoding="utf-8"))
    assert files_in(tmp_path) == [target.name]  # no temporary file left beside it


def test_output_explicit_format_beats_the_suffix(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "vgg16.json"
    ok_code = cli("summary", "vgg16", "-o", target, "--format", "csv").code
    assert ok_code == 0 and target.read_text(encoding="utf-8").startswith("path,type,")


def test_output_replaces_an_existing_file(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old", encoding="utf-8")
    assert cli("summary", "lenet5", "-o", target).code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["model"] == "lenet5"
    assert files_in(tmp_path) == ["out.json"]


# --- archstat summary: options ----------------------------------------------------------------


def test_input_without_batch_means_a_batch_of_one(cli: Cli, vgg16: dict[str, Any]) -> None:
    assert summary_json(cli, "vgg16", "--input", "3x224x224") == vgg16
    assert summary_json(cli, "vgg16", "--input", "1x3x224x224") == vgg16


def test_batch_of_two_doubles_the_counts(cli: Cli, vgg16: dict[str, Any]) -> None:
    two = summary_json(cli, "vgg16", "--input", "2x3x224x224")
    assert two["input_shape"] == [2, 3, 224, 224]
    assert two["layers"][0]["output_shape"] == [2, 1000]
    one_totals, two_totals = vgg16["totals"], two["totals"]
    assert two_totals["macs"] == 2 * VGG16_MACS
    for key in ("flops", "activation_bytes", "input_bytes"):
        assert two_totals[key] == 2 * one_totals[key], key
    assert two_totals["params"] == VGG16_PARAMS


def test_num_classes_option_changes_the_head(cli: Cli) -> None:
    ten = summary_json(cli, "vgg16", "-O", "num_classes=10")
    assert ten["layers"][0]["output_shape"] == [1, 10]
    assert ten["layers"][-1]["path"] == "classifier.6"
    assert ten["layers"][-1]["output_shape"] == [1, 10]
    assert ten["totals"]["params"] == VGG16_PARAMS - (4096 * 1000 + 1000) + (4096 * 10 + 10)
    assert ten["totals"]["macs"] == VGG16_MACS - 4096 * 1000 + 4096 * 10


def test_bfloat16_halves_the_bytes(cli: Cli, vgg16: dict[str, Any]) -> None:
    half = summary_json(cli, "vgg16", "--dtype", "bfloat16")
    assert half["dtype"] == "bfloat16"
    assert half["totals"]["param_bytes"] * 2 == vgg16["totals"]["param_bytes"] == 4 * VGG16_PARAMS
    assert half["totals"]["activation_bytes"] * 2 == vgg16["totals"]["activation_bytes"]
    assert half["totals"]["macs"] == VGG16_MACS


@pytest.mark.parametrize("model", [
    "lenet5",
    "lenet5_modern",
    "resnet20",
])
def test_device_cpu_gives_the_same_counts_as_meta(cli: Cli, model: str) -> None:
    meta = summary_json(cli, model)
    cpu = summary_json(cli, model, "--device", "cpu")
    assert (meta.pop("device"), cpu.pop("device")) == ("meta", "cpu")
    assert cpu["totals"] == meta["totals"]
    assert cpu == meta


# --- archstat summary --check -----------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fvcore calls torch.jit.script
def test_check_agrees_on_conv_and_linear(cli: Cli) -> None:
    result = ok(cli("summary", "lenet5_modern", "--check"))
    verdicts = {line.split()[0]: line.split() for line in result.out.splitlines()
                if line.split() and line.split()[0] in ("conv", "linear")}
    assert "agree" in verdicts["conv"] and "agree" in verdicts["linear"]
    assert "meta-device counts equal the real CPU forward's" in result.out


def test_check_disagreement_exits_non_zero(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import archstat.studies.check as check

    reconcile = check.reconcile
    monkeypatch.setattr(check, "reconcile",
                        lambda *a, **k: dataclasses.replace(reconcile(*a, **k), meta_matches=False))
    result = cli("summary", "lenet5_modern", "--check")
    assert_one_line_error(result, 1, ["--check", "disagrees"])
    assert "MISMATCH" in result.out


def test_check_json_is_one_document(cli: Cli) -> None:
    document = json.loads(ok(cli("summary", "lenet5_modern", "--check", "--format", "json")).out)
    assert {"totals", "layers", "check"} <= document.keys()


def test_check_csv_is_csv(cli: Cli) -> None:
    out = ok(cli("summary", "lenet5_modern", "--check", "--format", "csv")).out
    assert not [line for line in out.splitlines() if line.startswith("|")]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fvcore calls torch.jit.script
def test_check_takes_any_output_structure(cli: Cli) -> None:
    """DataclassModel returns a dataclass: Linear 6->16 and 16->3 on 2 rows, 2 x (6 x 16 + 16 x 3) MACs."""
    document = json.loads(ok(cli("summary", "tests/fixtures/input_models.py:DataclassModel", "--input", "2x6",
                                 "--check", "--format", "json")).out)
    linear = next(r for r in document["check"]["categories"] if r["category"] == "linear")
    macs = 2 * (6 * 16 + 16 * 3)
    assert (linear["archstat_macs"], linear["fvcore"], linear["flop_counter_mode"]) == (macs, macs, 2 * macs)
    assert linear["verdict"] == "agree" and document["check"]["ok"]


# --- user models --------------------------------------------------------------------------------


@pytest.mark.parametrize(("attr", "options", "width"), [
    ("TinyNet", [], 4),
    ("TinyNet", ["-O", "width=8"], 8),
    ("make_net", ["-O", "width=8"], 8),
    ("INSTANCE", [], 4),
])
def test_user_model_file(cli: Cli, attr: str, options: list[str], width: int) -> None:
    analysis = summary_json(cli, f"{USER_MODEL}:{attr}", *options)
    assert analysis["model"] == attr
    assert analysis["input_shape"] == [1, 3, 224, 224]
    assert (analysis["totals"]["params"], analysis["totals"]["macs"]) == tiny_net(width)
    assert analysis["layers"][0]["output_shape"] == [1, 10]


def test_user_model_relative_path_and_input(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    # An imported model's shape is taken literally (issue 9): the batch is written out.
    analysis = summary_json(cli, "tests/fixtures/user_model.py:TinyNet", "--input", "1x3x32x32")
    assert analysis["input_shape"] == [1, 3, 32, 32]
    assert analysis["totals"]["macs"] == 32 * 32 * 4 * 27 + 40


def test_user_model_instance_on_cpu(cli: Cli) -> None:
    analysis = summary_json(cli, f"{USER_MODEL}:INSTANCE", "--device", "cpu")
    assert (analysis["totals"]["params"], analysis["totals"]["macs"]) == tiny_net(4)


def test_package_module_attr(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    analysis = summary_json(cli, "tests.fixtures.user_model:make_net", "-O", "width=8")
    assert (analysis["totals"]["params"], analysis["totals"]["macs"]) == tiny_net(8)
    identity = summary_json(cli, "torch.nn:Identity")
    assert (identity["model"], identity["totals"]["params"], identity["totals"]["macs"]) == ("Identity", 0, 0)


def test_package_module_attr_from_the_working_directory(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = "archstat_cli_test_cwd_models"
    shutil.copy(USER_MODEL, tmp_path / f"{name}.py")
    monkeypatch.chdir(tmp_path)
    # As under the console script: sys.path holds the script's folder, not the working directory.
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    try:
        assert summary_json(cli, f"{name}:TinyNet")["totals"]["params"] == tiny_net(4)[0]
    finally:
        sys.modules.pop(name, None)


# --- bad input: one line, non-zero exit, no traceback, no file ---------------------------------

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")

BAD_INPUT = [
    # model names
    pytest.param(["summary", "resnet5"], 2, ["unknown model 'resnet5'", "did you mean", "resnet50"],
                 id="unknown-model"),
    pytest.param(["summary", "qqqqqq"], 2, ["unknown model 'qqqqqq'", "archstat list"],
                 id="unknown-model-nothing-close"),
    # --input
    pytest.param(["summary", "vgg16", "--input", "3x"], 2, ["malformed --input '3x'"], id="input-trailing-x"),
    pytest.param(["summary", "vgg16", "--input", "0x3x224x224"], 2, ["malformed --input", "positive"],
                 id="input-zero"),
    pytest.param(["summary", "vgg16", "--input=-1x3x224x224"], 2, ["positive"], id="input-negative"),
    pytest.param(["summary", "vgg16", "--input", "abc"], 2, ["malformed --input 'abc'"], id="input-letters"),
    pytest.param(["summary", "vgg16", "--input", "1.5x3x224x224"], 2, ["malformed --input"],
                 id="input-fraction"),
    pytest.param(["summary", "vgg16", "--input", ""], 2, ["malformed --input"], id="input-empty"),
    pytest.param(["summary", "vgg16", "--input", "1x3x16x16"], 1, ["features.30", "small", "1x3x16x16"],
                 id="input-too-small"),
    pytest.param(["summary", "vgg16", "--input", "3x224"], 1, ["features.0", "Conv2d"],
                 id="input-wrong-rank"),
    # the forward raises
    pytest.param(["summary", "{user}:Exploding"], 1,
                 ["Exploding raised ValueError", "at body.1 (Boom", "boom: this layer always fails"],
                 id="forward-raises"),
    # -o
    pytest.param(["summary", "vgg16", "-o", "{tmp}/missing/out.json"], 2, ["does not exist"],
                 id="output-missing-directory"),
    pytest.param(["summary", "vgg16", "-o", "{tmp}"], 2, ["is a directory"], id="output-is-a-directory"),
    pytest.param(["summary", "vgg16", "--input", "1x3x16x16", "-o", "{tmp}/out.json"], 1, ["features.30"],
                 id="output-with-failing-model"),
    pytest.param(["summary", "vgg16", "-O", "foo=1", "-o", "{tmp}/out.json"], 2, ["foo"],
                 id="output-with-bad-option"),
    # -O
    pytest.param(["summary", "vgg16", "-O", "=3"], 2, ["malformed -O '=3'"], id="option-no-key"),
    pytest.param(["summary", "vgg16", "-O", "noequals"], 2, ["malformed -O 'noequals'"],
                 id="option-no-equals"),
    pytest.param(["summary", "vgg16", "-O", "1x=3"], 2, ["malformed -O '1x=3'"], id="option-bad-key"),
    pytest.param(["summary", "vgg16", "-O", "foo=1"], 2, ["cannot build vgg16", "foo"], id="option-unknown"),
    # --device
    pytest.param(["summary", "lenet5", "--device", "cuda"], 2, ["CUDA is not available"], id="device-cuda",
                 marks=NO_CUDA),
    pytest.param(["summary", "lenet5", "--device", "tpu"], 2, ["unknown device 'tpu'"], id="device-unknown"),
    # user models
    pytest.param(["summary", "{fixtures}/missing.py:Net"], 2, ["no such file"], id="file-missing"),
    pytest.param(["summary", "{user}:missing_attr"], 2, ["no attribute 'missing_attr'"], id="attr-missing"),
    pytest.param(["summary", "{user}:NOT_A_MODULE"], 2, ["NOT_A_MODULE is a str", "not an nn.Module"],
                 id="attr-is-a-string"),
    pytest.param(["summary", "{user}:Config"], 2, ["Config is a class but not an nn.Module"],
                 id="attr-is-another-class"),
    pytest.param(["summary", "{user}:make_string"], 2, ["make_string returned str"],
                 id="factory-returns-a-string"),
    pytest.param(["summary", "{user}:INSTANCE", "-O", "width=8"], 2, ["module instance"],
                 id="options-for-an-instance"),
    pytest.param(["summary", "{user}:TinyNet", "-O", "depth=3"], 2, ["cannot build TinyNet", "depth"],
                 id="user-class-unknown-option"),
    pytest.param(["summary", "archstat_no_such_module:Net"], 2, ["cannot import archstat_no_such_module"],
                 id="module-missing"),
    pytest.param(["summary", ":Net"], 2, ["cannot read ':Net'"], id="spec-without-module"),
    pytest.param(["summary", "{broken}:Net"], 1, ["importing", "RuntimeError", "cannot be imported"],
                 id="file-raises-on-import"),
    pytest.param(["summary", "{user}:make_failing"], 1, ["building make_failing raised ValueError"],
                 id="factory-raises"),
    # click's own validation
    pytest.param(["summary"], 2, ["Missing argument 'MODEL'"], id="model-missing"),
    pytest.param(["frobnicate"], 2, ["No such command 'frobnicate'"], id="unknown-command"),
    pytest.param(["summary", "vgg16", "--frob"], 2, ["No such option"], id="unknown-flag"),
    pytest.param(["summary", "vgg16", "--format", "xml"], 2, ["--format"], id="unknown-format"),
    pytest.param(["summary", "vgg16", "--dtype", "int8"], 2, ["--dtype"], id="unknown-dtype"),
    pytest.param(["summary", "vgg16", "--depth", "0"], 2, ["--depth"], id="depth-zero"),
    # archstat list
    pytest.param(["list", "zzz*"], 2, ["no model matches 'zzz*'"], id="list-no-match"),
    pytest.param(["list", "vgg16", "--kind", "block"], 2, ["no model matches 'vgg16'"],
                 id="list-kind-no-match"),
    pytest.param(["list", "--kind", "foo"], 2, ["--kind"], id="list-unknown-kind"),
]


@pytest.mark.parametrize(("args", "code", "fragments"), BAD_INPUT)
def test_bad_input_is_one_line_and_leaves_no_file(cli: Cli, tmp_path: Path, args: list[str], code: int,
                                                  fragments: list[str]) -> None:
    argv = [a.format(tmp=tmp_path, user=USER_MODEL, broken=BROKEN_MODEL, fixtures=FIXTURES) for a in args]
    result = cli(*argv)
    assert_one_line_error(result, code, fragments)
    assert result.out == ""
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("failing", [["--input", "1x3x16x16"], ["-O", "foo=1"], ["--input", "3x"]])
def test_failed_run_leaves_an_existing_output_untouched(cli: Cli, tmp_path: Path, failing: list[str]) -> None:
    target = tmp_path / "out.json"
    target.write_text("precious", encoding="utf-8")
    result = cli("summary", "vgg16", *failing, "-o", target)
    assert result.code != 0 and result.err.count("\n") == 1
    assert target.read_text(encoding="utf-8") == "precious"
    assert files_in(tmp_path) == ["out.json"]


def test_failed_write_leaves_no_temporary_file(cli: Cli, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import archstat.report.output as output

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "replace", refuse)
    target = tmp_path / "out.json"
    target.write_text("precious", encoding="utf-8")
    assert_one_line_error(cli("summary", "lenet5", "-o", target), 2, ["cannot write", "No space left"])
    assert target.read_text(encoding="utf-8") == "precious"
    assert files_in(tmp_path) == ["out.json"]


def test_unexpected_exception_is_one_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import archstat.report.summary as tables

    def explode(*args: object) -> str:
        raise RuntimeError("first line\nsecond line")

    monkeypatch.setattr(tables, "summary_document", explode)
    monkeypatch.delenv("ARCHSTAT_DEBUG", raising=False)
    result = cli("summary", "lenet5", "--format", "csv")
    assert result.code == 3
    assert result.err == ("archstat: internal error: RuntimeError: first line second line "
                          "(set ARCHSTAT_DEBUG=1 for the traceback)\n")
    monkeypatch.setenv("ARCHSTAT_DEBUG", "1")
    with pytest.raises(RuntimeError, match="first line"):
        cli("summary", "lenet5", "--format", "csv")


def test_interrupt_is_one_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # `archstat.analysis.analyze` the attribute is the function; the module is in sys.modules.
    analyze = importlib.import_module("archstat.analysis.analyze")

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(analyze, "analyze", interrupt)
    result = cli("summary", "lenet5")
    assert (result.code, result.out) == (130, "")
    # click echoes a newline first (past the terminal's ^C) and turns the interrupt into Abort.
    assert [line for line in result.err.splitlines() if line] in (["archstat: aborted"],
                                                                   ["archstat: interrupted"])


# --- the group itself ---------------------------------------------------------------------------


def test_no_arguments_prints_help(cli: Cli) -> None:
    out = ok(cli()).out
    assert "summary" in out and "list" in out and "multiply-accumulates" in out


def test_version(cli: Cli) -> None:
    assert ok(cli("--version")).out == f"archstat, version {archstat.__version__}\n"


# --- the installed console script ---------------------------------------------------------------


def test_console_script_exits_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    beside_python = Path(sys.executable).parent / "archstat"
    script = str(beside_python) if beside_python.is_file() else shutil.which("archstat")
    if script is None:
        pytest.skip("the archstat console script is not installed")
    env = {k: v for k, v in os.environ.items() if k != "ARCHSTAT_DEBUG"}
    target = tmp_path / "out.json"
    proc = subprocess.run([script, "summary", "vgg16", "--input", "1x3x16x16", "-o", str(target)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("archstat: error: input 1x3x16x16 is too small for vgg16")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "features.30" in proc.stderr
    assert not target.exists()

"""`archstat compare`: the numbers against ../shared/REFERENCES.md, every format, the bubble chart
and its export, and one-line errors for bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from archstat.cli.main import main
from archstat.errors import ArchstatError, UsageError
from archstat.models import model_info
from archstat.report import bubble
from archstat.report.compare import CONVENTION, render_comparison
from archstat.report.writers import FORMATS
from archstat.studies import published
from archstat.studies.compare import ComparisonRow, Latency, compare, expand_models, load_latency
from tests.oracles import TOP1, TORCHVISION, TORCHVISION_MODERN

REFERENCES = Path(os.environ.get("ARCHSTAT_REFERENCES", Path(__file__).parents[2] / "shared" / "REFERENCES.md"))
ZOO_NAME = {"alexnet": "alexnet_owt"}       # REFERENCES.md uses torchvision's names

# torchvision-layout networks across the families, and two without a published top-1
CHECKED = ("alexnet_owt", "vgg16", "vgg11_bn", "inception_v3", "resnet50", "densenet121", "mobilenet_v2",
           "squeezenet1_1")
UNPUBLISHED = ("alexnet", "lenet5")


@pytest.fixture(scope="module")
def rows() -> tuple[ComparisonRow, ...]:
    return compare([*CHECKED, *UNPUBLISHED], latency={"resnet50": Latency(6.8, "NVIDIA H100", 1)})


@pytest.fixture(scope="module")
def zoo_rows() -> tuple[ComparisonRow, ...]:
    """Every network with a published top-1, at its published params and MACs (the chart needs no more)."""
    return tuple(
        ComparisonRow(name, (1, 3, 224, 224), "float32", params, macs, 2 * macs, 0, 0, 0, 4 * params, None,
                      TOP1[name], "REFERENCES.md", None, False)
        for name, (params, macs) in TORCHVISION.items()
    )


def by_name(rows: Iterable[ComparisonRow]) -> dict[str, ComparisonRow]:
    return {r.model: r for r in rows}


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(result: tuple[int, str, str], fragment: str) -> None:
    code, out, err = result
    assert code != 0
    assert err.startswith("archstat: error: ") and err.count("\n") == 1, err
    assert fragment in err
    assert "Traceback" not in out + err


# --- the published table ----------------------------------------------------------------------


def _reference_top1(text: str) -> dict[str, float]:
    parsed: dict[str, float] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not re.match(r"^[a-z]", cells[0]):
            continue
        names = [n.strip() for n in re.sub(r"\(.*?\)", "", cells[0]).split("/")]
        accs = re.findall(r"\d+\.\d+", cells[3])
        if not accs:
            continue
        for name, acc in zip(names, accs, strict=True):
            parsed[ZOO_NAME.get(name, name)] = float(acc)
    return parsed


@pytest.mark.skipif(not REFERENCES.is_file(), reason="shared/REFERENCES.md is not beside the repository")
def test_oracle_top1_is_references_section_1() -> None:
    assert _reference_top1(REFERENCES.read_text(encoding="utf-8")) == TOP1


def test_published_table_is_the_oracle() -> None:
    """Section 1 of REFERENCES.md, plus the torchvision-metadata figures of the modern zoo models."""
    modern = {name: top1 for name, (_, _, top1) in TORCHVISION_MODERN.items()}
    assert published.top1_table() == TOP1 | modern
    assert set(published.top1_table()) == set(TORCHVISION) | set(modern)


def test_the_registry_holds_every_model_fact() -> None:
    vgg16, resnet20 = model_info("vgg16"), model_info("resnet20")
    assert vgg16.top1 is not None and vgg16.top1.top1 == TOP1["vgg16"] and vgg16.family == "vgg"
    assert (resnet20.num_classes, resnet20.family, resnet20.top1) == (10, "cifar_resnet", None)
    assert model_info("conv_stack").num_classes is None and model_info("conv_stack").kind == "block"


def test_published_top1_only_for_torchvision_layouts() -> None:
    accuracy = published.published_top1("resnet50")
    assert accuracy is not None and accuracy.top1 == TOP1["resnet50"] and "torchvision" in accuracy.source
    # the 2012 AlexNet, the paper-v1 ResNet and the paper's GoogLeNet are not torchvision's networks
    for name in ("alexnet", "resnet50_v1", "googlenet", "lenet5", "inception_v4"):
        assert published.published_top1(name) is None


# --- the comparison -------------------------------------------------------------------------


def test_params_macs_and_top1_match_references(rows: tuple[ComparisonRow, ...]) -> None:
    found = by_name(rows)
    assert [r.model for r in rows] == [*CHECKED, *UNPUBLISHED]
    for name in CHECKED:
        row = found[name]
        assert (row.params, row.macs) == TORCHVISION[name], name
        assert row.top1 == TOP1[name]
        assert row.flops >= 2 * row.macs
        assert row.param_bytes == 4 * row.params
        assert min(row.peak_activation_bytes, row.activation_bytes, row.training_activation_bytes) > 0
    assert found["inception_v3"].input_shape == (1, 3, 299, 299)
    assert found["vgg16"].receptive_field == (212, 212)        # REFERENCES.md section 3: pool5
    for name in UNPUBLISHED:
        assert found[name].top1 is None and found[name].top1_source is None


def test_latency_only_where_given(rows: tuple[ComparisonRow, ...]) -> None:
    found = by_name(rows)
    assert found["resnet50"].latency == Latency(6.8, "NVIDIA H100", 1)
    assert all(r.latency is None for r in rows if r.model != "resnet50")


def test_input_without_batch_and_patterns() -> None:
    (row,) = compare(["resnet18"], input_shape=(3, 112, 112))
    assert row.input_shape == (1, 3, 112, 112)
    assert expand_models(["vgg16", "vgg1?", "vgg11"]) == ["vgg16", "vgg11", "vgg13", "vgg19"]


MEASURED = Path(__file__).resolve().parent.parent / "reports" / "measurements"


def test_latency_file() -> None:
    files = [MEASURED / "cpu_resnet50.json", MEASURED / "cpu_vgg16.json"]
    device = "cpu: Intel(R) Xeon(R) Processor, float32"
    assert load_latency(files) == {"resnet50": Latency(521.932877, device, 8), "vgg16": Latency(212.883888, device, 1)}
    (row,) = compare(["resnet50"], latency=load_latency(files))
    assert row.latency == Latency(521.932877, device, 8)


@pytest.mark.parametrize("content", [
    "{", "[]", '{"schema_version": 1}', '{"schema_version": 3, "model": "a"}', '{"schema_version": 2}',
])
def test_bad_latency_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "latency.json"
    path.write_text(content)
    with pytest.raises(UsageError, match="--latency"):
        load_latency([path], "--latency")


def test_one_result_per_model() -> None:
    with pytest.raises(UsageError, match="a second result for 'vgg16'"):
        load_latency([MEASURED / "cpu_vgg16.json"] * 2, "--latency")


# --- formats ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders(rows: tuple[ComparisonRow, ...], fmt: str) -> None:
    text = render_comparison(rows, fmt)
    assert "resnet50" in text and "lenet5" in text


def test_table(rows: tuple[ComparisonRow, ...]) -> None:
    text = render_comparison(rows, "table")
    flat = " ".join(text.split())
    assert CONVENTION in flat
    assert "25,557,032" in text and "4.09 G" in text and "6.80 ms" in text and "not measured" in text
    assert "76.130" in text
    # right-aligned numbers: the Params column ends at the same place on every row
    ends = {line.index("25,557,032") + len("25,557,032") for line in text.splitlines() if "25,557,032" in line}
    ends |= {line.index("138,357,544") + len("138,357,544") for line in text.splitlines() if "138,357,544" in line}
    assert len(ends) == 1


def test_json_and_csv_carry_raw_numbers(rows: tuple[ComparisonRow, ...]) -> None:
    data = json.loads(render_comparison(rows, "json"))
    assert data["schema_version"] == 1 and data["convention"] == CONVENTION
    models = {m["model"]: m for m in data["models"]}
    assert models["vgg16"]["params"] == TORCHVISION["vgg16"][0]
    assert models["vgg16"]["latency_ms"] is None and models["resnet50"]["latency_ms"] == 6.8
    assert models["lenet5"]["top1"] is None
    table = {r["model"]: r for r in csv.DictReader(io.StringIO(render_comparison(rows, "csv")))}
    assert int(table["resnet50"]["macs"]) == TORCHVISION["resnet50"][1]
    assert table["vgg16"]["receptive_field"] == "212x212" and table["lenet5"]["top1"] == ""


def test_markdown_and_latex(rows: tuple[ComparisonRow, ...]) -> None:
    markdown = render_comparison(rows, "markdown")
    assert "| `resnet50` |" in markdown and CONVENTION in markdown
    latex = render_comparison(rows, "latex")
    assert "\\toprule" in latex and "inception\\_v3" in latex and "Top-1 \\%" in latex


# --- the bubble chart -------------------------------------------------------------------------


def model_traces(fig: Any) -> list[Any]:
    return [t for t in fig.data if t.meta == "model"]


def test_bubble_one_trace_per_model_with_top1(rows: tuple[ComparisonRow, ...]) -> None:
    fig = bubble.bubble_figure(rows)
    traces = model_traces(fig)
    assert [t.name for t in traces] == list(CHECKED)
    assert "lenet5" in fig.layout.title.text and "alexnet" in fig.layout.title.text
    assert "GMACs" in fig.layout.xaxis.title.text and "%" in fig.layout.yaxis.title.text
    assert fig.layout.xaxis.type == "log"


def test_bubble_area_grows_with_params(rows: tuple[ComparisonRow, ...]) -> None:
    traces = model_traces(bubble.bubble_figure(rows))
    found = by_name(rows)
    markers = [t.marker for t in traces]
    assert {m.sizemode for m in markers} == {"area"} and len({m.sizeref for m in markers}) == 1
    by_size = sorted(traces, key=lambda t: t.marker.size[0])
    by_params = sorted(traces, key=lambda t: found[t.name].params)
    assert by_size == by_params
    assert [t.marker.size[0] for t in traces] == [found[t.name].params for t in traces]
    colors = [m.color for m in markers]
    assert len(set(colors)) == len(colors)         # few models: one colour each


def test_bubble_labels_do_not_overlap(zoo_rows: tuple[ComparisonRow, ...]) -> None:
    placed = bubble.layout(zoo_rows)
    boxes = [label.box for label in placed.labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a.overlap(b) == 0
        frame = placed.frame
        assert frame.left <= a.cx - a.hw and a.cx + a.hw <= frame.left + frame.width
        assert frame.top <= a.cy - a.hh and a.cy + a.hh <= frame.top + frame.height
    for (x, y, r), label in zip(placed.bubbles, placed.labels, strict=True):
        assert label.box.depth_into(x, y, r) == 0          # no label on its own bubble


def test_bubble_needs_a_top1(rows: tuple[ComparisonRow, ...]) -> None:
    with pytest.raises(ArchstatError, match="top-1"):
        bubble.bubble_figure([r for r in rows if r.top1 is None])


def test_plot_suffix() -> None:
    assert bubble.plot_format("a/b.SVG") == "svg"
    with pytest.raises(UsageError, match="suffix"):
        bubble.plot_format("chart.gif")


# --- the command ------------------------------------------------------------------------------


def test_cli_json_and_html_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out, plot = tmp_path / "cmp.json", tmp_path / "cmp.html"
    code, _, err = run(capsys, "compare", "resnet18", "vgg11", "lenet5", "-o", out, "--plot", plot)
    assert code == 0, err
    data = json.loads(out.read_text())
    assert [m["model"] for m in data["models"]] == ["resnet18", "vgg11", "lenet5"]
    html = plot.read_text()
    assert "resnet18" in html and len(html) > 1_000_000     # plotly.js is embedded
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", html)


def test_cli_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "compare", "resnet18", "--input", "3x224x224")
    assert code == 0 and err == ""
    assert "11,689,512" in out and CONVENTION in " ".join(out.split())


def _browser() -> str | None:
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
    return os.environ.get("BROWSER_PATH") or next(filter(None, map(shutil.which, names)), None)


def test_svg_export(rows: tuple[ComparisonRow, ...], tmp_path: Path) -> None:
    pytest.importorskip("kaleido")
    if _browser() is None:
        pytest.skip("no Chrome or Chromium for kaleido")
    path = tmp_path / "chart.svg"
    bubble.export(bubble.bubble_figure(rows), path)
    svg = path.read_text()
    assert svg.lstrip().startswith("<svg") and "resnet50" in svg and "squeezenet1_1" in svg


@pytest.mark.parametrize(("args", "fragment"), [
    (("resnt50",), "unknown model"),
    (("zzz*",), "no zoo network matches"),
    (("resnet18", "--input", "3xx"), "malformed --input"),
    (("resnet18", "--plot", "chart.gif"), "unknown suffix"),
    (("resnet18", "--latency", "missing.json"), "no such file"),
    (("lenet5", "--plot", "chart.html"), "published top-1"),
    (("resnet18", "-o", "no/such/dir/out.json"), "does not exist"),
])
def test_bad_input_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               args: tuple[str, ...], fragment: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(run(capsys, "compare", *args), fragment)
    assert list(tmp_path.iterdir()) == []                     # nothing left behind


def test_bad_latency_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "latency.json"
    data = json.loads((MEASURED / "cpu_resnet50.json").read_text())
    data["result"]["batches"][0]["whole"]["median_ms"] = "fast"
    path.write_text(json.dumps(data))
    assert_one_line_error(run(capsys, "compare", "resnet18", "--latency", path),
                          "result.batches[0].whole.median_ms must be a number, got str")

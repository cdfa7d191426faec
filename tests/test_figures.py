"""`archstat figures`: the committed gallery is current, and its numbers are the published ones.

The tables are regenerated (images are not: they need a browser) and compared with
reports/figures; the numbers are checked against ../shared/REFERENCES.md section 2 and against
closed forms written out here from the papers' filter counts, not against a previous run.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

from archstat.analysis.analyze import analyze
from archstat.cli.main import main
from archstat.report import figures
from archstat.studies import lectures
from tests.browsers import export_browser
from tests.oracles import TORCHVISION

REPO = Path(__file__).resolve().parents[1]
GALLERY_DIR = REPO / "reports" / "figures"
REFRESH = "run `archstat figures --out reports/figures` to refresh the gallery"

FC6 = 102_764_544
VGG16_PARAMS = TORCHVISION["vgg16"][0]


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    """Every figure's data, computed once for the module."""
    return {entry.name: entry.data() for entry in figures.GALLERY}


def by_name(name: str) -> figures.GalleryFigure:
    return next(e for e in figures.GALLERY if e.name == name)


# -- the committed gallery ------------------------------------------------------------------------

def test_committed_tables_are_current(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    """Regenerate every table into tmp_path and compare with reports/figures byte for byte."""
    stale = []
    for entry in figures.GALLERY:
        for written in figures.write_tables(entry, frames[entry.name], tmp_path):
            committed = GALLERY_DIR / written.name
            if not committed.is_file() or committed.read_bytes() != written.read_bytes():
                stale.append(written.name)
    assert not stale, f"stale or missing in reports/figures: {', '.join(stale)}; {REFRESH}"


def test_committed_images_exist() -> None:
    missing = [f"{e.name}.svg" for e in figures.GALLERY if not (GALLERY_DIR / f"{e.name}.svg").is_file()]
    assert not missing, f"missing in reports/figures: {', '.join(missing)}; {REFRESH}"


def test_reports_readme_shows_every_figure_and_table() -> None:
    """reports/README.md shows each SVG with its current Markdown table (update it by hand with the gallery)."""
    readme = (REPO / "reports" / "README.md").read_text(encoding="utf-8")
    for entry in figures.GALLERY:
        assert f"(figures/{entry.name}.svg)" in readme, entry.name
        table = (GALLERY_DIR / f"{entry.name}.md").read_text(encoding="utf-8")
        assert table.strip() in readme, f"reports/README.md shows an old table for {entry.name}"


# -- 1. stacked 3×3 convs (REFERENCES section 2) ---------------------------------------------------

def test_stacked_convs_match_the_lecture(frames: dict[str, pd.DataFrame]) -> None:
    """Two 3×3 vs one 5×5 at 128 channels: 294,912 vs 409,600; three 3×3 vs one 7×7: 27·C² vs 49·C²."""
    df = frames["01_stacked_convs"]
    five = df[(df["field_px"] == 5) & (df["channels"] == 128)].iloc[0]
    assert (five["stack_weights"], five["single_weights"]) == (294_912, 409_600)
    for row in df[df["field_px"] == 7].to_dict("records"):
        c = row["channels"]
        assert (row["stack_weights"], row["single_weights"]) == (27 * c * c, 49 * c * c)
        assert (row["stack_nonlinearities"], row["single_nonlinearities"]) == (3, 1)
        h, w = map(int, row["size"].split("x"))
        assert (row["stack_macs"], row["single_macs"]) == (27 * c * c * h * w, 49 * c * c * h * w)
    md = (GALLERY_DIR / "01_stacked_convs.md").read_text(encoding="utf-8")
    assert "| 294,912 | 409,600 |" in md


def test_stack_calculator_agrees_with_the_analyzer() -> None:
    """The calculator's weights equal the parameters of the zoo's conv_stack block, built for real."""
    for k, n, field in ((3, 2, 5), (5, 1, 5), (3, 3, 7), (7, 1, 7)):
        measured = analyze("conv_stack", options={"k": k, "n": n, "channels": 128})
        assert measured.totals.params == n * k * k * 128 * 128, (k, n, field)


# -- 2. the 1×1 bottleneck -------------------------------------------------------------------------

def _conv(c_in: int, c_out: int, k: int, *, bias: bool = True) -> int:
    return c_in * c_out * k * k + (c_out if bias else 0)


def test_bottlenecks_from_the_papers_filter_counts(frames: dict[str, pd.DataFrame]) -> None:
    df = frames["02_bottlenecks"].set_index("lesson")
    # GoogLeNet 3a (REFERENCES section 2): in 192; #1×1 64; #3×3 reduce 96; #3×3 128; #5×5 reduce 16; #5×5 32;
    # pool proj 32. Naive: the same branches without the reductions and the projection.
    naive = _conv(192, 64, 1) + _conv(192, 128, 3) + _conv(192, 32, 5)
    reduced = (_conv(192, 64, 1) + _conv(192, 96, 1) + _conv(96, 128, 3) + _conv(192, 16, 1) + _conv(16, 32, 5)
               + _conv(192, 32, 1))
    assert (df.loc["Inception 3a", "params_without"], df.loc["Inception 3a", "params_with"]) == (naive, reduced)
    assert df.loc["Inception 3a", "params_factor"] == round(naive / reduced, 2)
    # ResNet at 256 channels: two 3×3 256→256 vs 256→64→64→256, no conv bias, BN 2 per channel.
    basic = 2 * _conv(256, 256, 3, bias=False) + 2 * (2 * 256)
    bottleneck = (_conv(256, 64, 1, bias=False) + _conv(64, 64, 3, bias=False) + _conv(64, 256, 1, bias=False)
                  + 2 * (64 + 64 + 256))
    assert (df.loc["ResNet block", "params_without"], df.loc["ResNet block", "params_with"]) == (basic, bottleneck)
    assert df.loc["ResNet block", "macs_without"] == 2 * 256 * 256 * 9 * 56 * 56
    assert df.loc["ResNet block", "macs_with"] == (256 * 64 + 64 * 64 * 9 + 64 * 256) * 56 * 56


def test_densenet_bottleneck_pays_only_on_wide_inputs(frames: dict[str, pd.DataFrame]) -> None:
    """Per layer 9·c·k weights without the 1×1 against c·4k + 9·4k·k with it: break-even near c = 230."""
    df = frames["02_bottlenecks"].set_index("lesson")
    k = 32
    for lesson, c0, layers in (("DenseNet-121 block 1", 64, 6), ("DenseNet-121 block 3", 256, 24)):
        inputs = [c0 + i * k for i in range(layers)]
        without = sum(2 * c + _conv(c, k, 3, bias=False) for c in inputs)
        with_ = sum(2 * c + _conv(c, 4 * k, 1, bias=False) + 2 * 4 * k + _conv(4 * k, k, 3, bias=False) for c in inputs)
        assert (df.loc[lesson, "params_without"], df.loc[lesson, "params_with"]) == (without, with_)
    assert df.loc["DenseNet-121 block 1", "params_factor"] < 1 < df.loc["DenseNet-121 block 3", "params_factor"]


# -- 3. VGG16: memory at the front, parameters at the back (REFERENCES section 2) ------------------

def test_vgg16_fc6_holds_most_parameters(frames: dict[str, pd.DataFrame]) -> None:
    df = frames["03_vgg16_memory_params"].set_index("layer")
    assert df.loc["fc6", "params"] == FC6
    assert df["params"].sum() == VGG16_PARAMS
    assert df.loc["fc8", "params_cum_pct"] == 100.0
    assert df.loc["fc6", "params_pct"] == round(100 * FC6 / VGG16_PARAMS, 2)
    assert df.loc["conv1_1", "activation_bytes"] == 64 * 224 * 224 * 4   # float32
    assert df["activation_bytes"].idxmax() == "conv1_1"
    assert df.loc["pool5", "activation_cum_pct"] > 99 and df.loc["pool5", "params_cum_pct"] < 11
    md = (GALLERY_DIR / "03_vgg16_memory_params.md").read_text(encoding="utf-8")
    assert "| fc6 | 1x4096 |" in md and "102,764,544" in md


# -- 4. receptive-field growth (REFERENCES section 3) ---------------------------------------------

def test_rf_growth(frames: dict[str, pd.DataFrame]) -> None:
    df = frames["04_rf_growth"]
    vgg = df[df["model"] == "vgg16"].set_index("path")
    assert vgg.loc["features.28", "rf_px"] == 196   # conv5_3
    assert vgg.loc["features.30", "rf_px"] == 212   # pool5
    assert vgg.loc["features.30", "jump_px"] == 32
    assert vgg.loc["features.2", "rf_px"] == 5 and vgg.loc["features.5", "rf_px"] == 10
    assert not vgg["covers_input"].any()              # 212 < 224: VGG16 never spans its input
    for model in ("resnet50", "googlenet"):
        part = df[df["model"] == model]
        assert part["covers_input"].sum() == 1
        assert part["rf_px"].is_monotonic_increasing and part["cum_macs"].is_monotonic_increasing
        assert part[part["covers_input"]]["rf_px"].iloc[0] >= 224
    assert vgg["cum_macs"].max() <= TORCHVISION["vgg16"][1]


# -- 5. the zoo ------------------------------------------------------------------------------------

def test_zoo_matches_torchvision(frames: dict[str, pd.DataFrame]) -> None:
    df = frames["05_zoo_bubble"].set_index("model")
    for name, (params, macs) in TORCHVISION.items():
        assert (df.loc[name, "params"], df.loc[name, "macs"]) == (params, macs), name
    assert df.loc["inception_v3", "inference_params"] == 23_834_568   # without the auxiliary head
    assert len(df) == len(lectures.list_models(kind="model"))


# -- 6. GAP head vs FC head ------------------------------------------------------------------------

def test_heads(frames: dict[str, pd.DataFrame]) -> None:
    df = frames["06_heads"].set_index("name")
    assert df.loc["gap_head", "head_params"] == 512 * 1000 + 1000
    assert df.loc["fc_head", "head_params"] == 512 * 7 * 7 * 1000 + 1000
    assert df.loc["vgg16", "head_params"] == FC6 + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)
    assert df.loc["vgg16", "head"] == "flatten + 3 FC"
    assert df.loc["resnet50", "head_params"] == 2048 * 1000 + 1000
    assert df.loc["googlenet", "head_params"] == 1024 * 1000 + 1000
    assert df.loc["resnet50", "model_params"] == TORCHVISION["resnet50"][0]
    assert {df.loc[n, "head"] for n in ("gap_head", "resnet50", "googlenet")} == {"GAP + FC"}


# -- table formats ---------------------------------------------------------------------------------

def test_latex_escapes_the_figures_symbols(frames: dict[str, pd.DataFrame]) -> None:
    entry = by_name("02_bottlenecks")
    text = figures.tables(entry, frames[entry.name])["tex"]
    assert "\\begin{tabular}" in text and "\\bottomrule" in text
    assert not set(text) & set("×→÷−·∝²"), "a symbol pdflatex cannot typeset"
    assert "without 1$\\times$1" in text


def test_csv_carries_raw_numbers(frames: dict[str, pd.DataFrame]) -> None:
    entry = by_name("01_stacked_convs")
    first = figures.tables(entry, frames[entry.name])["csv"].splitlines()
    assert first[0].startswith("field_px,channels,")
    assert "18432,25600" in first[1]


# -- the command -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (("--format", "gif"), "unknown --format 'gif'"),
    (("--format", ","), "--format is empty"),
])
def test_bad_options_are_one_line(args: tuple[str, ...], message: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gallery"
    assert main(["figures", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archstat: error: ") and message in err and err.count("\n") == 1
    assert not out.exists()


def test_out_must_be_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert main(["figures", "--out", str(target)]) == 2
    assert "not a directory" in capsys.readouterr().err


# -- image export (needs kaleido and a Chrome) -----------------------------------------------------

class _FakeRenderer:
    """A `figures._Renderer` stand-in: the first browser's page is not ready, or fails otherwise."""

    opened: ClassVar[list[_FakeRenderer]] = []
    first_error = "ReferenceError: kaleido_scopes is not defined"

    def __init__(self) -> None:
        self.closed = False
        _FakeRenderer.opened.append(self)

    def render(self, fig: object, fmt: str) -> bytes:
        from kaleido.errors import JavascriptError

        if self is _FakeRenderer.opened[0]:
            raise JavascriptError(f"{{'description': '{_FakeRenderer.first_error}'}}")
        return b"<svg>rendered</svg>"

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


def test_a_page_that_was_not_ready_is_rendered_again_in_a_fresh_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("kaleido")
    from kaleido.errors import JavascriptError

    monkeypatch.setattr(figures, "_Renderer", _FakeRenderer)
    monkeypatch.setattr(_FakeRenderer, "opened", [])
    fig = figures.go.Figure()
    assert figures.render_image(fig, "svg") == b"<svg>rendered</svg>"
    assert len(_FakeRenderer.opened) == 2 and all(r.closed for r in _FakeRenderer.opened)

    monkeypatch.setattr(_FakeRenderer, "opened", [])     # any other error is not retried
    monkeypatch.setattr(_FakeRenderer, "first_error", "TypeError: bad spec")
    with pytest.raises(JavascriptError, match="bad spec"):
        figures.render_image(fig, "svg")
    assert len(_FakeRenderer.opened) == 1



def test_export_svg_and_png(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    pytest.importorskip("kaleido")
    if export_browser() is None:
        pytest.skip("no Chrome or Chromium for kaleido")
    entry = by_name("06_heads")
    fig = entry.build(frames[entry.name])
    with figures.image_session():
        svg = figures.export(fig, tmp_path / "heads.svg").read_text(encoding="utf-8")
        png = figures.export(fig, tmp_path / "heads.png").read_bytes()
    assert svg.startswith("<svg") and "Global average pooling vs a fully connected head" in svg
    assert "513,000" in svg and "123,642,856" in svg      # the bars' labels: the plotted data
    assert svg.count('class="point"') >= len(frames[entry.name])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (figures.WIDTH * figures.PNG_SCALE, figures.HEIGHT * figures.PNG_SCALE)

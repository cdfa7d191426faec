"""Korean output: the gallery and the report in the seed notes' own terms, and Korean glyphs, not boxes.

The glyph test renders one figure with lang="ko" through kaleido's Chromium and checks the Korean
text three times: in the SVG (the title's Hangul is in a <text> element whose font stack names the
CJK font), in the PDF (the font is embedded) and in the PNG's pixels, against the same figure with
every Hangul syllable replaced by a private-use character no font has, which Chromium draws as
boxes. Without a Korean font Chromium
draws the Hangul as those same boxes and the two images are equal; the test then fails. It skips,
naming the reason, only where kaleido, a Chrome or Chromium, or a Korean font is missing.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import click
import pandas as pd
import plotly.graph_objects as go
import pytest
from click.testing import CliRunner

import archstat
from archstat.analysis.ops.costs import CONVENTIONS
from archstat.cli.main import main
from archstat.cli.options import lang_options
from archstat.report import figures, messages, style
from archstat.report.html import render_report
from archstat.studies import lectures

REPO = Path(__file__).resolve().parents[1]
KO_DIR = REPO / "reports" / "figures" / "ko"
REFRESH = "run `archstat figures --lang ko --out reports/figures/ko` to refresh the Korean gallery"
HANGUL = re.compile("[\uac00-\ud7a3]")
NO_GLYPH = "\ue000"           # private use: no font draws it, so Chromium draws its box
# the seed notes' terms (../shared/seeds), which a student must find in the Korean output
SEED_TERMS = ("수용 영역", "파라미터", "합성곱", "채널", "계층", "활성화 메모리", "연산량")


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    """The data of the figures cheap to compute (the zoo and the ERF are left to test_figures)."""
    cheap = ("01_stacked_convs", "02_bottlenecks", "03_vgg16_memory_params", "04_rf_growth", "06_heads")
    return {e.name: e.data() for e in figures.GALLERY if e.name in cheap}


def by_name(name: str) -> figures.GalleryFigure:
    return next(e for e in figures.GALLERY if e.name == name)


# -- the committed Korean gallery ------------------------------------------------------------------

def test_korean_tables_are_current(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    stale = []
    for name, df in frames.items():
        for written in figures.write_tables(by_name(name), df, tmp_path, "ko"):
            committed = KO_DIR / written.name
            if not committed.is_file() or committed.read_bytes() != written.read_bytes():
                stale.append(written.name)
    assert not stale, f"stale or missing in reports/figures/ko: {', '.join(stale)}; {REFRESH}"


def test_every_figure_is_in_the_korean_gallery_and_linked() -> None:
    missing = [f"{e.name}.{s}" for e in figures.GALLERY for s in ("svg", "md", "tex", "csv")
               if not (KO_DIR / f"{e.name}.{s}").is_file()]
    assert not missing, f"missing in reports/figures/ko: {', '.join(missing)}; {REFRESH}"
    readme = (REPO / "reports" / "README.md").read_text(encoding="utf-8")
    for entry in figures.GALLERY:
        assert f"(figures/ko/{entry.name}.svg)" in readme, f"reports/README.md does not link ko/{entry.name}.svg"


def test_korean_svgs_name_the_cjk_font_and_hold_korean_titles() -> None:
    for entry in figures.GALLERY:
        svg = (KO_DIR / f"{entry.name}.svg").read_text(encoding="utf-8")
        assert style.CJK_FONT in svg, entry.name
        assert entry.title("ko") in svg.replace("&amp;", "&"), entry.name


# -- the words -------------------------------------------------------------------------------------

def test_korean_tables_use_the_seed_terms_and_keep_names_and_symbols(frames: dict[str, pd.DataFrame]) -> None:
    shown = "".join(figures.tables(by_name(name), df, "ko")["md"] for name, df in frames.items())
    for term in ("수용 영역", "파라미터", "합성곱", "채널", "계층", "활성화 메모리"):
        assert term in shown, term
    for kept in ("VGG16", "ResNet-50", "GoogLeNet", "Inception 3a", "conv1_1", "fc6", "features.30", "MACs",
                 "GAP + FC", "1×1"):
        assert kept in shown, kept
    heads = figures.tables(by_name("06_heads"), frames["06_heads"], "ko")["md"]
    assert "평탄화 + FC 3개" in heads and "flatten" not in heads


def test_english_words_come_from_the_same_catalogue(frames: dict[str, pd.DataFrame]) -> None:
    """The catalogue's English is the data's English: a 1×1 pair or a head worded twice cannot drift."""
    for record in frames["02_bottlenecks"].to_dict("records"):
        for part, column in (("lesson", "lesson"), ("setting", "setting"), ("without", "without"), ("with", "with")):
            assert messages.text(f"figures.bottlenecks.{record['pair']}.{part}") == record[column]
    for record in frames["06_heads"].to_dict("records"):
        assert figures.head_text(record) == record["head"]
    assert [p.key for p in lectures.BOTTLENECKS] == list(frames["02_bottlenecks"]["pair"])


def test_every_title_and_note_exists_in_both_languages() -> None:
    for entry in figures.GALLERY:
        for lang in messages.LANGS:
            assert entry.title(lang) and entry.note(lang)
        assert HANGUL.search(entry.title("ko")) and not HANGUL.search(entry.title("en"))


def test_korean_latex_names_kotex_and_stays_balanced(frames: dict[str, pd.DataFrame]) -> None:
    tex = figures.tables(by_name("02_bottlenecks"), frames["02_bottlenecks"], "ko")["tex"]
    first = tex.splitlines()[0]
    assert first.startswith("% requires \\usepackage{booktabs}") and "\\usepackage{kotex}" in first
    assert tex.count("{") == tex.count("}") and "\\begin{tabular}" in tex and "\\bottomrule" in tex
    assert not set(tex) & set("×→÷−·∝²"), "a symbol left unescaped"
    english = figures.tables(by_name("02_bottlenecks"), frames["02_bottlenecks"])["tex"]
    assert "kotex" not in english and english.isascii()


# -- the command line ------------------------------------------------------------------------------

@click.command()
@lang_options
def _echo_lang(lang: str) -> None:
    click.echo(lang)


@pytest.mark.parametrize(("args", "env", "expected"), [
    ((), {}, "en"),
    (("--lang", "ko"), {}, "ko"),
    ((), {"ARCHSTAT_LANG": "ko"}, "ko"),
    (("--lang", "en"), {"ARCHSTAT_LANG": "ko"}, "en"),      # the flag wins over the environment
    (("--lang", "KO"), {}, "ko"),
])
def test_lang_comes_from_the_flag_or_the_environment(args: tuple[str, ...], env: dict[str, str],
                                                     expected: str) -> None:
    result = CliRunner().invoke(_echo_lang, list(args), env={"ARCHSTAT_LANG": None, **env})
    assert result.exit_code == 0 and result.output.strip() == expected


@pytest.mark.parametrize(("args", "env", "message"), [
    (("figures", "--lang", "fr"), {}, "--lang: unknown language 'fr': choose one of en, ko"),
    (("report", "lenet5", "-o", "x.html"), {"ARCHSTAT_LANG": "jp"}, "ARCHSTAT_LANG: unknown language 'jp'"),
])
def test_an_unknown_language_is_one_line(args: tuple[str, ...], env: dict[str, str], message: str,
                                         capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(list(args)) == 2
    err = capsys.readouterr().err
    assert err.startswith("archstat: error: ") and message in err and err.count("\n") == 1
    assert not any(tmp_path.iterdir())


# -- the report ------------------------------------------------------------------------------------

def test_korean_report_speaks_korean() -> None:
    analyses = [archstat.analyze("lenet5"), archstat.analyze("resnet20")]
    page = render_report(analyses, lang="ko")
    assert '<html lang="ko">' in page and "archstat 보고서" in page
    for term in ("수용 영역", "파라미터", "계층", "활성화 메모리", "세는 방법", "비교", "측정하지 않음"):
        assert term in page, term
    for key in CONVENTIONS:
        assert messages.text(f"report.convention.{key}", "ko") in page.replace("&#x27;", "'"), key
    english = render_report(analyses)
    for phrase in ("Receptive field", "Counting conventions", "not measured", "leaf layers only",
                   "Parameters, MACs and activation memory by layer"):
        assert phrase in english and phrase not in page, phrase
    for kept in ("lenet5", "resnet20", "MACs", "FLOPs", "conv1", "layer1.0.conv1"):
        assert kept in page, kept


# -- glyphs, not boxes -----------------------------------------------------------------------------

def _browser() -> str | None:
    figures.configure_browser()
    path = os.environ.get("BROWSER_PATH")
    if path and os.access(path, os.X_OK):
        return path
    return next((p for name in ("chromium", "chromium-browser", "google-chrome", "chrome")
                 if (p := shutil.which(name))), None)


def _korean_font_installed() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True, check=False).stdout
    return style.CJK_FONT in listed


def _boxes(fig: go.Figure) -> go.Figure:
    """The same figure with every Hangul syllable replaced by a character no font draws."""
    return go.Figure(json.loads(HANGUL.sub(NO_GLYPH, fig.to_json())))


def _title_region(png: bytes) -> bytes:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    top = (style.HEIGHT * figures.PNG_SCALE) // 7          # the title and its subtitle
    return image.crop((0, 0, image.width, top)).tobytes()


def test_korean_glyphs_are_drawn_not_boxes(tmp_path: Path) -> None:
    pytest.importorskip("kaleido", reason="image export needs kaleido")
    if _browser() is None:
        pytest.skip("no Chrome or Chromium for kaleido")
    if not _korean_font_installed():
        pytest.skip(f"no {style.CJK_FONT} (Debian: fonts-noto-cjk; scripts/setup.sh installs it)")
    pytest.importorskip("PIL", reason="pixel comparison needs Pillow")
    entry = by_name("01_stacked_convs")
    fig = entry.build(entry.data(), "ko")
    title = entry.title("ko")
    with figures.image_session():
        svg = figures.render_image(fig, "svg").decode("utf-8")
        korean = figures.render_image(fig, "png")
        boxes = figures.render_image(_boxes(fig), "png")
        pdf = figures.render_image(fig, "pdf")
    # the SVG: the title's Korean as text, in a font stack that names the CJK font
    texts = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    assert any(title in t for t in texts), "the Korean title is not a <text> of the SVG"
    assert style.CJK_FONT in svg
    # the pixels: real glyphs differ from the all-boxes rendering in the title region
    drawn, tofu = _title_region(korean), _title_region(boxes)
    assert sum(v < 128 for v in tofu) > 500, "the all-boxes reference drew nothing: the comparison would be void"
    differing = sum(abs(a - b) > 64 for a, b in zip(drawn, tofu, strict=True))
    assert differing > 0.01 * len(drawn), (
        f"the Korean title looks like boxes: only {differing} of {len(drawn)} pixels differ from an all-boxes "
        f"rendering; is {style.CJK_FONT} visible to Chromium?")
    # the PDF: the Korean font embedded (as a subset, e.g. /BAAAAA+NotoSansCJKkr-Regular)
    assert b"NotoSansCJK" in pdf, "no Noto Sans CJK embedded in the PDF"
    (tmp_path / "korean.png").write_bytes(korean)

"""`archstat report`: the HTML page, opened in a real headless Chromium.

The browser tests check that every plot drew SVG with data in it, that the layer table sorts and
filters, and that the page requested nothing but its own file and logged no error. They skip,
with the reason, where playwright or a Chromium binary is missing (set ARCHSTAT_CHROMIUM to a
binary to choose one); ARCHSTAT_SCREENSHOT_DIR, when set, receives copies of the screenshots.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import archstat
from archstat.analysis.ops.costs import CONVENTIONS
from archstat.analysis.records import Analysis
from archstat.cli.main import main
from archstat.measure.results import read_result
from archstat.report.summary import COLUMNS

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VGG16_PARAMS = "138,357,544"
HEADERS = ["#", *(c.header for c in COLUMNS)]


@dataclass(frozen=True)
class Report:
    """A generated report and the analyses it shows."""

    path: Path
    analyses: tuple[Analysis, ...]
    plots: int                      # plot divs the page must hold


def _run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


MEASURED = Path(__file__).resolve().parent.parent / "reports" / "measurements"


def _latency_file(path: Path) -> Path:
    """The committed CPU measurement of vgg16 as a current result, on a device with a hostile name and roofs."""
    result = read_result(MEASURED / "cpu_vgg16.json")
    data = {**result.to_dict(), "device": "test <device> & co", "peak_flops": 3e13, "peak_bandwidth": 9e11}
    path.write_text(json.dumps(data))
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    """vgg16 alone, vgg16 with measured latency, resnet18 beside googlenet, and resnet18 with a what-if
    sweep, written by the CLI."""
    out = tmp_path_factory.mktemp("reports")
    vgg16 = archstat.analyze("vgg16")
    two = (archstat.analyze("resnet18"), archstat.analyze("googlenet"))
    latency = _latency_file(out / "latency.json")
    runs = {
        "vgg16": (["vgg16"], [], (vgg16,), 2),
        "vgg16_latency": (["vgg16"], ["--latency", str(latency)], (vgg16,), 4),
        "resnet18_googlenet": (["resnet18", "googlenet"], [], two, 5),
        "resnet18_sweep": (["resnet18"], ["--sweep", "size=128:256:64"], two[:1], 3),
    }
    made = {}
    for name, (models, extra, analyses, plots) in runs.items():
        path = out / f"{name}.html"
        assert main(["report", *models, *extra, "-o", str(path)]) == 0
        made[name] = Report(path, analyses, plots)
    return made


# ------------------------------------------------------------------------------- without a browser

def test_page_loads_nothing_from_the_network(reports: dict[str, Report]) -> None:
    for report in reports.values():
        text = report.path.read_text(encoding="utf-8")
        remote = re.compile(r"<(script|link|img|iframe|source|embed|object)\b[^>]*\b(src|href|data)\s*=\s*"
                            r"[\"']?\s*(https?:|wss?:|//)", re.IGNORECASE)
        assert not remote.search(text)
        assert not re.search(r"@import|url\(\s*[\"']?\s*(https?:|//)", text, re.IGNORECASE)
        assert text.count("* plotly.js v") == 1       # embedded once, however many plots


def test_page_states_the_numbers_and_conventions(reports: dict[str, Report]) -> None:
    text = reports["vgg16"].path.read_text(encoding="utf-8")
    assert VGG16_PARAMS in text
    assert "15,470,264,320" in text                        # MACs
    for formula in CONVENTIONS.values():
        assert html.escape(formula) in text
    assert "not measured" in text
    swept = reports["resnet18_sweep"].path.read_text(encoding="utf-8")
    assert "What if" in swept and "MACs ∝ size^2.00" in swept
    assert "Measured latency per layer" not in text


def test_latency_file_adds_the_latency_plots(reports: dict[str, Report]) -> None:
    text = reports["vgg16_latency"].path.read_text(encoding="utf-8")
    assert "not measured" not in text
    assert "Measured latency per layer" in text and "Roofline" in text
    assert "test <device>" not in text                     # the device name is escaped


def test_several_models_get_a_comparison(reports: dict[str, Report]) -> None:
    text = reports["resnet18_googlenet"].path.read_text(encoding="utf-8")
    assert 'id="comparison"' in text and "Models side by side" in text
    assert "11,689,512" in text and "13,378,280" in text   # resnet18, googlenet (as published)


def test_user_strings_are_escaped() -> None:
    from archstat.report.html import render_report

    label = "<img src=x onerror=alert(1)>"
    page = render_report([archstat.analyze("lenet5", label=label)], None)
    assert label not in page
    assert html.escape(label) in page


def test_report_needs_an_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "report", "vgg16")
    assert code != 0 and err.startswith("archstat: error: ") and err.count("\n") == 1


def _vgg16_with(change: dict[str, Any]) -> str:
    data = read_result(MEASURED / "cpu_vgg16.json").to_dict()
    layers = data["batches"][-1]["per_layer"]["layers"]
    first_leaf = next(i for i, layer in enumerate(layers) if layer["is_leaf"])
    layers[first_leaf] = {**layers[first_leaf], **change.pop("layer", {})}
    return json.dumps({**data, **change})


# Malformed files in general are tests/test_results.py's; here, what only a report can find wrong.
@pytest.mark.parametrize(("content", "fragment"), [
    (None, "no such file"),
    ("{not json", "not JSON"),
    ("[1, 2]", "expected a JSON object"),
    (_vgg16_with({"peak_flops": "fast"}), "peak_flops must be a number or null, got str"),
    (_vgg16_with({"layer": {"path": "nope"}}), "no layer 'nope'"),
    (_vgg16_with({"model": "resnet18"}), "'resnet18', a model not in this report"),
], ids=["missing", "not-json", "list", "peak-type", "unknown-layer", "other-model"])
def test_bad_latency_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None,
                                      fragment: str) -> None:
    latency = tmp_path / "latency.json"
    if content is not None:
        latency.write_text(content)
    out = tmp_path / "report.html"
    code, err = _run(capsys, "report", "vgg16", "--latency", latency, "-o", out)
    assert code == 2, err
    assert err.startswith("archstat: error: ") and err.count("\n") == 1, err
    assert fragment in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == ([latency] if content is not None else [])


# ---------------------------------------------------------------------------------- in Chromium

def _chromium() -> str | None:
    named = os.environ.get("ARCHSTAT_CHROMIUM")
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium driven by playwright (the system's binary; nothing is downloaded)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium binary found (set ARCHSTAT_CHROMIUM)")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:
            pytest.skip(f"Chromium at {executable} did not start: {' '.join(str(exc).split())[:200]}")
        yield launched
        launched.close()


PLOTS_JS = """() => Array.from(document.querySelectorAll('div.plot')).map(d => {
  const paths = Array.from(d.querySelectorAll('g.trace path'));
  return {id: d.id, svg: d.querySelectorAll('svg.main-svg').length,
          traces: d.querySelectorAll('g.trace').length,
          drawn: paths.filter(p => (p.getAttribute('d') || '').length > 8).length,
          canvas: d.querySelectorAll('canvas').length};
})"""


def _rows(page: Any, table: str) -> list[dict[str, Any]]:
    return list(page.evaluate("""(id) => Array.from(document.querySelectorAll('#' + id + ' tbody tr'))
        .filter(r => !r.hidden)
        .map(r => ({i: +r.dataset.i, s: r.dataset.s, v: Array.from(r.cells).map(c => c.dataset.v)}))""", table))


def _check_sorting(page: Any, table: str) -> None:
    before = [r["i"] for r in _rows(page, table)]
    column = HEADERS.index("Params")
    header = page.locator(f"#{table} thead th").nth(column)
    header.click()
    values = [float(r["v"][column]) for r in _rows(page, table)]
    assert values == sorted(values, reverse=True)
    assert [r["i"] for r in _rows(page, table)] != before
    assert header.get_attribute("aria-sort") == "descending"
    header.click()
    values = [float(r["v"][column]) for r in _rows(page, table)]
    assert values == sorted(values)
    index = page.locator(f"#{table} thead th").nth(0)
    index.click()
    index.click()                               # numbers sort largest first, then back
    assert [r["i"] for r in _rows(page, table)] == before


def _check_search(page: Any, table: str, analysis: Analysis, term: str) -> None:
    box = page.locator(f'.controls[data-table="{table}"]')
    box.locator("input[type=search]").fill(term)
    shown = _rows(page, table)
    expected = [r.index for r in analysis.rows() if term in f"{r.path} {r.type}".lower()]
    assert 0 < len(expected) < len(analysis.rows())
    assert [r["i"] for r in shown] == expected
    assert box.locator(".count").inner_text() == f"{len(expected)} of {len(analysis.rows())} layers"
    box.locator("input[type=search]").fill("")
    box.locator("input[type=checkbox]").check()
    assert [r["i"] for r in _rows(page, table)] == [r.index for r in analysis.leaves()]
    box.locator("input[type=checkbox]").uncheck()
    assert len(_rows(page, table)) == len(analysis.rows())


@pytest.mark.parametrize(("name", "term"), [
    ("vgg16", "classifier"), ("vgg16_latency", "maxpool"), ("resnet18_googlenet", "layer3"),
    ("resnet18_sweep", "layer2"),
])
def test_report_in_chromium(browser: Any, reports: dict[str, Report], tmp_path: Path, name: str, term: str) -> None:
    report = reports[name]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.on("websocket", lambda ws: requests.append(ws.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = report.path.resolve().as_uri()
    try:
        page.goto(url, wait_until="load")
        page.wait_for_function("() => Array.from(document.querySelectorAll('div.plot'))"
                               ".every(d => d.querySelector('svg.main-svg g.trace'))", timeout=30_000)
        plots = page.evaluate(PLOTS_JS)
        assert len(plots) == report.plots
        for plot in plots:
            assert plot["svg"] >= 1, plot
            assert plot["traces"] >= 1 and plot["drawn"] >= 1, plot
            assert plot["canvas"] == 0, plot                 # SVG, never WebGL

        for i, analysis in enumerate(report.analyses):
            table = f"layers-{i}"
            assert page.locator(f"#{table} tbody tr").count() == len(analysis.rows())
            assert page.locator(f"#{table} thead th").all_inner_texts() == HEADERS
        _check_sorting(page, f"layers-{len(report.analyses) - 1}")
        _check_search(page, "layers-0", report.analyses[0], term)

        shots = [tmp_path / f"report_{name}.png", tmp_path / f"report_{name}_full.png"]
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(shots[0]))
        page.screenshot(path=str(shots[1]), full_page=True)
        assert all(s.stat().st_size > 10_000 for s in shots)
        keep = os.environ.get("ARCHSTAT_SCREENSHOT_DIR")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            for shot in shots:
                shutil.copy(shot, Path(keep) / shot.name)
    finally:
        context.close()
    assert [u for u in requests if not u.startswith(("data:", "blob:"))] == [url], requests
    assert errors == []

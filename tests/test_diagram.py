"""`archstat diagram`: the drawing holds exactly the boxes, edges and ×N marks the recorded forward
gives, the TikZ is TikZ, the HTML page works offline, and bad options end in one line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import torch

import archstat
from archstat.analysis.graph import build_graph, describe_counts
from archstat.cli.main import main
from archstat.report.diagram import layout, render, svg, tikz, title_of
from archstat.report.diagram_gallery import DIAGRAMS, draw
from tests.test_report import browser  # noqa: F401  (the shared headless Chromium fixture)


def _count(svg_text: str, cls: str) -> int:
    return len(re.findall(rf'class="{cls}[" ]', svg_text))


def _svg_counts(svg_text: str) -> dict[str, int]:
    return {"boxes": _count(svg_text, "box") - 2, "edges": _count(svg_text, "edge"),
            "repeats": len(re.findall(r'class="repeat"', svg_text))}


def test_inception_3a_has_four_branches_into_one_concat() -> None:
    analysis = archstat.analyze("googlenet")
    graph = build_graph(analysis, "inception3a")
    convs = [n for n in graph.boxes if n.kind in ("layer", "block") and n.params > 0]
    assert sorted(n.params for n in convs) == sorted(                 # the trace's rows, (k·k·C_in + 1)·C_out
        r.params for r in analysis.layers if r.path.startswith("inception3a.") and r.type == "Conv2d")
    concat = next(n for n in graph.boxes if n.type == "cat")
    assert len([e for e in graph.edges if e.dst == concat.id]) == 4  # 1×1, 3×3, 5×5, pool proj
    assert concat.output_shape == (1, 256, 28, 28)                  # REFERENCES: 3a outputs 256 maps at 28×28
    picture = svg(layout(graph))
    assert _svg_counts(picture) == describe_counts(graph)


def test_resnet50_stage_collapses_identical_bottlenecks() -> None:
    analysis = archstat.analyze("resnet50")
    for stage, blocks in (("layer1", 3), ("layer3", 6)):
        graph = build_graph(analysis, stage, 2)
        run = next(c for c in graph.clusters if c.repeat > 1)
        assert run.repeat == blocks - 1                                  # block 0 has the projection
        called = [r for r in analysis.layers if r.type == "Bottleneck" and r.path.startswith(stage + ".")]
        assert len(called) == blocks
        shortcuts = [e for e in graph.edges if e.shortcut]
        assert len([e for e in shortcuts if e.projection]) == 2         # into and out of the downsample
        assert len([e for e in shortcuts if not e.projection]) == 1      # the identity of the ×N block
        picture = svg(layout(graph))
        assert _svg_counts(picture) == describe_counts(graph)
        assert picture.count('stroke-dasharray="7 5"') >= 3              # the projection is dashed


def test_whole_model_collapses_to_blocks_times_n() -> None:
    graph = build_graph(archstat.analyze("resnet50"), "", 2)
    repeats = sorted(n.repeat for n in graph.boxes if n.repeat > 1)
    assert repeats == [2, 2, 3, 5]                                       # (3, 4, 6, 3) less each stage's first
    assert _svg_counts(svg(layout(graph))) == describe_counts(graph)


def test_dense_block_concatenations() -> None:
    graph = build_graph(archstat.analyze("dense_block"), "", 3)
    cats = [n for n in graph.boxes if n.type == "cat"]
    assert [n.output_shape[1] for n in cats] == [64 + 32 * i for i in range(1, 7)]   # +k per layer
    assert _svg_counts(svg(layout(graph))) == describe_counts(graph)


def test_adaptive_pool_to_7_is_not_gap() -> None:
    """Only a pool to 1×1 is global average pooling; VGG's AdaptiveAvgPool2d((7, 7)) is an identity on 224."""
    def pool_title(model: object, **kw: Any) -> str:
        graph = build_graph(archstat.analyze(model, **kw), "", 2)   # type: ignore[arg-type]
        return next(title_of(n, "en") for n in graph.boxes if any("Adaptive" in p.type for p in n.parts))

    assert pool_title("vgg16") == "AdaptiveAvgPool 7×7 (identity)"
    shrink = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.AdaptiveAvgPool2d(7))
    assert pool_title(shrink, input_shape=(1, 3, 30, 30)) == "AdaptiveAvgPool 7×7"
    assert pool_title("resnet50") == "GAP"
    vgg = next(e for e in DIAGRAMS if e.name == "12_vgg_configurations")
    assert "GAP" not in svg(draw(vgg)[1])


@pytest.mark.parametrize("entry", DIAGRAMS, ids=lambda e: e.name)
def test_gallery_diagram_counts(entry: Any) -> None:
    """Every gallery drawing holds the boxes, edges and ×N marks of its graph; VGG's table draws no
    arrows (the edges only order its cells) and no ×N; AlexNet's halves carry no groups mark."""
    graph, lay = draw(entry)
    picture = svg(lay)
    counts = describe_counts(graph)
    if entry.name == "12_vgg_configurations":
        # no input or output box (the heading says the input), no arrows (the edges order the cells)
        assert _svg_counts(picture) == {**counts, "boxes": counts["boxes"] - 2, "edges": 0}
        assert counts["repeats"] == 0
        columns = {c.id: [n for n in graph.boxes if n.cluster == c.id] for c in graph.clusters}
        assert counts["edges"] == sum(len(v) - 1 for v in columns.values())          # a chain per column
        weights = {c.path: c.row for c in graph.clusters}
        assert weights == {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}  # Table 1's headings
        assert [len(v) for v in columns.values()] == [w + 5 + 1 for w in weights.values()]   # + maxpools, pool
        assert ">conv3-64<" in picture and ">conv1-256<" in picture and ">FC-4096<" in picture
        pools = {}
        for box in lay.boxes:
            if box.lines[0].text == "maxpool":
                pools.setdefault(box.node.cluster, []).append(round(box.y, 1))
        assert len({tuple(v) for v in pools.values()}) == 1                          # maxpool rows aligned
    else:
        assert _svg_counts(picture) == counts
    if entry.name == "13_alexnet_two_gpus":
        assert " g2" not in picture and "Conv 5×5, 128<" in picture and "Conv 3×3, 192<" in picture
    if entry.name == "11_dense_block":
        assert "k = 32" in lay.title and len([n for n in graph.boxes if n.type == "cat"]) == 6


def test_tikz_is_balanced_and_only_tikz() -> None:
    text = tikz(layout(build_graph(archstat.analyze("resnet_bottleneck_block"), "", 2), annotate=("params", "rf")))
    body = re.sub(r"^%.*$", "", text, flags=re.M)
    depth = 0
    for ch in body.replace("\\{", "").replace("\\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    commands = set(re.findall(r"\\([A-Za-z]+)", body))
    assert commands <= {"begin", "end", "node", "draw", "definecolor", "textbf", "scriptsize", "footnotesize",
                        "sffamily", "cdot", "times", "textendash"}, commands
    assert body.strip().startswith("\\begin{tikzpicture}") and body.strip().endswith("\\end{tikzpicture}")


@pytest.mark.parametrize(("args", "message"), [
    (["--block", "inceptoin3a"], "did you mean inception3a"),
    (["--annotate", "shapes,flops"], "--annotate: unknown item 'flops'"),
    (["--depth", "0"], "--depth must be at least 1"),
])
def test_bad_options_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str],
                                  message: str) -> None:
    out = tmp_path / "d.svg"
    assert main(["diagram", "googlenet", *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_unknown_suffix_and_unwritable_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["diagram", "lenet5", "-o", str(tmp_path / "d.docx")]) == 2
    assert "unknown suffix" in capsys.readouterr().err
    assert main(["diagram", "lenet5", "-o", str(tmp_path / "missing" / "d.svg")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_html_in_chromium(browser: Any, tmp_path: Path) -> None:  # noqa: F811
    graph = build_graph(archstat.analyze("googlenet"), "inception3a")
    page_path = tmp_path / "d.html"
    page_path.write_bytes(render(layout(graph, annotate=("params", "macs", "rf")), "html"))
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = page_path.resolve().as_uri()
    try:
        page.goto(url, wait_until="load")
        assert page.locator("#diagram g.box").count() == describe_counts(graph)["boxes"] + 2
        page.locator("#diagram g.box[data-kind=layer]").first.hover()
        assert "12,352" in page.locator("#tip").inner_text() or page.locator("#tip").is_visible()
        before = page.evaluate("() => document.querySelector('#diagram svg').viewBox.baseVal.width")
        page.mouse.move(600, 400)
        page.mouse.wheel(0, -300)
        after = page.evaluate("() => document.querySelector('#diagram svg').viewBox.baseVal.width")
        assert after < before                                           # zoomed in
    finally:
        context.close()
    assert requests == [url], requests
    assert errors == []

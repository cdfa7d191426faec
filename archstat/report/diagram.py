"""Drawing an architecture graph (`archstat.analysis.graph`): layout by Graphviz, then SVG, PNG, PDF,
TikZ or an interactive HTML page, all from the same positions.

`dot -Tjson` places the boxes, routes the edges and frames the clusters; everything drawn here reads
those positions, so the TikZ picture is the SVG's twin. Box sizes are set from their text before the
layout (fixed size), in points. The figure style is the gallery's (`report.style`): Okabe–Ito colours
by kind of layer, projector-size fonts, a 16:9 canvas.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from archstat.analysis.graph import INPUT, OUTPUT, Graph, Node, Part
from archstat.errors import ArchstatError, UsageError
from archstat.report.messages import text
from archstat.report.style import FONT, HEIGHT, PALETTE, WIDTH
from archstat.report.summary import field_text
from archstat.report.units import si
from archstat.report.writers import latex_escape

FORMATS = ("svg", "png", "pdf", "tex", "html")
ANNOTATIONS = ("shapes", "params", "macs", "rf")
DEFAULT_ANNOTATIONS = ("shapes",)
DIAGRAM_FONT = FONT   # names the CJK font already, for Korean labels
TITLE_PT, MAIN_PT, SMALL_PT = 26, 18, 14
CHAR_W = 0.58            # average glyph width in ems, for sizing boxes before the layout
LINE_H = 1.3
PAD = 10
DOT = "dot"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
PNG_SCALE = 2

# Fill and border by the kind of work a box does (Okabe–Ito, light fills so the text stays black).
KIND_COLORS = {
    "conv": ("#D6E9F8", PALETTE[0]), "pool": ("#FBEBC7", PALETTE[1]), "linear": ("#CDEDE3", PALETTE[2]),
    "merge": ("#F9DCC9", PALETTE[3]), "block": ("#F3DDEA", PALETTE[4]), "other": ("#EEEEEE", "#555555"),
    "io": ("#FFFFFF", "#222222"),
}
SHORT = {"BatchNorm1d": "BN", "BatchNorm2d": "BN", "BatchNorm3d": "BN", "LocalResponseNorm": "LRN",
         "Dropout": "Dropout", "Flatten": "Flatten"}
ADAPTIVE_POOLS = {"AdaptiveAvgPool1d": ("AdaptiveAvgPool", "GAP"), "AdaptiveAvgPool2d": ("AdaptiveAvgPool", "GAP"),
                  "AdaptiveAvgPool3d": ("AdaptiveAvgPool", "GAP"), "AdaptiveMaxPool1d": ("AdaptiveMaxPool", "GMP"),
                  "AdaptiveMaxPool2d": ("AdaptiveMaxPool", "GMP"), "AdaptiveMaxPool3d": ("AdaptiveMaxPool", "GMP")}
CONV_TYPES = frozenset({"Conv1d", "Conv2d", "Conv3d"})
POOL_TYPES = frozenset({"MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
                        *ADAPTIVE_POOLS})
LINEAR_TYPES = frozenset({"Linear", "Bilinear"})
CIRCLE_OPS = frozenset({"add", "mul"})


# -- what a box says ---------------------------------------------------------------------------------

def _dims(shape: Sequence[int]) -> str:
    """Without the batch: 64×56×56."""
    dims = shape[1:] if len(shape) > 1 else shape
    return "×".join(str(d) for d in dims)


def _kernel(spec_kernel: Sequence[int]) -> str:
    k = tuple(spec_kernel)
    return f"{k[0]}×{k[0]}" if len(k) == 1 else "×".join(map(str, k))


def adaptive_pool_text(part: Part, *, identity: bool = True) -> str:
    """`GAP` only for a pool to 1×1 (global average pooling); `AdaptiveAvgPool 7×7` otherwise, and
    `(identity)` where the input already had that size (VGG's pool on a 224×224 input)."""
    name, global_name = ADAPTIVE_POOLS[part.type]
    size = tuple(part.output_shape[2:])
    if size and all(d == 1 for d in size):
        return global_name
    label = f"{name} {'×'.join(map(str, size))}"
    return f"{label} (identity)" if identity and size and tuple(part.input_shape[2:]) == size else label


def short_name(part: Part) -> str:
    """A layer's name in a box's list of folded layers: `BN`, `LRN`, `GAP`."""
    if part.type in ADAPTIVE_POOLS:
        return adaptive_pool_text(part)
    return SHORT.get(part.type, part.type)


def part_text(part: Part) -> str:
    """`Conv 3×3, 64 /2`, `MaxPool 3×3 /2`, `Linear 4096`, `BN`."""
    if part.type in ADAPTIVE_POOLS:
        return adaptive_pool_text(part)
    spec = part.spec
    stride = ""
    if spec is not None and any(s != 1 for s in spec.stride):
        stride = f" /{spec.stride[0]}" if len(set(spec.stride)) == 1 else " /" + "×".join(map(str, spec.stride))
    if part.type in CONV_TYPES and spec is not None:
        groups = f" g{spec.groups}" if spec.groups > 1 else ""
        channels = part.output_shape[1] if len(part.output_shape) > 1 else ""
        return f"Conv {_kernel(spec.kernel)}, {channels}{stride}{groups}"
    if part.type in POOL_TYPES and spec is not None:
        return f"{part.type.removesuffix('2d').removesuffix('1d').removesuffix('3d')} {_kernel(spec.kernel)}{stride}"
    if part.type in LINEAR_TYPES and part.output_shape:
        return f"{part.type} {part.output_shape[-1]}"
    return short_name(part)


def main_part(node: Node) -> Part | None:
    """The one conv, pool or linear layer a box is built around, if it has exactly one."""
    main = [p for p in node.parts if p.type in CONV_TYPES | POOL_TYPES | LINEAR_TYPES]
    return main[0] if len(main) == 1 else None


def title_of(node: Node, lang: str) -> str:
    """The box's main line: the layer it is built around (or its type, or the op)."""
    if node.kind == INPUT:
        return text("diagram.input", lang)
    if node.kind == OUTPUT:
        return text("diagram.output", lang)
    if node.kind == "op":
        return {"add": "+", "cat": text("diagram.concat", lang), "mul": "×"}.get(node.type, node.type)
    main = main_part(node)
    if node.kind == "block" and main is None:
        return node.type
    if main is None:
        return " · ".join(short_name(p) for p in node.parts) or node.type
    return part_text(main)


def extras_of(node: Node) -> str:
    """The layers folded around the main one, in order: `BN · ReLU`."""
    main = main_part(node)
    if main is None or node.kind == "op":
        return ""
    return " · ".join(short_name(p) for p in node.parts if p is not main)


def kind_of(node: Node) -> str:
    """The colour class of a box."""
    if node.kind in (INPUT, OUTPUT):
        return "io"
    if node.kind == "op":
        return "merge"
    main = main_part(node)
    if main is None:
        return "block" if node.kind == "block" else "other"
    if main.type in CONV_TYPES:
        return "conv"
    return "pool" if main.type in POOL_TYPES else "linear"


def numbers(node: Node, lang: str) -> dict[str, str]:
    """The annotations a box can show, and the hover text of the HTML page."""
    return {
        "shapes": _dims(node.output_shape),
        "params": text("diagram.params", lang, value=si(node.params)) if node.params else "",
        "macs": text("diagram.macs", lang, value=si(node.macs)) if node.macs else "",
        "rf": text("diagram.rf", lang, value=field_text(node.rf)) if node.rf is not None and node.kind != INPUT else "",
    }


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    size: int
    weight: str = "normal"
    color: str = "#222222"


def box_lines(node: Node, annotate: Sequence[str], lang: str, compact: bool = False, path: str | None = None,
              label: str | None = None, joined: bool = False) -> list[Line]:
    """The text lines of a box, top to bottom (`compact`: its main line only, for a table of columns;
    `path`: the path to print instead of the node's; `label`: the main line instead of the layer's;
    `joined`: the folded layers and the numbers on one line under the main one)."""
    if compact:
        if label is not None:
            return [Line(label, MAIN_PT, "bold")]
        extras = [e for e in extras_of(node).split(" · ") if e and e != "ReLU"]
        return [Line(" · ".join([title_of(node, lang), *extras]), MAIN_PT, "bold")]
    if node.kind == "op" and node.type in CIRCLE_OPS:
        return [Line(title_of(node, lang), MAIN_PT + 4, "bold")]
    lines = []
    path = node.path if path is None else path
    if path and node.kind != "op":
        lines.append(Line(path, SMALL_PT, color="#555555"))
    lines.append(Line(title_of(node, lang) if label is None else label, MAIN_PT, "bold"))
    values = numbers(node, lang)
    shown = ("shapes", *annotate)   # the output shape always: a box is its layer and what it makes
    details = [values[key] for key in ANNOTATIONS if key in shown and values[key]]
    if joined:
        return [*lines, Line(" · ".join([extras_of(node), *details] if extras_of(node) else details), SMALL_PT)]
    if extras_of(node):
        lines.append(Line(extras_of(node), SMALL_PT, "bold", "#333333"))
    return lines + [Line(value, SMALL_PT) for value in details]


def shown_path(node: Node, graph: Graph) -> str:
    """A box's path relative to the frame it sits in (`conv1` inside the frame `layer1.0`)."""
    if node.cluster is None:
        return node.path
    frame = next(c for c in graph.clusters if c.id == node.cluster).path
    if graph.block and frame.startswith(graph.block + "."):
        frame = frame[len(graph.block) + 1:]
    return node.path[len(frame) + 1:] if node.path.startswith(frame + ".") else node.path


# -- layout ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Box:
    node: Node
    x: float            # centre, points, y downwards
    y: float
    w: float
    h: float
    lines: tuple[Line, ...]
    kind: str
    circle: bool


@dataclass(frozen=True, slots=True)
class Route:
    src: str
    dst: str
    points: tuple[tuple[float, float], ...]    # cubic Bézier: start, (c1, c2, end)*
    head: tuple[float, float] | None           # the arrow's tip
    shortcut: bool
    projection: bool


@dataclass(frozen=True, slots=True)
class Frame:
    id: str
    label: str
    x0: float
    y0: float
    x1: float
    y1: float
    repeat: int
    header: tuple[str, ...] = ()    # a column's heading (first line bold), drawn centred above its boxes


@dataclass(frozen=True, slots=True)
class Layout:
    graph: Graph
    width: float
    height: float
    boxes: tuple[Box, ...]
    routes: tuple[Route, ...]
    frames: tuple[Frame, ...]
    title: str
    lang: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Hints:
    """What one drawing asks of the layout beyond its graph (the gallery's table of columns, its notes)."""

    rows: tuple[tuple[str, ...], ...] = ()           # boxes dot puts on one rank: a table's aligned rows
    labels: tuple[tuple[str, str], ...] = ()         # (box id, main line) instead of the layer's text
    headers: tuple[tuple[str, tuple[str, ...]], ...] = ()   # (frame id, heading lines) for a column
    note: str = ""                                   # one line under the drawing
    paths: bool = True                               # print each box's path above its layer
    arrows: bool = True                              # False: edges only order the boxes (a table's cells)
    ranksep: float = 0.3                             # inches between the rows
    joined: bool = False                             # a box's folded layers and numbers on one line
    title: str = ""                                  # the slide's title, when the drawing makes its own
    uniform: bool = False                            # every box as wide as the widest (a table's cells)


def _size(lines: Sequence[Line], pad: float = PAD, line_h: float = LINE_H) -> tuple[float, float]:
    """A box's width and height in points, from its text (`pad` above and below)."""
    w = max(len(line.text) * line.size * CHAR_W for line in lines) + 2 * PAD
    h = sum(line.size * line_h for line in lines) + 2 * pad
    return w, h


def _dot_source(graph: Graph, sizes: dict[str, tuple[float, float]], rankdir: str,
                rows: Sequence[Sequence[str]] = (), headers: dict[str, float] | None = None,
                ranksep: float = 0.45, arrows: bool = True) -> str:
    out = [f'digraph G {{ rankdir={rankdir}; nodesep=0.3; ranksep={ranksep}; newrank=true;',
           'node [shape=box, fixedsize=true, label=""];', f'graph [fontsize={SMALL_PT}];']

    def emit_node(n: Node) -> None:
        w, h = sizes[n.id]
        out.append(f'"{n.id}" [width={w / 72:.3f}, height={h / 72:.3f}];')

    children: dict[str | None, list[str]] = {}
    for c in graph.clusters:
        children.setdefault(c.parent, []).append(c.id)

    def emit_cluster(cid: str) -> None:
        # a blank label of the title's height keeps the frame's title (or a column's heading) clear of its boxes
        size = (headers or {}).get(cid, SMALL_PT + 4)
        out.append(f'subgraph "cluster_{cid}" {{ margin=14; label=" "; fontsize={size:.0f};')
        for n in graph.nodes:
            if n.cluster == cid:
                emit_node(n)
        for child in children.get(cid, []):
            emit_cluster(child)
        out.append("}")

    # nodes and frames in execution order, so that dot keeps the paper's left-to-right order of branches
    top = {c.id: c for c in graph.clusters}

    def top_of(n: Node) -> str | None:
        c = n.cluster
        while c is not None and top[c].parent is not None:
            c = top[c].parent
        return c

    emitted: set[str] = set()
    for n in sorted(graph.nodes, key=lambda n: n.order):
        cid = top_of(n)
        if cid is None:
            emit_node(n)
        elif cid not in emitted:
            emitted.add(cid)
            emit_cluster(cid)
    for row in rows:
        out.append("{ rank=same; " + " ".join(f'"{n}";' for n in row) + " }")
    for e in graph.edges:
        attrs = " [weight=0]" if e.shortcut else "" if arrows else " [style=invis]"
        out.append(f'"{e.src}" -> "{e.dst}"{attrs};')
    out.append("}")
    return "\n".join(out)


def _frame_label(path: str, repeat: int, type_: str) -> str:
    return " · ".join(t for t in (path, type_) if t) + (f" ×{repeat}" if repeat > 1 else "")


def _run_dot(source: str) -> dict[str, object]:
    exe = shutil.which(DOT)
    if exe is None:
        raise ArchstatError("archstat diagram needs Graphviz's dot (Debian: apt-get install graphviz; "
                            "scripts/setup.sh installs it)")
    done = subprocess.run([exe, "-Tjson"], input=source, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        why = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        raise ArchstatError(f"dot failed: {why}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _points(pos: str) -> tuple[tuple[tuple[float, float], ...], tuple[float, float] | None]:
    head = None
    pts = []
    for item in pos.split(";")[0].split():    # dot may give a spline per copy of an edge; one is drawn
        if item.startswith("e,"):
            x, y = item[2:].split(",")
            head = (float(x), float(y))
        elif item.startswith("s,"):
            continue
        else:
            x, y = item.split(",")
            pts.append((float(x), float(y)))
    return tuple(pts), head


HEADER_PT = MAIN_PT + 4


def _header_height(lines: Sequence[str]) -> float:
    return (HEADER_PT + (MAIN_PT - 2) * (len(lines) - 1)) * LINE_H + 6


def layout(graph: Graph, *, annotate: Sequence[str] = DEFAULT_ANNOTATIONS, lang: str = "en",
           title: str | None = None, rankdir: str | None = None, compact: bool = False,
           hints: Hints | None = None) -> Layout:
    """Positions for every box, edge and frame, from dot. `rankdir` None: whichever of top-down and
    left-right comes closer to filling the 16:9 slide."""
    hints = hints or Hints()
    labels = dict(hints.labels)
    lines = {n.id: box_lines(n, annotate, lang, compact, shown_path(n, graph) if hints.paths else "",
                             labels.get(n.id), hints.joined) for n in graph.nodes}
    sizes = {}
    for n in graph.nodes:
        w, h = _size(lines[n.id], *((1, 1.15) if compact else (PAD, LINE_H)))
        if n.kind == "op" and n.type in CIRCLE_OPS:
            w = h = max(MAIN_PT * 2.2, 0)
        sizes[n.id] = (w, h)
    if hints.uniform:
        widest = max(w for w, _ in sizes.values())
        sizes = {k: (widest, h) for k, (_, h) in sizes.items()}
    headers = dict(hints.headers)
    header_pt = {cid: _header_height(h) / 1.2 for cid, h in headers.items()}
    if hints.rows:
        placed = _run_dot(_dot_source(graph, sizes, rankdir or "TB", hints.rows, header_pt,
                                      hints.ranksep if hints.arrows else 0.02, hints.arrows))
    elif rankdir is None:
        placed = min((_run_dot(_dot_source(graph, sizes, d)) for d in ("TB", "LR")), key=_slide_fit)
    else:
        placed = _run_dot(_dot_source(graph, sizes, rankdir))
    bb = [float(v) for v in str(placed["bb"]).split(",")]
    height = bb[3]

    def flip(p: tuple[float, float]) -> tuple[float, float]:
        return (p[0], height - p[1])

    by_name: dict[str, Node] = {n.id: n for n in graph.nodes}
    boxes, frames, routes = [], [], []
    objects = placed.get("objects", [])
    assert isinstance(objects, list)
    gvid_name: dict[int, str] = {}
    for obj in objects:
        name = obj.get("name", "")
        if name.startswith("cluster_"):
            x0, y0, x1, y1 = (float(v) for v in obj["bb"].split(","))
            cluster = next(c for c in graph.clusters if c.id == name.removeprefix("cluster_"))
            frames.append(Frame(cluster.id, _frame_label(cluster.path, cluster.repeat, cluster.type),
                                x0, height - y1, x1, height - y0, cluster.repeat, headers.get(cluster.id, ())))
        elif name in by_name and "pos" in obj:
            gvid_name[int(obj["_gvid"])] = name
            node = by_name[name]
            x, y = flip(tuple(float(v) for v in obj["pos"].split(",")))  # type: ignore[arg-type]
            w, h = sizes[name]
            boxes.append(Box(node, x, y, w, h, tuple(lines[name]), kind_of(node),
                             node.kind == "op" and node.type in CIRCLE_OPS))
    flags = {(e.src, e.dst): e for e in graph.edges}
    placed_edges = placed.get("edges", []) if hints.arrows else []
    assert isinstance(placed_edges, list)
    for edge in placed_edges:
        src, dst = gvid_name[int(edge["tail"])], gvid_name[int(edge["head"])]
        pts, head = _points(edge["pos"])
        e = flags[(src, dst)]
        routes.append(Route(src, dst, tuple(flip(p) for p in pts), flip(head) if head else None,
                            e.shortcut, e.projection))
    order = {n.id: i for i, n in enumerate(graph.nodes)}
    boxes.sort(key=lambda b: order[b.node.id])
    return Layout(graph, bb[2], height, tuple(boxes), tuple(routes), tuple(frames),
                  title if title is not None else hints.title or default_title(graph, lang), lang, hints.note)


def _slide_fit(placed: dict[str, object]) -> float:
    """How much a layout must shrink to fit a 16:9 slide (smaller is better)."""
    bb = [float(v) for v in str(placed["bb"]).split(",")]
    return max(bb[2] / WIDTH, bb[3] / (HEIGHT - 90))


def default_title(graph: Graph, lang: str) -> str:
    if graph.block:
        return text("diagram.title_block", lang, model=graph.model, block=graph.block)
    return text("diagram.title", lang, model=graph.model)


# -- SVG -------------------------------------------------------------------------------------------------

TITLE_BAND = 70
MARGIN = 24
NOTE_BAND = 30


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _path_d(points: Sequence[tuple[float, float]], head: tuple[float, float] | None) -> str:
    if not points:
        return ""
    d = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for i in range(1, len(points) - 2, 3):
        (a, b), (c, e), (f, g) = points[i], points[i + 1], points[i + 2]
        d.append(f"C{a:.1f},{b:.1f} {c:.1f},{e:.1f} {f:.1f},{g:.1f}")
    if head is not None:
        d.append(f"L{head[0]:.1f},{head[1]:.1f}")
    return " ".join(d)


def _on_projection(lay: Layout, box: Box) -> bool:
    """A box on a projection shortcut (drawn dashed, like its edges)."""
    return any(r.projection and r.src == box.node.id and r.dst.startswith("o") for r in lay.routes)


def svg(lay: Layout, *, width: int = WIDTH, height: int = HEIGHT, interactive: bool = False) -> str:
    """The diagram as a standalone 16:9 SVG: a title band, then the graph scaled to fit."""
    bottom = MARGIN + (NOTE_BAND if lay.note else 0)
    scale = min((width - 2 * MARGIN) / max(lay.width, 1), (height - TITLE_BAND - bottom) / max(lay.height, 1), 1.6)
    gw, gh = lay.width * scale, lay.height * scale
    ox, oy = (width - gw) / 2, TITLE_BAND + (height - TITLE_BAND - bottom - gh) / 2
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="{_esc(DIAGRAM_FONT)}">',
           "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
           "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/>"
           "</marker></defs>",
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text class="title" x="{MARGIN}" y="42" font-size="{TITLE_PT}" fill="#222">{_esc(lay.title)}</text>',
           *([f'<text class="note" x="{MARGIN}" y="{height - MARGIN}" font-size="{SMALL_PT + 2}" fill="#333">'
              f'{_esc(lay.note)}</text>'] if lay.note else []),
           f'<g id="graph" transform="translate({ox:.1f},{oy:.1f}) scale({scale:.4f})">']
    for f in lay.frames:
        out.append(f'<g class="cluster{" run" if f.repeat > 1 else ""}" data-id="{f.id}">'
                   f'<rect x="{f.x0:.1f}" y="{f.y0:.1f}" width="{f.x1 - f.x0:.1f}" height="{f.y1 - f.y0:.1f}" '
                   f'rx="8" fill="{"#FAF3F7" if f.repeat > 1 else "#FAFAFA"}" stroke="#999" stroke-dasharray="6 4"/>')
        if f.header:
            y = f.y0 + 4
            for i, heading in enumerate(f.header):
                size = HEADER_PT if i == 0 else MAIN_PT - 2
                y += size * LINE_H
                out.append(f'<text x="{(f.x0 + f.x1) / 2:.1f}" y="{y - size * 0.3:.1f}" text-anchor="middle" '
                           f'font-size="{size}" font-weight="{"bold" if i == 0 else "normal"}" fill="#222">'
                           f'{_esc(heading)}</text>')
        else:
            out.append(f'<text x="{f.x0 + 8:.1f}" y="{f.y0 + SMALL_PT + 2:.1f}" font-size="{SMALL_PT}" fill="#555">'
                       f'{_esc(f.label)}</text>')
        if f.repeat > 1:
            out.append(f'<text class="repeat" x="{f.x1 - 8:.1f}" y="{f.y0 + SMALL_PT + 4:.1f}" text-anchor="end" '
                       f'font-size="{MAIN_PT + 2}" font-weight="bold" fill="{PALETTE[4]}">×{f.repeat}</text>')
        out.append("</g>")
    for r in lay.routes:
        style = ' stroke-dasharray="7 5"' if r.projection else ""
        color = PALETTE[3] if r.shortcut else "#333"
        cls = "edge" + (" shortcut" if r.shortcut else "") + (" projection" if r.projection else "")
        out.append(f'<path class="{cls}" data-src="{r.src}" data-dst="{r.dst}" d="{_path_d(r.points, r.head)}" '
                   f'fill="none" stroke="{color}" stroke-width="{2.5 if r.shortcut else 1.8}"{style} '
                   'marker-end="url(#arrow)"/>')
    for b in lay.boxes:
        fill, stroke = KIND_COLORS[b.kind]
        data = ""
        if interactive:
            values = numbers(b.node, lay.lang)
            info = {"path": b.node.path or b.node.kind, "type": b.node.type, "shape": values["shapes"],
                    "params": f"{b.node.params:,}", "macs": f"{b.node.macs:,}", "flops": f"{b.node.flops:,}",
                    "rf": field_text(b.node.rf) if b.node.rf is not None else "-",
                    "repeat": b.node.repeat, "rows": len(b.node.rows)}
            data = f' data-info="{_esc(json.dumps(info, ensure_ascii=False))}"'
        out.append(f'<g class="box" data-id="{b.node.id}" data-kind="{b.node.kind}"{data}>')
        x0, y0 = b.x - b.w / 2, b.y - b.h / 2
        dash = ' stroke-dasharray="7 5"' if _on_projection(lay, b) else ""
        if b.circle:
            out.append(f'<circle cx="{b.x:.1f}" cy="{b.y:.1f}" r="{b.w / 2:.1f}" fill="{fill}" stroke="{stroke}" '
                       f'stroke-width="2"/>')
        else:
            out.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="6" fill="{fill}" '
                       f'stroke="{stroke}" stroke-width="2"{dash}/>')
        total = sum(line.size * LINE_H for line in b.lines)
        y = b.y - total / 2
        for line in b.lines:
            y += line.size * LINE_H
            out.append(f'<text x="{b.x:.1f}" y="{y - line.size * 0.32:.1f}" text-anchor="middle" '
                       f'font-size="{line.size}" font-weight="{line.weight}" fill="{line.color}">'
                       f'{_esc(line.text)}</text>')
        if b.node.repeat > 1:
            out.append(f'<text class="repeat" x="{x0 + b.w + 6:.1f}" y="{y0 + MAIN_PT:.1f}" font-size="{MAIN_PT + 2}" '
                       f'font-weight="bold" fill="{PALETTE[4]}">×{b.node.repeat}</text>')
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


# -- TikZ ------------------------------------------------------------------------------------------------

def tikz(lay: Layout) -> str:
    """A `tikzpicture` for a Beamer slide (`\\input{file.tex}`; needs only TikZ), dot's positions in pt,
    scaled to the slide's text width."""
    def tex(value: str) -> str:
        return latex_escape(value)

    def pt(p: tuple[float, float]) -> str:
        return f"({p[0]:.1f},{lay.height - p[1]:.1f})"

    colors = sorted({k for b in lay.boxes for k in [b.kind]})
    out = [f"% {tex(lay.title)} -- archstat diagram; positions from Graphviz dot",
           "\\begin{tikzpicture}[x=1pt,y=1pt,"
           "box/.style={draw,rounded corners=2pt,align=center,inner sep=1pt,font=\\sffamily}]"]
    for kind in colors:
        fill, stroke = KIND_COLORS[kind]
        out.append(f"\\definecolor{{fill{kind}}}{{HTML}}{{{fill[1:]}}}"
                   f"\\definecolor{{line{kind}}}{{HTML}}{{{stroke[1:]}}}")
    for f in lay.frames:
        out.append(f"\\draw[dashed,gray] ({f.x0:.1f},{lay.height - f.y0:.1f}) rectangle "
                   f"({f.x1:.1f},{lay.height - f.y1:.1f});")
        if f.header:
            head = " \\\\ ".join([f"\\textbf{{{tex(f.header[0])}}}", *(tex(h) for h in f.header[1:])])
            out.append(f"\\node[anchor=north,align=center,font=\\sffamily\\scriptsize] at "
                       f"({(f.x0 + f.x1) / 2:.1f},{lay.height - f.y0 - 1:.1f}) {{{head}}};")
        else:
            out.append(f"\\node[anchor=north west,font=\\sffamily\\scriptsize,text=gray] at "
                       f"({f.x0 + 2:.1f},{lay.height - f.y0 - 1:.1f}) {{{tex(f.label)}}};")
    for r in lay.routes:
        style = "->,thick" + (",dashed" if r.projection else "") + (",red!70!black" if r.shortcut else "")
        segs = [pt(r.points[0])]
        for i in range(1, len(r.points) - 2, 3):
            segs.append(f".. controls {pt(r.points[i])} and {pt(r.points[i + 1])} .. {pt(r.points[i + 2])}")
        if r.head:
            segs.append(f"-- {pt(r.head)}")
        out.append(f"\\draw[{style}] " + " ".join(segs) + ";")
    for b in lay.boxes:
        shape = "circle" if b.circle else "rectangle"
        body = " \\\\ ".join(
            ("\\textbf{" + tex(line.text) + "}") if line.weight == "bold" else ("{\\scriptsize " + tex(line.text) + "}")
            for line in b.lines)
        dash = ",dashed" if _on_projection(lay, b) else ""
        out.append(f"\\node[box,{shape},fill=fill{b.kind},draw=line{b.kind}{dash},"
                   f"minimum width={b.w:.1f}pt,minimum height={b.h:.1f}pt,font=\\sffamily\\footnotesize] "
                   f"({b.node.id}) at {pt((b.x, b.y))} {{{body}}};")
    if lay.note:
        out.append(f"\\node[anchor=north west,font=\\sffamily\\scriptsize] at (0,-6) {{{tex(lay.note)}}};")
    out.append("\\end{tikzpicture}")
    return "\n".join(out) + "\n"


# -- HTML ------------------------------------------------------------------------------------------------

_SCRIPT = """
(function () {
  var svg = document.querySelector('#diagram svg'), tip = document.getElementById('tip');
  var vb = svg.viewBox.baseVal, drag = null;
  svg.addEventListener('wheel', function (e) {
    e.preventDefault();
    var k = e.deltaY > 0 ? 1.15 : 1 / 1.15, r = svg.getBoundingClientRect();
    var mx = vb.x + (e.clientX - r.left) / r.width * vb.width, my = vb.y + (e.clientY - r.top) / r.height * vb.height;
    vb.x = mx - (mx - vb.x) * k; vb.y = my - (my - vb.y) * k; vb.width *= k; vb.height *= k;
  }, {passive: false});
  svg.addEventListener('mousedown', function (e) { drag = [e.clientX, e.clientY]; });
  window.addEventListener('mouseup', function () { drag = null; });
  svg.addEventListener('mousemove', function (e) {
    if (!drag) return;
    var r = svg.getBoundingClientRect();
    vb.x -= (e.clientX - drag[0]) / r.width * vb.width; vb.y -= (e.clientY - drag[1]) / r.height * vb.height;
    drag = [e.clientX, e.clientY];
  });
  document.getElementById('reset').addEventListener('click', function () {
    vb.x = 0; vb.y = 0; vb.width = %(w)d; vb.height = %(h)d;
  });
  var labels = %(labels)s;
  Array.prototype.forEach.call(document.querySelectorAll('#diagram g.box[data-info]'), function (g) {
    g.addEventListener('mouseenter', function (e) {
      var info = JSON.parse(g.getAttribute('data-info')), rows = [];
      Object.keys(labels).forEach(function (k) {
        rows.push('<tr><th>' + labels[k] + '</th><td>' + info[k] + '</td></tr>');
      });
      tip.innerHTML = '<table>' + rows.join('') + '</table>'; tip.style.display = 'block';
    });
    g.addEventListener('mousemove', function (e) {
      tip.style.left = (e.pageX + 14) + 'px'; tip.style.top = (e.pageY + 14) + 'px';
    });
    g.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  });
})();
"""


def hover_labels(lang: str) -> dict[str, str]:
    """The rows of a box's hover table, in order."""
    return {key: text(f"diagram.hover_{key}", lang)
            for key in ("path", "type", "shape", "params", "macs", "flops", "rf", "repeat")}


def html_fragment(lay: Layout) -> str:
    """The interactive diagram (SVG, tooltip and script) to embed in a page."""
    script = _SCRIPT % {"w": WIDTH, "h": HEIGHT, "labels": json.dumps(hover_labels(lay.lang), ensure_ascii=False)}
    return (f'<div id="diagram" style="position:relative">'
            f'<p class="hint">{_esc(text("diagram.hint", lay.lang))} <button id="reset" type="button">'
            f'{_esc(text("diagram.reset", lay.lang))}</button></p>'
            f'{svg(lay, interactive=True)}</div>'
            '<div id="tip" style="position:absolute;display:none;background:#fff;border:1px solid #999;'
            'padding:6px 10px;font:14px sans-serif;box-shadow:0 2px 6px rgba(0,0,0,.2);pointer-events:none"></div>'
            f"<script>{script}</script>")


def html_page(lay: Layout) -> str:
    """A self-contained offline page: no script, style or font from anywhere else."""
    return ("<!DOCTYPE html>\n"
            f'<html lang="{lay.lang}"><head><meta charset="utf-8"><title>{_esc(lay.title)}</title>'
            "<style>body{margin:16px;font-family:" + _esc(DIAGRAM_FONT) + "}#diagram svg{width:100%;height:auto;"
            "max-width:1280px;border:1px solid #ddd;cursor:grab}th{text-align:left;padding-right:10px}</style>"
            f"</head><body>{html_fragment(lay)}</body></html>\n")


# -- images through a headless browser -------------------------------------------------------------------

def _chromium() -> str:
    for name in CHROMIUM:
        exe = shutil.which(name)
        if exe is not None:
            return exe
    raise ArchstatError("PNG and PDF diagrams need Chromium (scripts/setup.sh installs it); "
                        "write .svg, .tex or .html instead")


def browser_render(svg_text: str, fmt: str) -> bytes:
    """PNG (2× for a projector) or PDF of an SVG, by a headless Chromium with no network."""
    exe = _chromium()
    with tempfile.TemporaryDirectory(prefix="archstat-diagram-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><style>@page{size:"
                        f"{WIDTH}px {HEIGHT}px;margin:0}}html,body{{margin:0;padding:0;overflow:hidden}}"
                        "svg{display:block}</style></head><body>" + svg_text + "</body></html>", encoding="utf-8")
        out = Path(tmp) / f"out.{fmt}"
        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                "--disable-extensions", "--proxy-server=127.0.0.1:9", f"--user-data-dir={tmp}/profile"]
        if fmt == "png":
            args += [f"--window-size={WIDTH},{HEIGHT}", f"--force-device-scale-factor={PNG_SCALE}",
                     f"--screenshot={out}"]
        else:
            args += ["--no-pdf-header-footer", "--print-to-pdf-no-header", f"--print-to-pdf={out}"]
        done = subprocess.run([*args, page.as_uri()], capture_output=True, text=True, timeout=120, check=False,
                              start_new_session=True, env={**os.environ, "HOME": tmp})
        if not out.exists():
            raise ArchstatError(f"chromium could not render the diagram (exit {done.returncode})")
        return out.read_bytes()


def render(lay: Layout, fmt: str) -> bytes:
    """The diagram in one of FORMATS."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown diagram format {fmt!r}; write one of {', '.join('.' + f for f in FORMATS)}")
    if fmt == "tex":
        return tikz(lay).encode("utf-8")
    if fmt == "html":
        return html_page(lay).encode("utf-8")
    picture = svg(lay)
    return picture.encode("utf-8") if fmt == "svg" else browser_render(picture, fmt)


def check_annotations(items: Sequence[str]) -> tuple[str, ...]:
    """The annotation names, each one of ANNOTATIONS."""
    for item in items:
        if item not in ANNOTATIONS:
            raise UsageError(f"--annotate: unknown item {item!r}; "
                             f"choose from {', '.join(ANNOTATIONS)} (comma-separated)")
    return tuple(dict.fromkeys(items))

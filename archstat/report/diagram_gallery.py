"""The lectures' architecture drawings for the gallery: each from a zoo model's recorded forward,
with its table of boxes (Markdown, LaTeX, CSV). VGG's Table 1 and AlexNet's two-GPU columns are
built from the same graphs: a column per configuration, a column per GPU."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

from archstat.analysis.analyze import analyze
from archstat.analysis.graph import INPUT, OUTPUT, Cluster, Edge, Graph, Node, build_graph
from archstat.report.diagram import (
    ADAPTIVE_POOLS,
    CONV_TYPES,
    Hints,
    Layout,
    adaptive_pool_text,
    layout,
    main_part,
    part_text,
    svg,
    title_of,
)
from archstat.report.messages import text
from archstat.report.output import atomic_write
from archstat.report.table import Column, Document, Table
from archstat.report.writers import write_csv, write_latex, write_markdown


@dataclass(frozen=True, slots=True)
class GalleryDiagram:
    """One drawing of the gallery: file stem, and how to make its graph and title."""

    name: str
    graph: Callable[[], Graph]
    title: str = ""
    annotate: tuple[str, ...] = ("params",)
    rankdir: str | None = None
    compact: bool = False
    hints: Callable[[Graph, str], Hints] | None = None


def _graph(model: str, block: str = "", depth: int | None = None, **options: object) -> Callable[[], Graph]:
    return lambda: build_graph(analyze(model, options=options or None), block, depth)


VGG_CONFIGS = (("A", "vgg11"), ("A-LRN", "vgg11_lrn"), ("B", "vgg13"), ("C", "vgg16c"), ("D", "vgg16"), ("E", "vgg19"))


def vgg_table_graph() -> Graph:
    """VGG's Table 1: one column (a frame) per configuration, every layer a box of its own, top to
    bottom (no ×N: the paper lists each layer). The frame's type holds the parameter count, its row
    the number of weight layers."""
    nodes: list[Node] = []
    edges: list[Edge] = []
    clusters: list[Cluster] = []
    for letter, model in VGG_CONFIGS:
        analysis = analyze(model)
        g = build_graph(analysis, "", 2, collapse=False)
        chain = [replace(n, id=f"{letter}_{n.id}", cluster=f"c{letter}")
                 for n in g.nodes if n.kind not in (INPUT, OUTPUT)]
        weights = sum(1 for r in analysis.layers if r.is_leaf and r.type in ("Conv2d", "Linear"))
        clusters.append(Cluster(f"c{letter}", str(analysis.totals.params), letter, None, 1, weights))
        nodes += chain
        ids = {n.id for n in chain}
        edges += [Edge(f"{letter}_{e.src}", f"{letter}_{e.dst}") for e in g.edges
                  if f"{letter}_{e.src}" in ids and f"{letter}_{e.dst}" in ids]
    return Graph("vgg", "A–E", 2, tuple(nodes), tuple(edges), tuple(clusters))


def paper_label(node: Node) -> str:
    """A layer as VGG's Table 1 writes it: `conv3-64`, `maxpool`, `FC-4096`, `LRN` after its conv."""
    main = main_part(node)
    if main is None:
        return title_of(node, "en")
    if main.type in CONV_TYPES and main.spec is not None:
        lrn = " · LRN" if any(p.type == "LocalResponseNorm" for p in node.parts) else ""
        return f"conv{main.spec.kernel[0]}-{main.output_shape[1]}{lrn}"
    if main.type == "MaxPool2d":
        return "maxpool"
    if main.type == "Linear":
        return f"FC-{main.output_shape[-1]}"
    if main.type in ADAPTIVE_POOLS:
        return adaptive_pool_text(main, identity=False)   # the note says it is an identity here
    return part_text(main)


def _is_maxpool(node: Node) -> bool:
    main = main_part(node)
    return main is not None and main.type == "MaxPool2d"


def _stages(chain: Sequence[Node]) -> list[list[Node]]:
    """A column cut after each maxpool: the five stages, then the head."""
    out: list[list[Node]] = [[]]
    for n in chain:
        out[-1].append(n)
        if _is_maxpool(n):
            out.append([])
    return out


def vgg_table_hints(graph: Graph, lang: str) -> Hints:
    """Table 1's rows: a stage's convs from its top row down (as many rows as the deepest column has
    convs), its maxpools on one row, then the head layer by layer. Each column headed by its letter,
    weight layers and parameters (millions, as the paper's Table 2)."""
    columns = [_stages(sorted((n for n in graph.nodes if n.cluster == c.id), key=lambda n: n.order))
               for c in graph.clusters]
    rows: list[tuple[str, ...]] = []
    for s in range(max(len(stages) for stages in columns)):
        cells = [stages[s] if s < len(stages) else [] for stages in columns]
        body = [c[:-1] if c and _is_maxpool(c[-1]) else c for c in cells]
        rows += [tuple(b[i].id for b in body if i < len(b)) for i in range(max(len(b) for b in body))]
        pools = tuple(c[-1].id for c in cells if c and _is_maxpool(c[-1]))
        rows += [pools] if pools else []
    headers = tuple((c.id, (c.path, text("diagram.vgg_header", lang, layers=c.row,
                                          params=f"{int(c.type) / 1e6:.0f}")))
                    for c in graph.clusters)
    return Hints(rows=tuple(r for r in rows if r), labels=tuple((n.id, paper_label(n)) for n in graph.boxes),
                 headers=headers, note=text("diagram.vgg_note", lang), paths=False, arrows=False, uniform=True)


def dense_block_graph() -> Graph:
    """The dense block with its transition, in the frames of the block and the transition only (each
    dense layer is a row of its own)."""
    g = build_graph(analyze("dense_block"), "", 3)
    parent = {c.id: c.parent for c in g.clusters}

    def top(c: str | None) -> str | None:
        while c is not None and parent[c] is not None:
            c = parent[c]
        return c

    return replace(g, nodes=tuple(replace(n, cluster=top(n.cluster)) for n in g.nodes),
                   clusters=tuple(c for c in g.clusters if c.parent is None))


def dense_hints(graph: Graph, lang: str) -> Hints:
    """A row per dense layer (its 1×1 reduction, its 3×3 conv, its concat), so that the concats
    form the chain down the right, as the lectures draw it; the growth rate k, read off the
    concatenations, in the title."""
    rows: dict[str, list[str]] = {}
    for n in sorted(graph.boxes, key=lambda n: n.order):
        owner = n.path if n.kind == "op" else n.path.rsplit(".", 1)[0]
        rows.setdefault(owner, []).append(n.id)
    layers = list(rows.values())
    layers[0].insert(0, INPUT)      # the input beside the first layer, the output after the transition
    layers[-1].append(OUTPUT)
    cats = sorted((n for n in graph.boxes if n.type == "cat"), key=lambda n: n.order)
    channels = [graph.node(INPUT).output_shape[1], *(n.output_shape[1] for n in cats)]
    growth = sorted({b - a for a, b in pairwise(channels)})
    k = ", ".join(map(str, growth))
    return Hints(rows=tuple(tuple(r) for r in layers), ranksep=0.14, paths=False, joined=True,
                 title=text("diagram.dense_title", lang, k=k, first=channels[0], last=channels[-1], layers=len(cats)))


def alexnet_columns_graph() -> Graph:
    """AlexNet's two GPUs: every layer split into two halves; a grouped conv (groups=2), a pool or
    an LRN stays on its GPU, a full conv or FC layer reads both halves (the paper's Figure 2)."""
    g = build_graph(analyze("alexnet"), "", 2)
    chain = [n for n in sorted(g.nodes, key=lambda n: n.order) if n.kind not in (INPUT, OUTPUT)]
    nodes: list[Node] = [g.node(INPUT)]
    edges: list[Edge] = []
    previous: list[str] = [INPUT]
    for n in chain:
        halves = []
        for gpu in (1, 2):
            shape = tuple(d // 2 if i == 1 else d for i, d in enumerate(n.output_shape))
            parts = tuple(replace(p, output_shape=tuple(d // 2 if i == 1 else d for i, d in enumerate(p.output_shape)))
                          for p in n.parts)
            # on its GPU a groups=2 conv is an ordinary conv over that GPU's half of the maps: "Conv 5×5, 128"
            parts = tuple(replace(p, spec=replace(p.spec, groups=max(p.spec.groups // 2, 1)))
                          if p.spec is not None else p for p in parts)
            halves.append(replace(n, id=f"{n.id}_{gpu}", output_shape=shape, parts=parts, params=n.params // 2,
                                  macs=n.macs // 2, flops=n.flops // 2, cluster=f"gpu{gpu}"))
        nodes += halves
        main = next((p for p in n.parts if p.spec is not None or p.type == "Linear"), None)
        stays = main is not None and (main.spec is not None and (main.spec.groups == 2 or main.type != "Conv2d"))
        for i, half in enumerate(halves):
            sources = [previous[i]] if stays and len(previous) == 2 else previous
            edges += [Edge(s, half.id) for s in sources]
        previous = [h.id for h in halves]
    nodes.append(g.node(OUTPUT))
    edges += [Edge(s, OUTPUT) for s in previous]
    clusters = (Cluster("gpu1", "", "GPU 1", None), Cluster("gpu2", "", "GPU 2", None))
    return Graph("alexnet", "", 2, tuple(nodes), tuple(edges), clusters)


DIAGRAMS = (
    GalleryDiagram("09_inception_naive", _graph("inception_naive"), annotate=("params", "macs")),
    GalleryDiagram("09_inception_reduced", _graph("inception_reduced"), annotate=("params", "macs")),
    GalleryDiagram("10_resnet_basic_block", _graph("resnet_basic_block", "", 2), annotate=("params", "macs")),
    GalleryDiagram("10_resnet_bottleneck_block", _graph("resnet_bottleneck_block", "", 2),
                   annotate=("params", "macs")),
    GalleryDiagram("10_resnet50_projection", _graph("resnet50", "layer2.0", 1), annotate=("params", "macs")),
    GalleryDiagram("11_dense_block", dense_block_graph, annotate=(), hints=dense_hints),
    GalleryDiagram("12_vgg_configurations", vgg_table_graph, annotate=(), rankdir="TB", compact=True,
                   hints=vgg_table_hints),
    GalleryDiagram("13_alexnet_two_gpus", alexnet_columns_graph, annotate=(), rankdir="LR"),
    GalleryDiagram("14_lenet5_strip", _graph("lenet5", "", 2), annotate=("params",), rankdir="LR"),
)


def _columns(lang: str) -> Sequence[Column[Node]]:
    return (
        Column(text("diagram.col_layer", lang), "path", lambda n: n.path, numeric=False, code=True),
        Column(text("diagram.col_box", lang), "box", lambda n: " · ".join(
            [title_of(n, lang), *(part_text(p) for p in n.parts[1:])]) if n.parts else title_of(n, lang),
            numeric=False),
        Column(text("diagram.col_shape", lang), "output_shape", lambda n: "×".join(map(str, n.output_shape[1:])),
               numeric=False),
        Column(text("diagram.col_repeat", lang), "repeat", lambda n: n.repeat),
        Column(text("diagram.col_params", lang), "params", lambda n: n.params, lambda v: f"{int(v):,}"),
        Column(text("diagram.col_macs", lang), "macs", lambda n: n.macs, lambda v: f"{int(v):,}"),
    )


def diagram_tables(graph: Graph, title: str, lang: str = "en") -> dict[str, str]:
    """The boxes of a drawing as a table, by suffix."""
    boxes = sorted(graph.boxes, key=lambda n: (n.cluster or "", n.order))
    table = Table.build(title, list(_columns(lang)), boxes)
    return {"md": write_markdown(Document((replace(table, title=""),))),
            "tex": write_latex(Document((table,))), "csv": write_csv(Document((table,)))}


def draw(entry: GalleryDiagram, lang: str = "en") -> tuple[Graph, Layout]:
    graph = entry.graph()
    title = {"12_vgg_configurations": text("diagram.vgg_title", lang),
             "13_alexnet_two_gpus": text("diagram.alexnet_title", lang)}.get(entry.name)
    return graph, layout(graph, annotate=entry.annotate, lang=lang, title=title, rankdir=entry.rankdir,
                         compact=entry.compact, hints=entry.hints(graph, lang) if entry.hints else None)


def write_diagrams(out_dir: Path, lang: str = "en") -> list[Path]:
    """Every drawing as `NN_name.svg` with its `.md`, `.tex` and `.csv`."""
    written = []
    for entry in DIAGRAMS:
        graph, lay = draw(entry, lang)
        target = out_dir / f"{entry.name}.svg"
        atomic_write(target, svg(lay))
        written.append(target)
        for suffix, body in diagram_tables(graph, lay.title, lang).items():
            atomic_write(out_dir / f"{entry.name}.{suffix}", body)
            written.append(out_dir / f"{entry.name}.{suffix}")
    return written

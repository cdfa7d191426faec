"""The architecture as a graph of boxes, built from the recorded data flow: what `archstat diagram` draws.

Numbers only, no drawing. A box is a module call (a leaf layer, or a container drawn whole) or a
functional op that merges paths in a container's own forward (`x + identity`, `torch.cat`). Edges
are the tensors that flowed between them in the recorded forward, so a diagram can never disagree
with the summary table that the same forward produced.

- `depth` expands containers down to that many levels below the root (`block`); an expanded
  container is a frame (`Cluster`) around its boxes.
- Parameter-free or normalising leaves that only post-process one box (ReLU, BN, LRN, dropout) fold
  into it: `Conv 3×3 · ReLU` is one box, as the lectures draw it.
- Consecutive identical blocks (same type, shapes, parameters and operations, each feeding the next)
  collapse to the first, marked ×N; an expanded one shows the first instance's inside in a ×N frame.
- The in-edge of an add that comes from the earliest source is the residual shortcut; it is a
  projection when it passes through a layer with parameters.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from archstat.analysis.records import Analysis, LayerSpec, LayerStats
from archstat.analysis.rf.field import Field
from archstat.errors import UsageError

Shape = tuple[int, ...]
NodeKind = Literal["input", "output", "layer", "block", "op"]
AUTO_BOXES = 30                 # the automatic depth keeps at most this many boxes (slide-sized)
FOLDABLE = frozenset({"activation", "norm", "elementwise"})   # what a leaf may compute to fold into its producer
MERGE_OPS = frozenset({"add", "add_", "cat", "mul", "mul_", "sub", "sub_", "stack"})
INPUT: NodeKind = "input"
OUTPUT: NodeKind = "output"


@dataclass(frozen=True, slots=True)
class Part:
    """One module inside a box, in order: the main layer and the layers folded into it."""

    type: str
    spec: LayerSpec | None
    output_shape: Shape
    input_shape: Shape = ()


@dataclass(frozen=True, slots=True)
class Node:
    """One box of the diagram."""

    id: str
    kind: NodeKind
    type: str                        # the module type ("Conv2d", "Bottleneck") or the op ("add", "cat")
    path: str                        # relative to the root; "layer1.1–2" for a run
    output_shape: Shape
    parts: tuple[Part, ...] = ()     # for a box whose inside is a chain with one main layer
    rows: tuple[int, ...] = ()       # the analysis rows it stands for (every instance, folded layers)
    params: int = 0
    macs: int = 0
    flops: int = 0
    rf: Field | None = None
    repeat: int = 1                  # ×N
    cluster: str | None = None       # id of the frame it sits in
    order: int = 0                   # execution order, for a stable layout


@dataclass(frozen=True, slots=True)
class Edge:
    """A tensor that flowed from one box into another."""

    src: str
    dst: str
    shortcut: bool = False           # the residual bypass
    projection: bool = False         # ... through a layer with parameters (drawn dashed)


@dataclass(frozen=True, slots=True)
class Cluster:
    """An expanded container: a frame around its boxes."""

    id: str
    type: str
    path: str
    parent: str | None
    repeat: int = 1
    row: int = 0


@dataclass(frozen=True, slots=True)
class Graph:
    """What `archstat diagram` draws for one model or block."""

    model: str
    block: str                       # "" for the whole model
    depth: int
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    clusters: tuple[Cluster, ...] = field(default=())

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    @property
    def boxes(self) -> tuple[Node, ...]:
        """The nodes that stand for layers, blocks or ops (not the input and output)."""
        return tuple(n for n in self.nodes if n.kind not in (INPUT, OUTPUT))


def find_block(analysis: Analysis, block: str) -> LayerStats:
    """The first call of the module at `block`, or a usage error suggesting close paths."""
    row = next((r for r in analysis.layers if r.path == block), None)
    if row is None:
        paths = [r.path for r in analysis.layers if r.path and not r.is_leaf] or [r.path for r in analysis.layers]
        close = difflib.get_close_matches(block, paths, n=4, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; blocks: {', '.join(paths[:6])}, ..."
        raise UsageError(f"--block {block!r}: no module at that path ran in the forward of {analysis.model}{hint}")
    return row


def build_graph(analysis: Analysis, block: str = "", depth: int | None = None, *, collapse: bool = True) -> Graph:
    """The boxes and edges of `block` (the whole model when empty), expanded `depth` levels
    (None: the deepest level that keeps at most AUTO_BOXES boxes). `collapse` False keeps every
    repeated block and layer as a box of its own (no ×N), as a table of configurations lists them."""
    root = find_block(analysis, block).index if block else 0
    if depth is not None:
        if depth < 1:
            raise UsageError(f"--depth must be at least 1, not {depth}")
        return _Builder(analysis, root, depth, collapse).build()
    deepest = max((r.depth for r in analysis.layers), default=0) - analysis.layers[root].depth
    chosen = _Builder(analysis, root, 1, collapse).build()
    for d in range(2, deepest + 1):
        graph = _Builder(analysis, root, d, collapse).build()
        if len(graph.boxes) > AUTO_BOXES:
            break
        chosen = graph
    return chosen


class _Builder:
    def __init__(self, analysis: Analysis, root: int, depth: int, collapse: bool = True) -> None:
        self.a = analysis
        self.collapse = collapse
        self.rows = analysis.layers
        self.flow = analysis.flow
        self.ops = analysis.ops
        self.root = root
        self.depth = depth
        n = len(self.rows)
        self.last = list(range(n))            # last call of each call's subtree (pre-order)
        for i in range(n - 1, 0, -1):
            p = self.rows[i].parent
            if p >= 0:
                self.last[p] = max(self.last[p], self.last[i])
        self.children: dict[int, list[int]] = {}
        for r in self.rows:
            self.children.setdefault(r.parent, []).append(r.index)
        self.base = self.rows[root].depth
        self.rep_call: dict[int, int] = {}    # call in a hidden instance -> its call in the first
        self.rep_op: dict[int, int] = {}
        self.run_of: dict[int, tuple[int, int]] = {}   # first instance -> (repeat, last instance)

    # -- the tree -----------------------------------------------------------------------------------

    def in_root(self, call: int) -> bool:
        return self.root <= call <= self.last[self.root]

    def expanded(self, call: int) -> bool:
        row = self.rows[call]
        return call == self.root or (not row.is_leaf and row.depth - self.base < self.depth
                                     and bool(self.children.get(call)))

    def ops_of(self, call: int) -> list[int]:
        ops = self.ops
        out = []
        for j in range(self.flow.first_op[call], len(ops)):
            if not call <= ops[j].call <= self.last[call]:
                break
            out.append(j)
        return out

    def signature(self, call: int) -> tuple[object, ...]:
        row = self.rows[call]
        return (row.type, row.input_shapes, row.output_shapes, row.params, row.macs, row.flops,
                tuple(self.signature(c) for c in self.children.get(call, ())))

    def feeds(self, a: int, b: int) -> bool:
        """Whether call `b` read an output of call `a`."""
        made = set(self.flow.output_sources[a])
        return any(s in made for j in self.ops_of(b) for s in self.ops[j].sources)

    def find_runs(self) -> None:
        """Consecutive identical sibling blocks, each feeding the next, inside expanded containers."""
        stack = [self.root]
        while stack:
            parent = stack.pop()
            kids = self.children.get(parent, [])
            i = 0
            while i < len(kids):
                j = i + 1
                while (j < len(kids) and not self.rows[kids[i]].is_leaf
                       and self.signature(kids[j]) == self.signature(kids[i])
                       and self.feeds(kids[j - 1], kids[j])
                       and len(self.ops_of(kids[j])) == len(self.ops_of(kids[i]))):
                    j += 1
                if j - i >= 2:
                    first = kids[i]
                    self.run_of[first] = (j - i, kids[j - 1])
                    first_ops = self.ops_of(first)
                    for hidden in kids[i + 1:j]:
                        for c in range(hidden, self.last[hidden] + 1):
                            self.rep_call[c] = c - hidden + first
                        for k, op in enumerate(self.ops_of(hidden)):
                            self.rep_op[op] = first_ops[k]
                stack.extend(k for k in kids[i:j][:1] if self.expanded(k))
                i = j

    # -- boxes and edges ----------------------------------------------------------------------------

    def build(self) -> Graph:
        if self.collapse:
            self.find_runs()
        rows, ops = self.rows, self.ops
        box_of: dict[int, int | None] = {}          # call -> the box call it is drawn in; None: expanded
        for c in range(self.root, self.last[self.root] + 1):
            if c in self.rep_call:
                continue
            parent = rows[c].parent
            inside = c != self.root and box_of.get(parent) is not None
            box_of[c] = box_of[parent] if inside else (None if self.expanded(c) else c)

        def owner(j: int) -> str | None:
            """The node an op belongs to, or None for a transparent op (a view, a copy)."""
            j = self.rep_op.get(j, j)
            call = ops[j].call
            box = box_of.get(call)
            if box is not None:
                return f"n{box}"
            # a merge (add, cat) is a node; so is other work in a container's forward on one path,
            # except elementwise post-processing (F.relu, a scale), which is drawn as the edge
            merging = len({o for s in ops[j].sources for o in resolve(s)}) >= 2
            return f"o{j}" if merging or ops[j].category not in (None, *FOLDABLE) else None

        memo: dict[int, tuple[str, ...]] = {}

        def resolve(j: int) -> tuple[str, ...]:
            """The nodes an op's output comes from (through transparent ops)."""
            if j < 0 or not self.in_root(ops[j].call):
                return (INPUT,)
            if j not in memo:
                memo[j] = ()
                own = owner(j)
                memo[j] = (own,) if own is not None else tuple(
                    dict.fromkeys(o for s in ops[j].sources for o in resolve(s)))
            return memo[j]

        nodes: dict[str, Node] = {}
        edges: dict[tuple[str, str], None] = {}
        root_row = rows[self.root]
        nodes[INPUT] = Node(INPUT, INPUT, INPUT, "", root_row.input_shapes[0] if root_row.input_shapes else ())
        for j in self.ops_of(self.root):
            if j in self.rep_op:
                continue
            tgt = owner(j)
            if tgt is None:
                continue
            if tgt not in nodes:
                nodes[tgt] = self.node(tgt, j)
            for s in ops[j].sources:
                for src in resolve(s):
                    if src != tgt:
                        edges[(src, tgt)] = None
        nodes[OUTPUT] = Node(OUTPUT, OUTPUT, OUTPUT, "", root_row.output_shape, order=len(ops))
        for s in self.flow.output_sources[self.root]:
            for src in resolve(s):
                edges[(src, OUTPUT)] = None
        clusters = self.clusters(nodes)
        graph = Graph(self.a.model, root_row.path, self.depth, tuple(nodes.values()),
                      tuple(Edge(s, d) for s, d in edges), clusters)
        graph = _prune_clusters(_fold(graph, leaf_categories(self.a)))
        return _mark_shortcuts(_collapse_chains(graph) if self.collapse else graph)

    def rel(self, call: int) -> str:
        path, root = self.rows[call].path, self.rows[self.root].path
        return path[len(root) + 1:] if root and path.startswith(root + ".") else path

    def run_path(self, call: int) -> tuple[str, int, int]:
        """Path (with the run's range), repeat and the last instance of a run's first call."""
        repeat, last = self.run_of.get(call, (1, call))
        if repeat == 1:
            return self.rel(call), 1, call
        first, final = self.rel(call), self.rel(last)
        common = first.rsplit(".", 1)
        tail = final.rsplit(".", 1)[-1]
        return (f"{first}–{tail}" if len(common) == 2 else f"{first}–{final}"), repeat, last

    def instances(self, call: int) -> list[int]:
        _, last = self.run_of.get(call, (1, call))
        return [c for c in self.children.get(self.rows[call].parent, []) if call <= c <= last]

    def cluster_of(self, call: int) -> str | None:
        """The frame of the expanded container around `call` (the root draws none)."""
        parent = self.rows[call].parent
        return f"c{parent}" if parent >= 0 and parent != self.root and self.in_root(parent) else None

    def node(self, node_id: str, op: int) -> Node:
        ops = self.ops
        if node_id.startswith("o"):
            call = ops[op].call
            shape = self.rows[call].output_shape
            return Node(node_id, "op", ops[op].name.rstrip("_"), self.rel(call), shape, (), (), 0, 0, 0, None, 1,
                        f"c{call}" if call != self.root else None, op)
        call = int(node_id[1:])
        row = self.rows[call]
        path, _, last = self.run_path(call)
        insts = self.instances(call)
        leaves = [c for c in range(call, self.last[call] + 1) if self.rows[c].is_leaf]
        parts = tuple(Part(self.rows[c].type, self.flow.specs.get(c), self.rows[c].output_shape,
                           self.rows[c].input_shapes[0] if self.rows[c].input_shapes else ()) for c in leaves)
        return Node(node_id, "layer" if row.is_leaf else "block", row.type, path, self.rows[last].output_shape,
                    parts, tuple(insts), sum(self.rows[c].params for c in insts),
                    sum(self.rows[c].macs for c in insts), sum(self.rows[c].flops for c in insts),
                    self.rows[last].rf, len(insts), self.cluster_of(call), op)

    def clusters(self, nodes: dict[str, Node]) -> tuple[Cluster, ...]:
        used = {n.cluster for n in nodes.values() if n.cluster}
        out: dict[str, Cluster] = {}
        for cid in sorted(used, key=lambda c: int(c[1:])):
            call: int | None = int(cid[1:])
            while call is not None and f"c{call}" not in out:
                path, repeat, _ = self.run_path(call)
                root = self.rows[self.root].path
                path = f"{root}.{path}" if root else path
                parent = self.cluster_of(call)
                out[f"c{call}"] = Cluster(f"c{call}", self.rows[call].type, path, parent, repeat, call)
                call = int(parent[1:]) if parent else None
        return tuple(sorted(out.values(), key=lambda c: c.row))


# -- simplifications (on the graph alone) ----------------------------------------------------------

def _adjacency(graph: Graph) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    ins: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    outs: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for e in graph.edges:
        outs[e.src].append(e.dst)
        ins[e.dst].append(e.src)
    return ins, outs


def _prune_clusters(graph: Graph) -> Graph:
    """Keep a frame around two boxes or more when it holds a merge (a residual add, a concat), stands
    for a run, or is a top-level part of a root that merges nothing itself (VGG's features and
    classifier); Inception's branches, side by side under their concat, need none."""
    count: dict[str, int] = {}
    parents = {c.id: c.parent for c in graph.clusters}
    has_op: set[str] = set()
    root_merges = any(n.kind == "op" and n.cluster is None for n in graph.nodes)
    for n in graph.nodes:
        c = n.cluster
        while c is not None:
            count[c] = count.get(c, 0) + 1
            if n.kind == "op":
                has_op.add(c)
            c = parents[c]
    keep = {c.id for c in graph.clusters
            if count.get(c.id, 0) >= 2
            and (c.id in has_op or c.repeat > 1 or (c.parent is None and not root_merges))}

    def kept(c: str | None) -> str | None:
        while c is not None and c not in keep:
            c = parents[c]
        return c

    nodes = tuple(replace(n, cluster=kept(n.cluster)) for n in graph.nodes)
    clusters = tuple(replace(c, parent=kept(c.parent)) for c in graph.clusters if c.id in keep)
    return replace(graph, nodes=nodes, clusters=clusters)


def _foldable(n: Node, category_of: dict[int, frozenset[str]]) -> bool:
    return (n.kind == "layer" and len(n.rows) == 1 and n.repeat == 1
            and category_of.get(n.rows[0], frozenset()) <= FOLDABLE)


def _fold(graph: Graph, categories: dict[int, frozenset[str]]) -> Graph:
    """Fold each activation/norm/dropout leaf into the one box it post-processes."""
    nodes = {n.id: n for n in graph.nodes}
    edges = list(graph.edges)
    for n in sorted(graph.nodes, key=lambda n: n.order):
        ins = [e for e in edges if e.dst == n.id]
        if not _foldable(n, categories) or len(ins) != 1:
            continue
        producer = nodes[ins[0].src]
        outs = [e for e in edges if e.src == producer.id]
        if producer.kind not in ("layer", "block") or len(outs) != 1 or producer.cluster != n.cluster:
            continue
        if n.output_shape != producer.output_shape and categories.get(n.rows[0]):
            continue   # a leaf that computes and reshapes (LeNet's RBF output) is a layer of its own
        nodes[producer.id] = replace(
            producer, parts=producer.parts + n.parts, rows=producer.rows + n.rows,
            params=producer.params + n.params, macs=producer.macs + n.macs, flops=producer.flops + n.flops,
            output_shape=n.output_shape, rf=n.rf if n.rf is not None else producer.rf)
        del nodes[n.id]
        edges = [Edge(producer.id, e.dst) if e.src == n.id else e for e in edges if e.dst != n.id]
    return replace(graph, nodes=tuple(nodes.values()), edges=tuple(edges))


def _box_signature(n: Node) -> tuple[object, ...]:
    return (n.kind, n.type, n.parts, n.output_shape, n.params // max(n.repeat, 1), n.macs // max(n.repeat, 1))


def _collapse_chains(graph: Graph) -> Graph:
    """Merge a box into its predecessor when both are the same and it is the only one either feeds."""
    nodes = {n.id: n for n in graph.nodes}
    edges = list(graph.edges)
    changed = True
    while changed:
        changed = False
        for e in edges:
            a, b = nodes.get(e.src), nodes.get(e.dst)
            if a is None or b is None or a.kind not in ("layer", "block") or a.cluster != b.cluster:
                continue
            if a.repeat != 1 or b.repeat != 1 or _box_signature(a) != _box_signature(b):
                continue
            if sum(x.src == a.id for x in edges) != 1 or sum(x.dst == b.id for x in edges) != 1:
                continue
            start = a.path.rsplit("–", 1)[0]
            nodes[a.id] = replace(a, repeat=a.repeat + b.repeat, path=f"{start}–{b.path}", rows=a.rows + b.rows,
                                  params=a.params + b.params, macs=a.macs + b.macs, flops=a.flops + b.flops,
                                  rf=b.rf)
            del nodes[b.id]
            edges = [Edge(a.id, x.dst) if x.src == b.id else x for x in edges if x is not e]
            changed = True
            break
    return replace(graph, nodes=tuple(nodes.values()), edges=tuple(edges))


def _mark_shortcuts(graph: Graph) -> Graph:
    """The residual bypass: into each add, the in-edge from the earliest source."""
    nodes = {n.id: n for n in graph.nodes}
    ins, outs = _adjacency(graph)
    marks: dict[tuple[str, str], bool] = {}
    for n in graph.nodes:
        if n.kind != "op" or n.type != "add" or len(ins[n.id]) < 2:
            continue
        src = min(ins[n.id], key=lambda s: nodes[s].order)
        via = nodes[src]
        projection = via.kind in ("layer", "block") and via.params > 0 and outs[src] == [n.id]
        marks[(src, n.id)] = projection
        if projection:
            for before in ins[src]:
                marks[(before, src)] = True
    edges = tuple(replace(e, shortcut=True, projection=marks[(e.src, e.dst)]) if (e.src, e.dst) in marks else e
                  for e in graph.edges)
    return replace(graph, edges=edges)


def leaf_categories(analysis: Analysis) -> dict[int, frozenset[str]]:
    """Per row, the op categories its own ops fall in (for folding)."""
    out: dict[int, set[str]] = {}
    for op in analysis.ops:
        if op.category is not None:
            out.setdefault(op.call, set()).add(op.category)
    return {k: frozenset(v) for k, v in out.items()}


def describe_counts(graph: Graph) -> dict[str, int]:
    """Boxes, edges and ×N marks: what a drawing of `graph` holds (the tests count them)."""
    return {"boxes": len(graph.boxes), "edges": len(graph.edges),
            "repeats": sum(1 for n in graph.nodes if n.repeat > 1) + sum(1 for c in graph.clusters if c.repeat > 1)}


def rows_of(graph: Graph, analysis: Analysis) -> Sequence[LayerStats]:
    """The analysis rows every box stands for, in execution order."""
    return [analysis.layers[i] for n in sorted(graph.boxes, key=lambda n: n.order) for i in n.rows]

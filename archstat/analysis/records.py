"""The analyzer's results: frozen records whose field names carry their units."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from archstat.analysis.ops.costs import CATEGORIES, CONVENTIONS
from archstat.analysis.rf.field import Field

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1
Shape = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CategoryCost:
    """MACs and FLOPs of one op category (conv, linear, norm, ...)."""

    macs: int
    flops: int


@dataclass(frozen=True, slots=True)
class LayerStats:
    """One module call. Containers carry the roll-up of their children plus their own ops."""

    index: int                       # position in execution (pre-)order
    path: str                        # "layer1.0.conv1"; "" for the model itself
    type: str                        # "Conv2d"
    depth: int                       # 0 for the model, 1 for its children, ...
    parent: int                      # index of the enclosing call, -1 for the model
    call: int                        # 0 for the first call of this module, 1 for the second, ...
    is_leaf: bool
    input_shapes: tuple[Shape, ...]
    output_shapes: tuple[Shape, ...]
    params: int                      # parameters first counted in this call (shared ones once)
    trainable_params: int
    shared: bool                     # a parameter here was already counted in an earlier row
    param_bytes: int
    macs: int
    flops: int
    activation_bytes: int            # lecture convention, see CONVENTIONS["activation_bytes"]
    by_category: Mapping[str, CategoryCost]
    rf: Field | None = None          # receptive field of the first output on the input

    @property
    def output_shape(self) -> Shape:
        """The first output's shape (most layers have one)."""
        return self.output_shapes[0] if self.output_shapes else ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict in the documented schema."""
        return {
            "index": self.index,
            "path": self.path,
            "type": self.type,
            "depth": self.depth,
            "parent": self.parent,
            "call": self.call,
            "is_leaf": self.is_leaf,
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shape": list(self.output_shape),
            "output_shapes": [list(s) for s in self.output_shapes],
            "params": self.params,
            "trainable_params": self.trainable_params,
            "shared": self.shared,
            "param_bytes": self.param_bytes,
            "macs": self.macs,
            "flops": self.flops,
            "activation_bytes": self.activation_bytes,
            "by_category": {
                name: {"macs": cost.macs, "flops": cost.flops} for name, cost in self.by_category.items()
            },
            "rf": self.rf.to_dict() if self.rf is not None else None,
        }


@dataclass(frozen=True, slots=True)
class OpStats:
    """One executed ATen op and what it cost, charged to the innermost module call that ran it."""

    name: str                        # "convolution", "relu_"
    call: int                        # index of that call's row in `Analysis.layers`; -1 outside any module
    category: str | None             # None: free (a view, cat, ...) or unsupported
    macs: int
    flops: int
    supported: bool                  # False: no formula, counted as 0 and the totals are partial
    sources: tuple[int, ...] = ()    # indices of the ops whose outputs it read; -1: a model input


@dataclass(frozen=True, slots=True)
class Totals:
    """Whole-model figures. Parameters are counted once even when shared."""

    params: int
    trainable_params: int
    executed_params: int             # parameters of modules the forward actually ran
    macs: int
    flops: int
    bias_flops: int                  # the part of `flops` that adds conv/linear biases
    activation_bytes: int
    peak_activation_bytes: int
    training_activation_bytes: int | None   # None unless analyze(saved_for_backward=True)
    param_bytes: int
    buffer_bytes: int
    input_bytes: int
    partial: bool
    by_category: Mapping[str, CategoryCost]
    # the part of linear's MACs that multiplies two activations: attention's Q·Kᵀ and P·V
    attention_macs: int = 0

    def saved_bytes(self) -> int:
        """`training_activation_bytes`, for a caller that asked for it (`analyze(saved_for_backward=True)`)."""
        if self.training_activation_bytes is None:
            raise ValueError("the saved-for-backward bytes were not measured: analyze(..., saved_for_backward=True)")
        return self.training_activation_bytes

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict in the documented schema."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "by_category"}
        out["by_category"] = {
            name: {"macs": cost.macs, "flops": cost.flops} for name, cost in self.by_category.items()
        }
        return out


@dataclass(frozen=True, slots=True)
class Growth:
    """Receptive-field growth: the spatial layers in execution order and the summary figures of
    their fields (computed once by `archstat.analysis.rf.growth.compute_growth`)."""

    rows: tuple[LayerStats, ...]         # spatial layers in the order their outputs are made
    final: LayerStats | None             # the layer with the largest field
    covering: LayerStats | None          # the first layer whose field spans the whole input
    input_size: tuple[int, ...]          # spatial size of the input
    # the first leaf layer whose output sees the whole input through a global op (a global pool,
    # squeeze-and-excitation, a linear layer or attention over positions), if any
    global_from: LayerStats | None = None

    def to_dict(self) -> dict[str, Any]:
        """Rows by their layer index."""
        return {
            "rows": [r.index for r in self.rows],
            "final": self.final.index if self.final is not None else None,
            "covering": self.covering.index if self.covering is not None else None,
            "input_size": list(self.input_size),
            "global_from": self.global_from.index if self.global_from is not None else None,
        }


@dataclass(frozen=True, slots=True)
class CumulativeShare:
    """Running totals over the leaf layers in execution order, up to and including `row`, and
    their share of the sum over all leaves (so the last leaf is at 100 %)."""

    row: LayerStats
    params: int
    macs: int
    activation_bytes: int
    params_pct: float
    macs_pct: float
    activation_pct: float

    def to_dict(self) -> dict[str, Any]:
        """The row by its layer index."""
        out: dict[str, Any] = {"index": self.row.index}
        out.update({f.name: getattr(self, f.name) for f in fields(self) if f.name != "row"})
        return out


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """What a drawing says about a conv or pool layer besides its shapes (read from the module)."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    groups: int = 1


@dataclass(frozen=True, slots=True)
class DataFlow:
    """Where each call's ops begin and which ops made its outputs (`OpStats.sources` says which op fed
    which); `archstat.analysis.graph` draws boxes from it."""

    first_op: tuple[int, ...] = ()                  # per row: index of its first op
    output_sources: tuple[tuple[int, ...], ...] = ()   # per row: the ops that made its outputs
    specs: Mapping[int, LayerSpec] = field(default_factory=dict)   # row index -> conv/pool spec


@dataclass(frozen=True, slots=True)
class StepCost:
    """A training step's arithmetic: the training-mode forward, and the backward split into the
    work that yields activations' gradients (input) and parameters' gradients (weight)."""

    forward_macs: int = 0
    forward_flops: int = 0
    input_grad_macs: int = 0
    input_grad_flops: int = 0
    weight_grad_macs: int = 0
    weight_grad_flops: int = 0

    @property
    def backward_macs(self) -> int:
        """Input plus weight gradient MACs."""
        return self.input_grad_macs + self.weight_grad_macs

    @property
    def backward_flops(self) -> int:
        """Input plus weight gradient FLOPs."""
        return self.input_grad_flops + self.weight_grad_flops

    @property
    def step_macs(self) -> int:
        """Forward plus backward MACs."""
        return self.forward_macs + self.backward_macs

    @property
    def step_flops(self) -> int:
        """Forward plus backward FLOPs."""
        return self.forward_flops + self.backward_flops

    def __add__(self, other: StepCost) -> StepCost:
        return StepCost(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def to_dict(self) -> dict[str, int]:
        """The documented fields (forward, backward, their split)."""
        return {
            "forward_macs": self.forward_macs, "forward_flops": self.forward_flops,
            "backward_macs": self.backward_macs, "backward_flops": self.backward_flops,
            "input_grad_macs": self.input_grad_macs, "weight_grad_macs": self.weight_grad_macs,
            "input_grad_flops": self.input_grad_flops, "weight_grad_flops": self.weight_grad_flops,
        }


@dataclass(frozen=True, slots=True)
class TrainingMemory:
    """What one training step holds, in bytes, each figure by its convention (`MEMORY_CONVENTIONS`
    in `archstat.analysis.training`); `largest_batch` maps GPU GiB to the largest batch whose
    total fits (0: not even one; None: not searched)."""

    optimizer: str
    amp: str | None
    batch: int
    param_bytes: int
    grad_bytes: int
    optimizer_state_bytes: int
    master_weight_bytes: int
    saved_activation_bytes: int
    peak_activation_bytes: int       # the training forward's live peak, saved tensors held
    largest_batch: Mapping[float, int | None]

    @property
    def activation_bytes(self) -> int:
        """The step's activations: the forward's live peak, and never less than what it saves."""
        return max(self.saved_activation_bytes, self.peak_activation_bytes)

    @property
    def total_bytes(self) -> int:
        """Weights, gradients, optimizer state, master copies and the activations: the memory a
        step holds at the end of its forward, transients of the backward aside."""
        return (self.param_bytes + self.grad_bytes + self.optimizer_state_bytes + self.master_weight_bytes
                + self.activation_bytes)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON (`largest_batch` keyed by GiB as text: "24", "40", "80", "141")."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "largest_batch"}
        out["activation_bytes"] = self.activation_bytes
        out["total_bytes"] = self.total_bytes
        out["largest_batch"] = {f"{gib:g}": n for gib, n in self.largest_batch.items()}
        return out


@dataclass(frozen=True, slots=True)
class Training:
    """`analyze(..., training=True)`: the step's cost, whole, per category and per row (`layers[i]`
    belongs to `Analysis.layers[i]`), and its memory."""

    mode: str                        # "train", or "eval" when a train-mode forward could not run
    frozen: tuple[str, ...]          # the freeze patterns applied
    trainable_params: int            # after the freeze
    totals: StepCost
    by_category: Mapping[str, StepCost]
    layers: tuple[StepCost, ...]
    unsupported: Mapping[str, int]   # backward op name -> calls with no formula
    memory: TrainingMemory

    @property
    def partial(self) -> bool:
        """Some backward op had no formula."""
        return bool(self.unsupported)

    def to_dict(self) -> dict[str, Any]:
        """`totals.training` of the JSON schema."""
        return {
            **self.totals.to_dict(),
            "mode": self.mode,
            "frozen": list(self.frozen),
            "trainable_params": self.trainable_params,
            "partial": self.partial,
            "unsupported_ops": dict(self.unsupported),
            "by_category": {name: cost.to_dict() for name, cost in self.by_category.items()},
            "memory": self.memory.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Analysis:
    """What `archstat.analyze` returns: per-layer rows, totals and the conventions used."""

    model: str
    input_shape: Shape
    dtype: str
    device: str
    layers: tuple[LayerStats, ...]
    totals: Totals
    unsupported: Mapping[str, int]   # op name -> calls with no formula
    training_mode: str | None        # mode of the forward that measured saved tensors (None: not measured)
    growth: Growth                   # receptive-field growth over `layers`
    cumulative: tuple[CumulativeShare, ...]  # one per leaf (`leaves()`), in execution order
    inputs: str = ""                 # every input, as `analysis.inputs.describe` names them
    default_input: bool = False      # the model declared no input and none was given: DEFAULT_INPUT
    fallback_reason: str | None = None   # why a meta analysis was run again on the cpu ("aten.nonzero at ...")
    flow: DataFlow = field(default_factory=DataFlow)   # the data-flow graph (not in the JSON)
    ops: tuple[OpStats, ...] = ()    # every executed op in order (not in the JSON schema)
    training: Training | None = None     # `analyze(..., training=True)`: the step's cost and memory

    @property
    def conventions(self) -> Mapping[str, str]:
        """How every figure is counted."""
        return CONVENTIONS

    def rows(self, depth: int | None = None) -> list[LayerStats]:
        """Rows down to `depth` (None: every row); the model's own row is left out."""
        return [r for r in self.layers if r.depth > 0 and (depth is None or r.depth <= depth)]

    def ops_of(self, row: LayerStats) -> list[OpStats]:
        """The ops charged to `row` itself (not to the calls inside it)."""
        return [op for op in self.ops if op.call == row.index]

    def leaves(self) -> list[LayerStats]:
        """The rows of modules without children, in execution order."""
        return [r for r in self.layers if r.is_leaf and r.depth > 0]

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON schema (see README, "JSON schema")."""
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "model": self.model,
            "input_shape": list(self.input_shape),
            "inputs": self.inputs,
            "default_input": self.default_input,
            "dtype": self.dtype,
            "device": self.device,
            "fallback_reason": self.fallback_reason,
            "conventions": dict(CONVENTIONS),
            "categories": list(CATEGORIES),
            "totals": self.totals.to_dict(),
            "unsupported_ops": dict(self.unsupported),
            "training_mode": self.training_mode,
            "layers": [row.to_dict() for row in self.layers],
            "growth": self.growth.to_dict(),
            "cumulative": [share.to_dict() for share in self.cumulative],
        }
        if self.training is not None:
            out["totals"]["training"] = self.training.to_dict()
            for layer, cost in zip(out["layers"], self.training.layers, strict=True):
                layer["training"] = cost.to_dict()
        return out

    def to_json(self, indent: int | None = 2) -> str:
        """The schema as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    def to_pandas(self, depth: int | None = None) -> pd.DataFrame:
        """One DataFrame row per layer, per-category FLOPs as `flops_<category>` columns."""
        import pandas as pd

        records = []
        for row in self.rows(depth):
            record = row.to_dict()
            del record["by_category"]
            record["input_shapes"] = [tuple(s) for s in row.input_shapes]
            record["output_shape"] = row.output_shape
            del record["output_shapes"]
            for name in CATEGORIES:
                cost = row.by_category.get(name)
                record[f"macs_{name}"] = cost.macs if cost else 0
                record[f"flops_{name}"] = cost.flops if cost else 0
            records.append(record)
        return pd.DataFrame.from_records(records)

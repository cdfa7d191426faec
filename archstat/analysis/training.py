"""A training step, counted: a training-mode forward and a backward from its output, recorded on
the analysis device, and the memory the step holds.

The forward is recorded as `analyze` records one (`tracing.recorder`), with grad enabled. Every
op autograd runs in the backward is charged to the module whose forward made the autograd node
running it: the recorder notes autograd's sequence number each time the open module call
changes, so a node's `_sequence_nr()` names the call that made it. Within a node, each output's
work is charged to the weight gradient when the gradient lands on a trainable parameter (its
`AccumulateGrad`, or a node whose forward read parameters only, such as `W.t()`), else to the
input gradient; autograd's own `output_mask` decides what is computed at all, so a frozen
parameter costs no weight gradient and a first layer whose input needs none no input gradient.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from functools import partial
from typing import Any

import torch
from torch import nn

from archstat.analysis.inputs import Call, at_batch, first_shape, materialize
from archstat.analysis.ops.backward import GRAD_FORMULAS, GRAD_FREE_OPS
from archstat.analysis.ops.call import named_args
from archstat.analysis.ops.costs import CATEGORIES, FREE_OPS, Category, Cost, formula_for
from archstat.analysis.records import Analysis, StepCost, Training, TrainingMemory
from archstat.analysis.tracing.execution import dense_encoders, override_tensors, preserved_state, run_model
from archstat.analysis.tracing.lazy_dynamo import dynamo_deferred
from archstat.analysis.tracing.lifetimes import TrainingForward, training_forward
from archstat.analysis.tracing.recorder import Trace, _Recorder, _storage_key, recording, tensors_in
from archstat.errors import ArchstatError, ForwardError, UsageError, one_line

# Optimizer state per trainable parameter element, in copies of it; Adam and AdamW also keep a
# float32 `step` scalar per parameter tensor (torch.optim's `state_dict`).
OPTIMIZER_STATES: dict[str, int] = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
STEP_COUNTERS = frozenset({"adam", "adamw"})
AMP_DTYPES: dict[str, torch.dtype] = {"bf16": torch.bfloat16, "fp16": torch.float16}
GPU_MEMORY_GIB: tuple[float, ...] = (24, 40, 80, 141)
# The cards each size stands for, by the memory they are sold with (the driver keeps some of it).
GPU_NAMES: dict[float, str] = {24: "RTX 3090/4090", 40: "A100 40GB", 80: "A100/H100", 141: "H200"}
MAX_BATCH = 1 << 24
GIB = 1 << 30

MEMORY_CONVENTIONS: dict[str, str] = {
    "param_bytes": "every parameter, frozen ones included, at the working dtype",
    "grad_bytes": "one gradient per trainable parameter element, at the working dtype",
    "optimizer_state_bytes": "torch.optim's state: sgd none, momentum 1 copy, adam/adamw 2 copies per trainable "
    "element (fp32 with --amp, else the parameter dtype) + a 4-byte step per parameter tensor",
    "master_weight_bytes": "with --amp: an fp32 copy of every trainable parameter (the optimizer updates it)",
    "saved_activation_bytes": "tensors autograd saves for the backward in one training forward at the batch, "
    "parameters and buffers excluded",
    "peak_activation_bytes": "the most activation memory live at once in that forward: the saved tensors held to "
    "its end, every other tensor freed after its last use, the input included",
    "activation_bytes": "the larger of saved for backward and the forward's live peak: what the step's activations "
    "take at their worst moment up to the end of the forward",
    "total_bytes": "parameters + gradients + optimizer state + master weights + activations: what a step holds "
    "at the forward's peak; no allocator slack, workspaces or the backward's transient gradients",
    "largest_batch": "the largest batch whose total fits, searched on meta (each probe a real meta forward)",
}


@dataclass(frozen=True, slots=True)
class TrainingSetup:
    """What to count a training step for: freeze patterns, optimizer, mixed precision, GPU sizes."""

    freeze: tuple[str, ...] = ()
    optimizer: str = "adam"
    amp: str | None = None
    gpu_memory: tuple[float, ...] = GPU_MEMORY_GIB

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZER_STATES:
            raise UsageError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZER_STATES)}")
        if self.amp is not None and self.amp not in AMP_DTYPES:
            raise UsageError(f"unknown amp dtype {self.amp!r}; choose one of {', '.join(AMP_DTYPES)}")
        if any(not gib > 0 for gib in self.gpu_memory):
            raise UsageError(f"GPU memory sizes must be positive GiB, not {list(self.gpu_memory)}")


def freeze(model: nn.Module, patterns: Sequence[str]) -> None:
    """`requires_grad=False` on every parameter whose name, or a module path above it, matches a
    shell-style pattern (`features.*`, `layer*`, `fc`); a pattern matching nothing is an error.
    Call it inside `preserved_state`, which gives the flags back."""
    named = list(model.named_parameters())
    for pattern in patterns:
        hits = [p for name, p in named if _matches(pattern, name)]
        if not hits:
            sample = ", ".join(name for name, _ in named[:4]) or "none"
            raise UsageError(f"--freeze {pattern!r} matches no parameter (they are named like {sample}, ...)")
        for p in hits:
            p.requires_grad_(False)


def _matches(pattern: str, name: str) -> bool:
    parts = name.split(".")
    return any(fnmatchcase(".".join(parts[:i]), pattern) for i in range(1, len(parts) + 1))


def train_step(model: nn.Module, analysis: Analysis, call: Call, dtype: torch.dtype, device: torch.device,
               setup: TrainingSetup) -> Training:
    """The training step of `model` on `call`, its rows matched to `analysis`'s (see module doc)."""
    working = AMP_DTYPES[setup.amp] if setup.amp else dtype
    with preserved_state(model):
        freeze(model, setup.freeze)
        params = list(model.parameters())
        trainable = [p for p in params if p.requires_grad]
        if not trainable:
            raise UsageError(f"{analysis.model} has no trainable parameter"
                             + (f" after --freeze {' '.join(setup.freeze)}" if setup.freeze else "")
                             + ": a training step would update nothing")
        step = _record_step(model, analysis.model, call, working, device)
        made = materialize(call, working, device)
        forward = training_forward(model, made, working, device)
        memory = _memory(model, call, working, setup, forward)
    return _assemble(analysis, model, step, setup, sum(p.numel() for p in trainable), memory)


# --- the recorded step ------------------------------------------------------------------------


@dataclass(slots=True)
class _GradOp:
    name: str
    call: int                        # the forward call whose node ran it (-1: none)
    category: Category | None
    costs: tuple[Cost, ...]          # one per output position
    supported: bool
    weight: list[bool] = field(default_factory=list)   # per output: a parameter's gradient


def _sequence_nr() -> int:
    return int(torch._C._autograd._get_sequence_nr())


class _StepRecorder(_Recorder):
    """The forward recorder, plus autograd sequence numbers per open call and the backward's ops."""

    def __init__(self, trace: Trace, leaf_flags: dict[int, bool]) -> None:
        super().__init__(trace, leaf_flags)
        self.segment_seq: list[int] = []     # autograd's next sequence number ...
        self.segment_call: list[int] = []    # ... when this call became the innermost open one
        self.param_ids: set[int] = set()
        self.param_keys: set[int | None] = set()   # storages holding parameters or values made from them only
        self.param_nodes: set[int] = set()   # nodes of forward ops that read parameters only
        self.node_category: dict[int, Category] = {}   # node -> category of the forward op that made it
        self.last_seq = _sequence_nr()
        self.grad_ops: list[_GradOp] = []
        self.pending: dict[int, list[tuple[int, list[int | None], list[int | None]]]] = {}
        # The node resolved last, with its storages' kinds: autograd adds a gradient that reaches a
        # tensor twice (a residual's fork, a shared weight) right after the node that made it.
        self.resolved: tuple[int, dict[int | None, bool]] = (-1, {})

    def use_parameters(self, tensors: Mapping[str, torch.Tensor]) -> None:
        self.param_ids = {id(t) for t in tensors.values() if t.requires_grad}
        self.param_keys = {_storage_key(t) for t in tensors.values()}

    def _segment(self) -> None:
        self.segment_seq.append(_sequence_nr())
        self.segment_call.append(self.stack[-1] if self.stack else -1)

    def pre_hook(self, module: nn.Module, args: Any, kwargs: Any) -> None:
        super().pre_hook(module, args, kwargs)
        self._segment()

    def post_hook(self, module: nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        super().post_hook(module, args, kwargs, output)
        self._segment()

    def owner(self, seq: int) -> int:
        """The call that was innermost when autograd numbered node `seq`."""
        i = bisect_right(self.segment_seq, seq) - 1
        return self.segment_call[i] if i >= 0 else -1

    def __torch_dispatch__(self, func: Any, types: Sequence[type], args: Sequence[Any] = (),
                           kwargs: Any = None) -> Any:
        node = torch._C._current_autograd_node()
        if node is not None:
            return self._grad_op(node, func, args, kwargs or {})
        out = super().__torch_dispatch__(func, types, args, kwargs)
        seq = _sequence_nr()
        made_node, self.last_seq = seq > self.last_seq, seq
        category = self.trace.ops[-1].category
        if made_node and category is not None:
            self.node_category[seq - 1] = category
        inputs = tensors_in((args, kwargs))
        if all(_storage_key(t) in self.param_keys for t in inputs):
            self.param_keys.update(_storage_key(t) for t in tensors_in(out))
            if made_node and inputs:
                self.param_nodes.add(seq - 1)
        return out

    def _grad_op(self, node: Any, func: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        named = named_args(func, args, kwargs)
        out = self.run(func, args, kwargs, named)
        seq = node._sequence_nr()
        at = self.owner(seq)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        packet = func.overloadpacket
        category: Category | None = None
        costs: tuple[Cost, ...] = ()
        grad = GRAD_FORMULAS.get(packet)
        entry = formula_for(packet) if grad is None else None
        if grad is not None:
            category, costs = grad[0], grad[1](outs, **named)
        elif entry is not None:
            first = next((t for t in outs if isinstance(t, torch.Tensor)), None)
            category = entry[0]
            costs = (entry[1](first, **named),) if first is not None else ()
        inputs = [_storage_key(t) for t in tensors_in((args, kwargs))]
        accumulating = self.resolved[0] == seq
        # The forward op's category (its module's, where that has one), so the backward of a
        # linear layer's bias is linear work as its forward is; an accumulation is its own kind.
        if category is not None and not accumulating:
            category = self.node_category.get(seq, category)
        costs = tuple(cost if isinstance(t, torch.Tensor) else Cost() for cost, t in zip(costs, outs, strict=False))
        supported = grad is not None or entry is not None or packet in FREE_OPS or packet in GRAD_FREE_OPS
        kinds = [self.resolved[1].get(key) for key in inputs] if accumulating else []
        weight = any(kinds) and False not in kinds
        self.grad_ops.append(_GradOp(packet.__name__, at, category, costs, supported, [weight] * len(outs)))
        if not accumulating:
            keys = [_storage_key(t) if isinstance(t, torch.Tensor) else None for t in outs]
            self.pending.setdefault(seq, []).append((len(self.grad_ops) - 1, inputs, keys))
        return out

    def _is_weight(self, fn: Any) -> bool:
        variable = getattr(fn, "variable", None)
        if variable is not None:
            return id(variable) in self.param_ids
        return int(fn._sequence_nr()) in self.param_nodes

    def node_done(self, node: Any, grad_inputs: Sequence[torch.Tensor | None], _: Any) -> None:
        """Charge the node's ops: each output to the kind of gradient it flows into."""
        seq = int(node._sequence_nr())
        ops = self.pending.pop(seq, [])
        weight: dict[int | None, bool] = {}   # storage -> flows only into parameters' gradients
        self.resolved = (seq, weight)
        for (fn, _slot), grad in zip(node.next_functions, grad_inputs, strict=False):
            if fn is not None and grad is not None:
                key = _storage_key(grad)
                weight[key] = weight.get(key, True) and self._is_weight(fn)
        for index, inputs, outs in reversed(ops):
            kinds = [weight.get(key, False) if key is not None else False for key in outs]
            self.grad_ops[index].weight[:] = kinds
            only_weight = any(kinds) and all(kinds[i] or outs[i] is None for i in range(len(outs)))
            for key in inputs:
                weight[key] = weight.get(key, True) and only_weight

    def watch(self, roots: Sequence[torch.Tensor]) -> list[Any]:
        """A hook on every node of the graph behind `roots` that `node_done` resolves."""
        handles, seen = [], set()
        stack: list[Any] = [t.grad_fn for t in roots if t.grad_fn is not None]
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in seen or hasattr(fn, "variable"):
                continue
            seen.add(id(fn))
            handles.append(fn.register_hook(partial(self.node_done, fn)))
            stack.extend(f for f, _ in fn.next_functions)
        return handles


@dataclass(frozen=True, slots=True)
class _Step:
    trace: Trace
    grad_ops: tuple[_GradOp, ...]
    mode: str
    paths: Mapping[int, str]


def _record_step(model: nn.Module, label: str, call: Call, dtype: torch.dtype, device: torch.device) -> _Step:
    """Forward in train mode (eval if the model cannot train at this input) and backward, recorded."""
    paths = {id(m): name for name, m in model.named_modules()}
    for mode in ("train", "eval"):
        try:
            with preserved_state(model):
                model.train(mode == "train")
                return _Step(*_forward_backward(model, label, call, dtype, device), mode, paths)
        except ArchstatError:
            raise
        except Exception as exc:
            if mode == "eval" or not isinstance(exc, (ValueError, RuntimeError)):
                message = f"the training step of {label} raised {type(exc).__name__}: {one_line(exc)}"
                raise ForwardError(message) from exc
    raise AssertionError("unreachable")


def _forward_backward(model: nn.Module, label: str, call: Call, dtype: torch.dtype,
                      device: torch.device) -> tuple[Trace, tuple[_GradOp, ...]]:
    tensors = override_tensors(model, device, dtype, fresh=True)
    assert tensors is not None
    made = materialize(call, dtype, device)
    with dynamo_deferred(), dense_encoders(model), torch.enable_grad(), \
            recording(model, _StepRecorder) as (trace, recorder):
        assert isinstance(recorder, _StepRecorder)
        recorder.use_parameters(tensors)
        output = run_model(model, tensors, made)
        roots = [t for t in tensors_in(output) if t.requires_grad and t.is_floating_point()]
        if not roots:
            raise UsageError(f"no output of {label} depends on a trainable parameter: nothing to back-propagate")
        handles = recorder.watch(roots)
        try:
            torch.autograd.backward(roots, [torch.ones_like(t) for t in roots])
        finally:
            for handle in handles:
                handle.remove()
    return trace, tuple(recorder.grad_ops)


# --- the counts per row --------------------------------------------------------------------------


def _rows_of(analysis: Analysis, step: _Step) -> list[int]:
    """For every call of the step, the analysis row it belongs to (a call the eval forward did not
    make, such as an auxiliary head, goes to its nearest enclosing row)."""
    by_key = {(row.path, row.call): row.index for row in analysis.layers}
    calls = step.trace.calls
    rows: list[int] = []
    for record in calls:
        row = by_key.get((step.paths.get(id(record.module), "?"), record.call))
        rows.append(row if row is not None else rows[record.parent] if record.parent >= 0 else 0)
    return rows


def _assemble(analysis: Analysis, model: nn.Module, step: _Step, setup: TrainingSetup, trainable: int,
              memory: TrainingMemory) -> Training:
    row_of = _rows_of(analysis, step)
    n = len(analysis.layers)
    own: list[dict[str, StepCost]] = [{} for _ in range(n)]
    unsupported: dict[str, int] = {}

    def charge(call: int, category: Category | None, cost: StepCost) -> None:
        if category is None:
            return
        row = row_of[call] if call >= 0 else 0
        own[row][category] = own[row].get(category, StepCost()) + cost

    for op in step.trace.ops:
        if not op.supported:
            unsupported[op.name] = unsupported.get(op.name, 0) + 1
        if op.cost is not None and op.call >= 0:
            charge(op.call, op.category, StepCost(forward_macs=op.cost.macs, forward_flops=op.cost.flops))
    for grad in step.grad_ops:
        if not grad.supported:
            unsupported[grad.name] = unsupported.get(grad.name, 0) + 1
        for cost, weight in zip(grad.costs, grad.weight, strict=False):
            part = (StepCost(weight_grad_macs=cost.macs, weight_grad_flops=cost.flops) if weight
                    else StepCost(input_grad_macs=cost.macs, input_grad_flops=cost.flops))
            charge(grad.call, grad.category, part)

    by_category: dict[str, StepCost] = {}
    for costs in own:
        for name, part in costs.items():
            by_category[name] = by_category.get(name, StepCost()) + part
    rolled = [sum(costs.values(), StepCost()) for costs in own]
    for i in range(n - 1, 0, -1):
        parent = analysis.layers[i].parent
        if parent >= 0:
            rolled[parent] = rolled[parent] + rolled[i]
    return Training(
        mode=step.mode,
        frozen=setup.freeze,
        trainable_params=trainable,
        totals=sum(by_category.values(), StepCost()),
        by_category={name: by_category[name] for name in CATEGORIES if name in by_category},
        layers=tuple(rolled),
        unsupported=unsupported,
        memory=memory,
    )


# --- memory ------------------------------------------------------------------------------------


def _memory(model: nn.Module, call: Call, dtype: torch.dtype, setup: TrainingSetup,
            forward: TrainingForward) -> TrainingMemory:
    params = list(model.parameters())
    trainable = [p for p in params if p.requires_grad]
    elements = sum(p.numel() for p in trainable)
    state_size = 4 if setup.amp else dtype.itemsize
    memory = TrainingMemory(
        optimizer=setup.optimizer,
        amp=setup.amp,
        batch=_batch(call),
        param_bytes=sum(p.numel() * (dtype.itemsize if p.is_floating_point() else p.element_size()) for p in params),
        grad_bytes=elements * dtype.itemsize,
        optimizer_state_bytes=OPTIMIZER_STATES[setup.optimizer] * elements * state_size
        + (4 * len(trainable) if setup.optimizer in STEP_COUNTERS else 0),
        master_weight_bytes=4 * elements if setup.amp else 0,
        saved_activation_bytes=forward.saved_bytes,
        peak_activation_bytes=forward.peak_bytes,
        largest_batch={},
    )
    if not setup.gpu_memory or memory.batch <= 0:
        return replace(memory, largest_batch=dict.fromkeys(setup.gpu_memory))
    return replace(memory, largest_batch=_largest_batches(model, call, dtype, memory, setup.gpu_memory))


def _batch(call: Call) -> int:
    shape = first_shape(call)
    return shape[0] if shape else 0


def _largest_batches(model: nn.Module, call: Call, dtype: torch.dtype, memory: TrainingMemory,
                     sizes: Sequence[float]) -> dict[float, int | None]:
    """Per GPU size, the largest batch whose total fits: a search of real meta forwards, started
    from the linear guess and widened until it brackets the answer."""
    fixed = memory.total_bytes - memory.activation_bytes
    meta = torch.device("meta")
    probes: dict[int, int] = {memory.batch: memory.activation_bytes}

    def activations(batch: int) -> int:
        if batch not in probes:
            found = training_forward(model, materialize(at_batch(call, batch), dtype, meta), dtype, meta)
            probes[batch] = max(found.saved_bytes, found.peak_bytes)
        return probes[batch]

    per_sample = max(1, memory.activation_bytes // max(memory.batch, 1))
    found: dict[float, int | None] = {}
    for gib in sizes:
        limit = int(gib * GIB)

        def fits(batch: int, limit: int = limit) -> bool:
            return fixed + activations(batch) <= limit

        try:
            found[gib] = _search(fits, max(1, (limit - fixed) // per_sample))
        except (ValueError, RuntimeError):   # a model that needs values on meta is not searched
            found[gib] = None
    return found


def _search(fits: Any, guess: int) -> int:
    """The largest batch b ≥ 1 with fits(b), 0 if none; fits is monotone; starts at `guess`."""
    if not fits(1):
        return 0
    guess = min(max(guess, 1), MAX_BATCH)
    step = 1
    if fits(guess):
        low = high = guess
        while high <= MAX_BATCH:
            high = min(low + step, MAX_BATCH + 1)
            if high > MAX_BATCH or not fits(high):
                break
            low, step = high, step * 2
    else:
        high = low = guess
        while True:
            low = max(1, high - step)
            if fits(low):
                break
            high, step = low, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low

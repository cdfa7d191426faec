"""`archstat summary --training`: a training step's cost per category and the memory it holds."""

from __future__ import annotations

from dataclasses import dataclass

from archstat.analysis.ops.backward import GRAD_CONVENTIONS
from archstat.analysis.records import Analysis, LayerStats, StepCost, Training
from archstat.analysis.training import MAX_BATCH, MEMORY_CONVENTIONS
from archstat.measure.results import LatencyResult
from archstat.report import units
from archstat.report.table import Column, Note, Row, Table, Value


@dataclass(frozen=True, slots=True)
class _CostRow:
    category: str
    cost: StepCost


def _count(n: int) -> str:
    return units.si(n) if n else "-"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _backward_ratio(cost: StepCost) -> float | None:
    return cost.backward_flops / cost.forward_flops if cost.forward_flops else None


COST_COLUMNS: tuple[Column[_CostRow], ...] = (
    Column("Category", "category", lambda r: r.category, numeric=False),
    Column("Forward MACs", "forward_macs", lambda r: r.cost.forward_macs, _count),
    Column("Forward FLOPs", "forward_flops", lambda r: r.cost.forward_flops, _count),
    Column("Input-grad MACs", "input_grad_macs", lambda r: r.cost.input_grad_macs, _count),
    Column("Weight-grad MACs", "weight_grad_macs", lambda r: r.cost.weight_grad_macs, _count),
    Column("Backward MACs", "backward_macs", lambda r: r.cost.backward_macs, _count),
    Column("Backward FLOPs", "backward_flops", lambda r: r.cost.backward_flops, _count),
    Column("input_grad_flops", "input_grad_flops", lambda r: r.cost.input_grad_flops, shown=False),
    Column("weight_grad_flops", "weight_grad_flops", lambda r: r.cost.weight_grad_flops, shown=False),
    Column("Step FLOPs", "step_flops", lambda r: r.cost.step_flops, _count),
    Column("Bwd/fwd", "backward_forward_ratio", lambda r: _backward_ratio(r.cost), _ratio),
)


def _step_lines(analysis: Analysis, training: Training) -> list[Note]:
    t, conventions = training.totals, GRAD_CONVENTIONS
    frozen = f" after freezing {', '.join(training.frozen)}" if training.frozen else ""
    lines = [
        Note("Trainable", f"{units.exact(training.trainable_params)} of {units.exact(analysis.totals.params)} "
                          f"parameters{frozen}; forward in {training.mode} mode"),
        Note("Forward", f"{units.exact(t.forward_macs)} MACs · {units.exact(t.forward_flops)} FLOPs"),
        Note("Backward", f"{units.exact(t.backward_macs)} MACs (input gradients {units.exact(t.input_grad_macs)}, "
                         f"weight gradients {units.exact(t.weight_grad_macs)}) · "
                         f"{units.exact(t.backward_flops)} FLOPs"),
        Note("Step", f"{units.exact(t.step_macs)} MACs ({units.si(t.step_macs)}MAC) · {units.exact(t.step_flops)} "
                     f"FLOPs ({units.si(t.step_flops)}FLOP); backward/forward FLOPs "
                     f"{_ratio(_backward_ratio(t))}"),
    ]
    if training.partial:
        ops = ", ".join(f"{op} ×{n}" for op, n in sorted(training.unsupported.items()))
        lines.append(Note("PARTIAL", f"no formula for {ops}: totals leave them out", alert=True))
    lines.append(Note("Convention", f"backward = {conventions['backward']}; input gradient = "
                                    f"{conventions['input_grad']}; weight gradient = {conventions['weight_grad']}"))
    lines.extend(Note("", f"{name.removesuffix('_backward')}: {conventions[name]}")
                 for name in ("conv_backward", "linear_backward", "other_backward"))
    return lines


def cost_table(analysis: Analysis, training: Training) -> Table:
    """The step's cost per category, the totals row last."""
    records = [_CostRow(name, cost) for name, cost in training.by_category.items()]
    total = Row(tuple(c.value(_CostRow("total", training.totals)) for c in COST_COLUMNS))
    amp = f" · amp {training.memory.amp}" if training.memory.amp else ""
    title = f"{analysis.model} · training step · batch {training.memory.batch} · {analysis.dtype}{amp}"
    facts: tuple[tuple[str, Value], ...] = tuple(
        (f"training_{key}", value) for key, value in training.totals.to_dict().items()
    )
    return Table.build(title, COST_COLUMNS, records, total=total, notes=tuple(_step_lines(analysis, training)),
                       facts=facts)


@dataclass(frozen=True, slots=True)
class _MemoryRow:
    figure: str
    key: str
    nbytes: int | None
    convention: str


MEMORY_COLUMNS: tuple[Column[_MemoryRow], ...] = (
    Column("Held", "figure", lambda r: r.figure, numeric=False),
    Column("Bytes", "bytes", lambda r: r.nbytes, lambda n: "-" if n is None else units.nbytes(n)),
    Column("Convention", "convention", lambda r: r.convention, numeric=False, wrap=True),
)


def _batch(n: int | None) -> str:
    """The batch found; "≥" at the search's ceiling, "-" where it was not searched."""
    return "-" if n is None else ("≥ " if n >= MAX_BATCH else "") + units.exact(n)


def _gib(gib: float) -> str:
    return f"{gib:g} GiB"


def memory_table(analysis: Analysis, training: Training, measured: LatencyResult | None = None) -> Table:
    """Parameters, gradients, optimizer state, master copies, the activations (the forward's live peak,
    saved tensors included, each shown below it) and their total;
    the largest batch per GPU size, and a measured CUDA peak beside the estimate when given."""
    m = training.memory
    amp = f", amp {m.amp}" if m.amp else ""
    rows = [
        _MemoryRow("parameters", "param_bytes", m.param_bytes, MEMORY_CONVENTIONS["param_bytes"]),
        _MemoryRow("gradients", "grad_bytes", m.grad_bytes, MEMORY_CONVENTIONS["grad_bytes"]),
        _MemoryRow(f"optimizer state ({m.optimizer})", "optimizer_state_bytes", m.optimizer_state_bytes,
                   MEMORY_CONVENTIONS["optimizer_state_bytes"]),
        _MemoryRow("fp32 master weights", "master_weight_bytes", m.master_weight_bytes,
                   MEMORY_CONVENTIONS["master_weight_bytes"]),
        _MemoryRow(f"activations (batch {m.batch})", "activation_bytes", m.activation_bytes,
                   MEMORY_CONVENTIONS["activation_bytes"]),
        _MemoryRow("  of which saved for backward", "saved_activation_bytes", m.saved_activation_bytes,
                   MEMORY_CONVENTIONS["saved_activation_bytes"]),
        _MemoryRow("  forward's live peak", "peak_activation_bytes", m.peak_activation_bytes,
                   MEMORY_CONVENTIONS["peak_activation_bytes"]),
    ]
    total = Row(("total", m.total_bytes, MEMORY_CONVENTIONS["total_bytes"]))
    notes: list[Note] = []
    if m.largest_batch:
        fits = " · ".join(f"{_gib(g)}: {_batch(n)}" for g, n in m.largest_batch.items())
        notes.append(Note("Largest batch", f"{fits} ({MEMORY_CONVENTIONS['largest_batch']})"))
    if measured is not None:
        notes.append(Note("Measured", _measured(measured, m.batch)))
    facts: tuple[tuple[str, Value], ...] = (
        *((f"training_{r.key}", r.nbytes) for r in rows),
        ("training_total_bytes", m.total_bytes),
        *((f"largest_batch_{g:g}GiB", n) for g, n in m.largest_batch.items()),
    )
    title = f"{analysis.model} · training memory · batch {m.batch} · {m.optimizer}{amp}"
    return Table.build(title, MEMORY_COLUMNS, rows, total=total, notes=tuple(notes), facts=facts)


def _measured(result: LatencyResult, batch: int) -> str:
    """The CUDA peak of a measured forward + backward, beside the estimate."""
    at = next((b for b in result.batches if b.batch == batch), result.reported)
    peak = at.memory.training_peak_bytes
    if peak is None:
        return f"no CUDA training peak in the measurement ({result.label})"
    other = "" if at.batch == batch else f" (at batch {at.batch}, not {batch})"
    return (f"CUDA peak allocated in a forward + backward {units.nbytes(peak)}{other} on {result.label}, "
            "parameters and input included, no optimizer state")


def training_columns(training: Training) -> tuple[Column[LayerStats], ...]:
    """Per-layer columns of the summary table: the backward split (shown) and every figure (data)."""

    def of(key: str) -> Column[LayerStats]:
        return Column(key, f"training_{key}", lambda r: training.layers[r.index].to_dict()[key], shown=False)

    return (
        Column("Bwd MACs", "backward_macs_text", lambda r: training.layers[r.index].backward_macs, _count,
               data=False),
        *(of(key) for key in StepCost().to_dict()),
    )

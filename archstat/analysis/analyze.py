"""`analyze`: one recorded forward turned into per-layer rows and totals."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from copy import deepcopy
from dataclasses import replace
from itertools import accumulate
from typing import Any, NamedTuple

import torch
from torch import nn

from archstat.analysis.inputs import (
    Call,
    InputSpec,
    as_call,
    describe,
    first_shape,
    input_bytes,
    materialize,
    tensors_of,
)
from archstat.analysis.loading import LoadedModel, load_model
from archstat.analysis.ops.costs import CATEGORIES
from archstat.analysis.records import (
    Analysis,
    CategoryCost,
    CumulativeShare,
    DataFlow,
    LayerSpec,
    LayerStats,
    OpStats,
    Totals,
)
from archstat.analysis.rf.field import Field
from archstat.analysis.rf.growth import compute_growth
from archstat.analysis.tracing.execution import (
    ModelTree,
    collector_paused,
    dense_encoders,
    preserved_state,
    run_model,
    set_mode,
    stand_ins,
    swapped,
)
from archstat.analysis.tracing.fast_meta import MetaShortcuts
from archstat.analysis.tracing.lazy_dynamo import dynamo_deferred
from archstat.analysis.tracing.lifetimes import peak_live_bytes
from archstat.analysis.tracing.lifetimes import saved_for_backward as measure_saved
from archstat.analysis.tracing.recorder import CollapsedError, Trace, recording, tensors_in
from archstat.analysis.training import GPU_MEMORY_GIB, TrainingSetup, train_step
from archstat.errors import (
    ArchstatError,
    DataDependentError,
    ForwardError,
    InputTooSmallError,
    UsageError,
    exit_call,
    one_line,
)

DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
}

# Messages PyTorch raises when a feature map has become smaller than a kernel.
_TOO_SMALL = re.compile(
    r"too small|can't be greater than actual input|Output size is too small|"
    r"larger than the input|non-positive|smaller than",
    re.IGNORECASE,
)

# Ops whose output depends on tensor values, which the meta device does not have.
_aten = torch.ops.aten
DATA_DEPENDENT_OPS = frozenset({
    _aten._local_scalar_dense, _aten.nonzero, _aten.index, _aten.masked_select, _aten.unique_dim,
    _aten._unique2, _aten.unique_consecutive, _aten.bincount, _aten.repeat_interleave, _aten.masked_scatter,
    _aten.argwhere, _aten.histc,
})
# The same, for ops of libraries archstat never imports (by qualified name): nms keeps a number of
# boxes only the scores decide; roi_align's adaptive sampling grid depends on the boxes' values.
DATA_DEPENDENT_NAMES = frozenset({"torchvision::nms", "torchvision::roi_align"})


def resolve_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """A torch dtype from its name ("float32", "bfloat16", ...)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    try:
        return DTYPES[dtype]
    except KeyError:
        raise UsageError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}") from None


def resolve_device(device: str | torch.device) -> torch.device:
    """A usable torch device, or an error naming the problem."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise UsageError(f"unknown device {device!r}; use meta, cpu or cuda") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("device cuda: CUDA is not available on this machine; use meta or cpu")
    if resolved.type not in ("meta", "cpu", "cuda"):
        raise UsageError(f"device {device!r} is not supported; use meta, cpu or cuda")
    return resolved


def _where(trace: Trace, paths: Mapping[int, str], label: str) -> str:
    if trace.failed_call is None:
        return f"{label} (before its first layer)"
    call = trace.calls[trace.failed_call]
    path = paths.get(id(call.module), "?") or label
    shapes = ", ".join("x".join(map(str, s)) for s in call.input_shapes) or "no tensors"
    return f"{path} ({type(call.module).__name__}, input {shapes})"


def _forward_error(exc: Exception | SystemExit, trace: Trace, paths: Mapping[int, str], label: str,
                   inputs: str, device: torch.device) -> ArchstatError:
    where = _where(trace, paths, label)
    if isinstance(exc, SystemExit):
        return ForwardError(f"the forward of {label} called {exit_call(exc)} at {where}")
    message = one_line(exc) or type(exc).__name__
    if device.type == "meta" and (trace.failed_op in DATA_DEPENDENT_OPS
                                  or getattr(trace.failed_op, "_qualified_op_name", "") in DATA_DEPENDENT_NAMES):
        reason = f"{trace.failed_op._qualified_op_name.replace('::', '.')} at {where} needs tensor values"
        return _NeedsValues(
            f"{reason}, which the meta device does not have; analyse {label} with {DataDependentError.PARAMETER}",
            reason, sum(trace.alloc_bytes),
        )
    failed = trace.calls[trace.failed_call].module if trace.failed_call is not None else None
    empty = [name for name, p in failed.named_parameters(recurse=False) if p.numel() == 0] if failed else []
    if empty:   # not the input's fault: the layer was built with a zero size (say num_classes=0)
        return ForwardError(f"the forward of {label} failed at {where}, whose {empty[0]} has no elements "
                            f"(check the options it was built with): {message}")
    if isinstance(exc, CollapsedError) or _TOO_SMALL.search(message):
        return InputTooSmallError(
            f"input {inputs} is too small for {label}: it collapsed at {where}: {message}"
        )
    return ForwardError(f"the forward of {label} raised {type(exc).__name__} at {where}: {message}")


def _validate_shape(shape: Sequence[int]) -> tuple[int, ...]:
    dims = tuple(int(d) for d in shape)
    if not dims or any(d <= 0 for d in dims):
        raise UsageError(f"input shape {dims} must be non-empty positive sizes, like 1x3x224x224")
    return dims


CPU_FALLBACK_BYTES = 2 * 1024**3   # the default budget of the automatic cpu retry (`analyze`)


class _NeedsValues(DataDependentError):
    """A data-dependent op on meta, with what the automatic cpu retry needs to know."""

    def __init__(self, message: str, reason: str, traced_bytes: int) -> None:
        super().__init__(message, reason)
        self.traced_bytes = traced_bytes   # every tensor the meta run made before the op


@collector_paused()   # see collector_paused: full collections inside the call grew with the model
def analyze(
    model_or_name: str | nn.Module,
    input_shape: Sequence[int] | None = None,
    *,
    inputs: Any = None,
    dtype: str | torch.dtype = torch.float32,
    device: str | torch.device = "meta",
    options: Mapping[str, Any] | None = None,
    label: str | None = None,
    receptive_fields: bool = True,
    saved_for_backward: bool = False,
    cpu_fallback_bytes: int = CPU_FALLBACK_BYTES,
    training: bool = False,
    freeze: Sequence[str] = (),
    optimizer: str = "adam",
    amp: str | None = None,
    gpu_memory: Sequence[float] = GPU_MEMORY_GIB,
) -> Analysis:
    """Per-layer shapes, parameters, MACs, FLOPs and memory of a model (see `CONVENTIONS`).

    `input_shape` is the shorthand for one float tensor. `inputs` takes example inputs as the
    model is called (see `analysis.inputs.as_call`): a tensor or `InputSpec`; a tuple or list of
    positional arguments; a dict of keyword arguments; `Call(args, kwargs)` for both; nested
    containers and plain values (ints, bools, None, strings) pass through. Floating tensors take
    `dtype`; integer and bool ones keep theirs. With neither, the model's declared input, else
    `DEFAULT_INPUT` (then `Analysis.default_input` is True).

    On the default meta device nothing is allocated and no arithmetic runs, so the cost does
    not depend on batch size or resolution. A model that reads tensor values (`.item()`,
    `nonzero`, boolean masks, Python control flow on a tensor) is analysed again on the cpu when
    its estimated need (`fallback_bytes`) is at most `cpu_fallback_bytes` (0 turns the retry
    off); `Analysis.fallback_reason` then names the op and the layer. Otherwise it is a
    `DataDependentError` naming them and `device='cpu'`. The model comes back as it came in
    (`preserved_state`). `receptive_fields=False` skips the receptive-field rules.

    `saved_for_backward=True` also measures what autograd would save for the backward
    (`Totals.training_activation_bytes`, `Analysis.training_mode`) by a second, train-mode forward;
    without it both are None and the analysis is the one recorded forward. The CLI's `summary` and
    `report`, `compare` and `sweep` ask for it.

    `training=True` also counts a training step (`Analysis.training`, see `analysis.training`):
    a train-mode forward and a backward from the output, split into input and weight gradients,
    with `freeze` patterns (`"features.*"`) frozen for the what-if, and the memory the step holds
    with `optimizer` ("sgd", "momentum", "adam", "adamw") and `amp` ("bf16", "fp16": fp32 master
    copies), with the largest batch fitting each of `gpu_memory` GiB (() skips the search).
    """
    setup = TrainingSetup(tuple(freeze), optimizer, amp, tuple(gpu_memory)) if training else None
    if input_shape is not None and inputs is not None:
        raise UsageError("give input_shape or inputs, not both")
    if isinstance(input_shape, torch.Tensor):
        raise UsageError("input_shape takes sizes, like (1, 3, 224, 224); give an example tensor as inputs=")
    torch_dtype = resolve_dtype(dtype)
    torch_device = resolve_device(device)
    loaded = load_model(model_or_name, device=str(torch_device), options=options)
    model, label = loaded.module, label or loaded.label
    call = _call_for(loaded, input_shape, inputs)
    default = not loaded.declared and input_shape is None and inputs is None
    try:
        analysis = _analyze_loaded(model, label, call, default, torch_dtype, torch_device, receptive_fields,
                                   saved_for_backward)
    except _NeedsValues as error:
        need = fallback_bytes(model, torch_dtype, error.traced_bytes, passes=2 if saved_for_backward else 1)
        if cpu_fallback_bytes <= 0:
            raise DataDependentError(str(error), error.reason) from error
        if need > cpu_fallback_bytes:
            raise DataDependentError(
                f"{error} (the automatic cpu retry would need about {_mib(need)}, over "
                f"{DataDependentError.LIMIT}={_mib(cpu_fallback_bytes)})", error.reason
            ) from error
        model, torch_device = _with_values(model), torch.device("cpu")
        analysis = _analyze_loaded(model, label, call, default, torch_dtype, torch_device, receptive_fields,
                                   saved_for_backward)
        analysis = replace(analysis, fallback_reason=error.reason)
    if setup is None:
        return analysis
    return replace(analysis, training=train_step(model, analysis, call, torch_dtype, torch_device, setup))


def fallback_bytes(model: nn.Module, dtype: torch.dtype, traced_bytes: int, passes: int = 2) -> int:
    """What the cpu retry of a meta run that stopped at a data-dependent op is estimated to hold:
    the parameters and buffers at `dtype`, and the tensors the meta run made before it stopped
    (`traced_bytes`, the inputs included) once per forward the retry runs (`passes`: the recorded
    one, and the saved-for-backward one where it is asked for)."""
    held = sum(_dtype_bytes(t, dtype) for t in {id(t): t for t in [*model.parameters(), *model.buffers()]}.values())
    return held + passes * traced_bytes


def _mib(nbytes: int) -> str:
    return f"{nbytes / 2**20:,.1f} MiB"


def _with_values(model: nn.Module) -> nn.Module:
    """The model itself where its tensors hold values; for one built on the meta device, a copy on
    the cpu initialised as its modules initialise themselves (`reset_parameters`, zeros elsewhere)."""
    if not any(t.is_meta for t in [*model.parameters(), *model.buffers()]):
        return model
    copy = deepcopy(model).to_empty(device="cpu")
    with torch.no_grad():
        for t in [*copy.parameters(), *copy.buffers()]:
            t.zero_()
        for module in copy.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
    return copy


def _analyze_loaded(model: nn.Module, label: str, call: Call, default: bool, dtype: torch.dtype,
                    device: torch.device, receptive_fields: bool, saved: bool) -> Analysis:
    text = describe(call)
    tree = ModelTree.of(model)
    trace = Trace()
    try:
        with preserved_state(model, tree):
            set_mode(model, tree, False)   # model.eval()
            if _materialize_lazy(model, label, call, dtype, tree):
                tree = ModelTree.of(model)   # the lazy tensors have their shapes now
            tensors = stand_ins(tree, device, dtype)
            made = materialize(call, dtype, device)
            held = tensors_of(made)
            with dynamo_deferred(), dense_encoders(model, tree.modules):
                with swapped(tree, tensors), recording(model, modules=tree.modules) as (trace, recorder), \
                        torch.no_grad():
                    recorder.use_weights(tensors.values() if tensors is not None
                                         else [*tree.parameters(), *tree.buffers()])
                    for t in held:
                        recorder.allocate(t, -1)
                        recorder.mark_input(t)
                    if receptive_fields and held and held[0].is_floating_point():
                        x = held[0]
                        recorder.set_field(x, Field.of_input(x.dim() - 2) if x.dim() >= 3 else Field.whole_input())
                    output = run_model(model, None, made)
                    for t in [*held, *tensors_in(output)]:
                        alloc = recorder.alloc_id(t)
                        if alloc is not None:
                            trace.output_allocs.add(alloc)
                del output
                saved_bytes: int | None = None
                training_mode: str | None = None
                if saved:
                    # The recorded forward's stand-ins serve again (on meta, the model's own tensors too:
                    # they hold no values to protect); elsewhere the model's own get fresh copies.
                    reuse = tensors if tensors is not None or device.type != "meta" else {
                        id(s.tensor): s.tensor for s in tree.slots}
                    saved_bytes, training_mode = measure_saved(model, made, dtype, device, tree=tree, tensors=reuse)
    except ArchstatError:
        raise
    except (Exception, SystemExit) as exc:
        error = _forward_error(exc, trace, tree.paths, label, text, device)
        if default:
            error.args = (f"{error}; it got the default input {text}, as it declares none: give its own inputs",)
        raise error from exc
    return _assemble(tree, label, first_shape(call), dtype, device, trace, saved_bytes,
                     training_mode, _Inputs(text, input_bytes(made), default))


def _call_for(loaded: LoadedModel, input_shape: Sequence[int] | None, inputs: Any) -> Call:
    if inputs is not None:
        return as_call(inputs)
    if input_shape is None and loaded.inputs is not None:
        return loaded.inputs
    return Call((InputSpec(_validate_shape(input_shape or loaded.input_shape)),))


def _materialize_lazy(model: nn.Module, label: str, call: Call, dtype: torch.dtype, tree: ModelTree) -> bool:
    """Give lazy modules (`nn.LazyLinear`, ...) their shapes by one forward where their tensors live;
    False where the model has none."""
    # Per class, each once: isinstance against a Parameter class runs its metaclass's Python check.
    if not any(issubclass(kind, (nn.UninitializedParameter, nn.UninitializedBuffer))
               for kind in {type(s.tensor) for s in tree.slots}):
        return False
    lazy = [(name, t) for name, t in [*model.named_parameters(), *model.named_buffers()]
            if isinstance(t, (nn.UninitializedParameter, nn.UninitializedBuffer))]
    device = lazy[0][1].device
    try:
        with torch.no_grad(), MetaShortcuts():
            run_model(model, None, materialize(call, dtype, device))
    except Exception as exc:
        raise ForwardError(
            f"{label} has lazy parameters ({lazy[0][0]}) and its first forward, which would give them "
            f"their shapes, raised {type(exc).__name__}: {one_line(exc)}; run the model once on "
            "example inputs before analysing it"
        ) from exc
    return True


class _Inputs(NamedTuple):
    text: str
    nbytes: int
    default: bool

def _dtype_bytes(t: torch.Tensor, dtype: torch.dtype) -> int:
    size = dtype.itemsize if t.is_floating_point() else t.element_size()
    return t.numel() * size


def _assemble(
    tree: ModelTree,
    label: str,
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: torch.device,
    trace: Trace,
    saved_bytes: int | None,
    training_mode: str | None,
    inputs: _Inputs,
) -> Analysis:
    calls = trace.calls
    n = len(calls)
    cat_index = {name: i for i, name in enumerate(CATEGORIES)}
    macs = [[0] * len(CATEGORIES) for _ in range(n)]
    flops = [[0] * len(CATEGORIES) for _ in range(n)]
    unsupported: dict[str, int] = {}
    bias_flops = 0
    for op in trace.ops:
        if not op.supported:
            unsupported[op.name] = unsupported.get(op.name, 0) + 1
        if op.cost is None or op.category is None or op.call < 0:
            continue
        c = cat_index[op.category]
        macs[op.call][c] += op.cost.macs
        flops[op.call][c] += op.cost.flops
        bias_flops += op.cost.bias_flops

    seen: set[int] = set()
    own_params = [0] * n
    own_trainable = [0] * n
    own_param_bytes = [0] * n
    shared = [False] * n
    for i, call in enumerate(calls):
        shared[i] = call.call > 0
        own = call.module._parameters
        if not own:
            continue
        for p in (own.values() if len(own) == 1 else dict.fromkeys(own.values())):   # each once
            if p is None:
                continue
            if id(p) in seen:
                shared[i] = True
                continue
            seen.add(id(p))
            numel = p.numel()
            own_params[i] += numel
            own_trainable[i] += numel if p.requires_grad else 0
            own_param_bytes[i] += _dtype_bytes(p, dtype)

    activation = [c.output_bytes + c.own_op_bytes for c in calls]
    params, trainable, param_bytes = own_params[:], own_trainable[:], own_param_bytes[:]
    zero = [0] * len(CATEGORIES)
    for i in range(n - 1, 0, -1):
        parent = calls[i].parent
        if parent < 0:
            continue
        if macs[i] != zero:
            macs[parent] = [a + b for a, b in zip(macs[parent], macs[i], strict=True)]
        if flops[i] != zero:
            flops[parent] = [a + b for a, b in zip(flops[parent], flops[i], strict=True)]
        activation[parent] += activation[i]
        params[parent] += params[i]
        trainable[parent] += trainable[i]
        param_bytes[parent] += param_bytes[i]

    paths = tree.paths
    rows = tuple(
        LayerStats(i, paths.get(id(call.module), "?"), type(call.module).__name__, call.depth, call.parent, call.call,
                   call.is_leaf, call.input_shapes, call.output_shapes, params[i], trainable[i], shared[i],
                   param_bytes[i], sum(macs[i]), sum(flops[i]), activation[i], _categories(macs[i], flops[i]),
                   call.field)
        for i, call in enumerate(calls)
    )
    unique = tree.parameters()
    buffers = tree.buffers()
    roots = [i for i, c in enumerate(calls) if c.parent < 0]
    total_macs = [sum(macs[i][c] for i in roots) for c in range(len(CATEGORIES))]
    total_flops = [sum(flops[i][c] for i in roots) for c in range(len(CATEGORIES))]
    totals = Totals(
        params=sum(p.numel() for p in unique),
        trainable_params=sum(p.numel() for p in unique if p.requires_grad),
        executed_params=sum(own_params),
        macs=sum(total_macs),
        flops=sum(total_flops),
        bias_flops=bias_flops,
        activation_bytes=sum(activation[i] for i in roots),
        peak_activation_bytes=peak_live_bytes(trace),
        training_activation_bytes=saved_bytes,
        param_bytes=sum(_dtype_bytes(p, dtype) for p in unique),
        buffer_bytes=sum(_dtype_bytes(b, dtype) for b in buffers),
        input_bytes=inputs.nbytes,
        partial=bool(unsupported),
        by_category=_categories(total_macs, total_flops),
        attention_macs=sum(op.attention_macs for op in trace.ops if op.call >= 0),
    )
    return Analysis(
        model=label,
        input_shape=shape,
        dtype=str(dtype).removeprefix("torch."),
        device=str(device),
        layers=rows,
        totals=totals,
        unsupported=unsupported,
        training_mode=training_mode,
        growth=compute_growth(rows, shape),
        cumulative=_cumulative(rows),
        inputs=inputs.text,
        default_input=inputs.default,
        flow=_flow(trace),
        ops=tuple(OpStats(op.name, op.call, op.category, op.cost.macs if op.cost else 0,
                          op.cost.flops if op.cost else 0, op.supported, sources)
                  for op, sources in zip(trace.ops, trace.op_sources, strict=True)),
    )


def _flow(trace: Trace) -> DataFlow:
    """Each call's first op and its outputs' makers, with the kernel and stride of every conv and pool call."""
    specs = {i: spec for i, call in enumerate(trace.calls) if (spec := _spec(call.module)) is not None}
    return DataFlow(tuple(c.first_op for c in trace.calls), tuple(c.output_sources for c in trace.calls),
                    specs)


_SPATIAL = (nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)


def _spec(module: nn.Module) -> LayerSpec | None:
    if not isinstance(module, _SPATIAL):
        return None
    kernel, stride = module.kernel_size, module.stride or module.kernel_size

    def as_tuple(v: Any) -> tuple[int, ...]:
        return tuple(int(x) for x in v) if isinstance(v, (tuple, list)) else (int(v),)

    return LayerSpec(as_tuple(kernel), as_tuple(stride), int(getattr(module, "groups", 1)))


def _cumulative(rows: Sequence[LayerStats]) -> tuple[CumulativeShare, ...]:
    """Running sums of parameters, MACs and layer outputs over the leaves, in execution order."""
    leaves = [r for r in rows if r.is_leaf and r.depth > 0]
    running = [list(accumulate(r.params for r in leaves)), list(accumulate(r.macs for r in leaves)),
               list(accumulate(r.activation_bytes for r in leaves))]
    totals = [sums[-1] if sums else 0 for sums in running]
    return tuple(
        CumulativeShare(row, *sums, *(100 * part / whole if whole else 0.0
                                      for part, whole in zip(sums, totals, strict=True)))
        for row, sums in zip(leaves, zip(*running, strict=True), strict=True)
    )


def _categories(macs: Sequence[int], flops: Sequence[int]) -> dict[str, CategoryCost]:
    if not any(macs) and not any(flops):
        return {}
    return {name: CategoryCost(m, f) for name, m, f in zip(CATEGORIES, macs, flops, strict=True) if m or f}

"""One recorded forward: every ATen op, attributed to the module call that ran it.

A `TorchDispatchMode` sees each op after PyTorch has decomposed the Python-level call
(`F.linear` -> `addmm`, `x + y` -> `add`, `flatten` -> `view`), so functional ops are recorded
the same way as module ops. Hooks around each module's calls keep a stack of open calls; the op
is charged to the innermost one. Tensor lifetimes are followed through storage identity: an op
output that the op's schema does not mark as an alias is a new allocation.

Each op's arguments are named once (`ops.call.named_args`); the meta shortcut and the memory,
receptive-field and cost observers all read that one `OpCall`.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils.hooks import RemovableHandle

from archstat.analysis.ops.call import OpCall, named_args
from archstat.analysis.ops.costs import FREE_OPS, Category, Cost, attention_macs, formula_for
from archstat.analysis.ops.fields import propagate
from archstat.analysis.rf.field import Field
from archstat.analysis.tracing.fast_meta import MetaShortcuts

Shape = tuple[int, ...]

# Composite modules whose inner ops belong to the module's category, whatever the ops are
# (LRN is built from mul/pad/avg_pool; a global average pool may run as `mean`).
MODULE_CATEGORIES: tuple[tuple[type[nn.Module], Category], ...] = (
    (nn.LocalResponseNorm, "norm"),
    (nn.CrossMapLRN2d, "norm"),
    (nn.AdaptiveAvgPool1d, "pool"),
    (nn.AdaptiveAvgPool2d, "pool"),
    (nn.AdaptiveAvgPool3d, "pool"),
    (nn.Softmax, "activation"),
    (nn.LogSoftmax, "activation"),
)


# Weak keys: a class made at run time (a model defined in a loop) is not kept alive by this cache.
_CATEGORY_OF_CLASS: weakref.WeakKeyDictionary[type, Category | None] = weakref.WeakKeyDictionary()


_UNSEEN: Any = object()


def _module_category(kind: type) -> Category | None:
    """The category a module class imposes on its inner ops (`MODULE_CATEGORIES`), found once per class."""
    category = _CATEGORY_OF_CLASS.get(kind, _UNSEEN)
    if category is _UNSEEN:
        category = _CATEGORY_OF_CLASS[kind] = next(
            (c for base, c in MODULE_CATEGORIES if issubclass(kind, base)), None)
    return category


@dataclass(slots=True)
class CallRecord:
    """A module call while it is being recorded (internal; rows are built from it)."""

    module: nn.Module
    depth: int
    parent: int
    call: int
    is_leaf: bool
    first_op: int
    input_shapes: tuple[Shape, ...]
    output_shapes: tuple[Shape, ...] = ()
    output_bytes: int = 0            # new tensors this call returned (leaf calls only)
    own_op_bytes: int = 0            # outputs of ops run directly in a container's forward
    category: Category | None = None
    field: Field | None = None       # receptive field of the first output
    output_sources: tuple[int, ...] = ()   # ops that made the returned tensors (-1: a model input)


class OpRecord(NamedTuple):
    """One executed ATen op (a named tuple: one is made per op, in a third of a frozen dataclass's time)."""

    name: str
    call: int
    category: Category | None        # None: an op with no arithmetic (view, cat, ...)
    cost: Cost | None                # None: unsupported, or free when category is None
    supported: bool
    attention_macs: int = 0          # the part of a linear op's MACs that multiplies two activations


@dataclass(slots=True)
class Trace:
    """Everything one recorded forward produced."""

    calls: list[CallRecord] = field(default_factory=list)
    ops: list[OpRecord] = field(default_factory=list)
    alloc_bytes: list[int] = field(default_factory=list)     # per allocation id
    alloc_op: list[int] = field(default_factory=list)        # op index that allocated it
    last_use: dict[int, int] = field(default_factory=dict)   # allocation id -> last op index
    output_allocs: set[int] = field(default_factory=set)     # held by the caller at the end
    failed_call: int | None = None                            # innermost open call on error
    failed_op: Any = None                                     # the op (overload packet) that raised
    # Data flow, parallel to `ops`: the ops whose outputs each op read (-1: a model input). A tensor
    # is followed by identity, so an in-place op (`relu_`, `+=`) becomes its tensor's new producer.
    op_sources: list[tuple[int, ...]] = field(default_factory=list)


class StorageRef(StorageWeakRef):
    """A storage weak reference whose finaliser tolerates never having been initialised.

    Under `torch.compile`, dynamo's frame hook also catches this recorder's `__torch_dispatch__`
    (PyTorch calls it from C++ while the compiled frame runs), traces it symbolically, builds
    these objects without running `__init__` and drops them when it falls back to eager; the
    stock `__del__` then prints an ignored AttributeError traceback for each.
    """

    __slots__ = ()

    def __del__(self) -> None:
        if hasattr(self, "_free_weak_ref"):
            super().__del__()


def _storage_key(t: torch.Tensor) -> int | None:
    try:
        return int(t.untyped_storage()._cdata)
    except (RuntimeError, NotImplementedError):
        return None


def tensors_in(value: Any) -> list[torch.Tensor]:
    """Every tensor in a nested structure of tuples (named ones too), lists, dicts (and their
    subclasses, like Hugging Face's `ModelOutput`) and dataclasses; faster than pytree."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        # Called twice per op: tensors and plain values (ints, floats, None) are settled here
        # without a recursive call each.
        found: list[torch.Tensor] = []
        for item in value:
            if isinstance(item, torch.Tensor):
                found.append(item)
            elif not isinstance(item, (int, float, bool, str)) and item is not None:
                found.extend(tensors_in(item))
        return found
    if isinstance(value, dict):
        return [t for item in value.values() for t in tensors_in(item)]
    fields = getattr(type(value), "__dataclass_fields__", None)
    if fields is not None and not isinstance(value, type):
        return [t for name in fields for t in tensors_in(getattr(value, name, None))]
    return []


def tensor_shapes(value: Any) -> tuple[Shape, ...]:
    """Shapes of every tensor in a nested structure of arguments or outputs."""
    return tuple(tuple(t.shape) for t in tensors_in(value))


# Schema types that never hold a tensor, once `Optional[...]` and `List[...]` are taken off.
_TENSOR_FREE = frozenset({
    "int", "SymInt", "bool", "number", "float", "complex", "str", "Device", "Layout", "ScalarType",
    "MemoryFormat", "Generator", "QScheme", "Dimname", "AnyEnumType",
})
# Per op overload: the positions and names of the arguments whose schema type holds tensors
# (`Tensor`, `Tensor?`, `Tensor[]`, `Tensor?[]`), the others being plainly tensor-free; None where
# some type is neither (a generic `t`, a dict, a class), whose arguments are all searched.
_TENSOR_ARGS: dict[Any, tuple[tuple[int, ...], frozenset[str]] | None] = {}


def _holds_tensors(type_text: str) -> bool | None:
    while type_text.endswith("]") and type_text.startswith(("Optional[", "List[")):
        type_text = type_text[type_text.index("[") + 1:-1]
    if type_text == "Tensor":
        return True
    return False if type_text in _TENSOR_FREE else None


def _tensor_args(func: Any) -> tuple[tuple[int, ...], frozenset[str]] | None:
    holds = [_holds_tensors(str(a.type)) for a in func._schema.arguments]
    if None in holds:
        return None
    names = [a.name for a in func._schema.arguments]
    return tuple(i for i, h in enumerate(holds) if h), frozenset(n for n, h in zip(names, holds, strict=True) if h)


def _op_tensors(func: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> list[torch.Tensor]:
    """`tensors_in((args, kwargs))` of an op's call, reading only the arguments its schema lets hold
    tensors (PyTorch hands a dispatch mode arguments of the schema's types), not every int list."""
    try:
        spec = _TENSOR_ARGS[func]
    except KeyError:
        spec = _TENSOR_ARGS[func] = _tensor_args(func)
    if spec is None:
        return tensors_in((args, kwargs))
    positions, names = spec
    found: list[torch.Tensor] = []
    for i in positions:
        if i >= len(args):
            break
        value = args[i]
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif value is not None:
            found.extend(tensors_in(value))
    if kwargs:
        for name, value in kwargs.items():
            if name in names:
                found.extend(tensors_in(value))
    return found


def _outputs(out: Any) -> list[torch.Tensor]:
    """`tensors_in(out)`, a single tensor (most ops and modules return one) settled at once."""
    return [out] if isinstance(out, torch.Tensor) else tensors_in(out)


# Per op overload: whether each of its returns is a new tensor (the schema marks no alias); an
# output past the last return (a `Tensor[]` return) is read as that last one.
_ALLOCATES: dict[Any, tuple[bool, ...]] = {}


def _allocates(func: Any) -> tuple[bool, ...]:
    found = _ALLOCATES.get(func)
    if found is None:
        # No declared return: anything the op hands back anyway is new.
        found = _ALLOCATES[func] = tuple(r.alias_info is None for r in func._schema.returns) or (True,)
    return found


class CollapsedError(RuntimeError):
    """An op turned a non-empty input into an empty output."""


class _Recorder(MetaShortcuts):
    def __init__(self, trace: Trace, leaf_flags: dict[int, bool]) -> None:
        super().__init__()
        self.trace = trace
        self.stack: list[int] = []
        self.calls_of: dict[int, int] = {}   # id(module) -> its calls so far
        # Storage identity -> allocation id, with a weak reference to tell a live storage from a
        # freed one whose address a later tensor (even one made outside the trace) reuses.
        # On the meta device the storages themselves are held instead (`_allocate`).
        self.alloc_of: dict[int, tuple[int, StorageRef | None]] = {}
        self.held: list[torch.UntypedStorage] = []
        self.counted: set[int] = set()
        self.leaf_flags = leaf_flags
        self.categories: dict[type, Category | None] = {}   # `_module_category`, per class met here
        # Receptive field per tensor object (views differ from their base: flatten ends it).
        self.fields: dict[int, tuple[weakref.ref[torch.Tensor], Field]] = {}
        # The op that made each tensor object (-1: a model input), for the data-flow graph.
        self.producers: dict[int, tuple[weakref.ref[torch.Tensor], int]] = {}
        # Storages of parameters and buffers (None: alive throughout) and of values made from them
        # alone (W.t().contiguous(), a cast), to tell a weight's product from two activations'.
        self.weight_storages: dict[int, StorageRef | None] = {}

    # An op's observers share its tensors' storage keys (`_storage_key`, None: no storage) and one
    # weak reference per output, each made once per op.

    # -- weights ------------------------------------------------------------------------------

    def use_weights(self, tensors: Iterable[torch.Tensor]) -> None:
        """The parameters and buffers the forward runs with."""
        for t in tensors:
            key = _storage_key(t)
            if key is not None:
                self.weight_storages[key] = None

    def _is_weight(self, key: int | None) -> bool:
        ref = self.weight_storages.get(key, _UNSEEN) if key is not None else _UNSEEN
        return ref is None or (ref is not _UNSEEN and not ref.expired())

    def observe_weights(self, call: OpCall, in_keys: Sequence[int | None], out_keys: Sequence[int | None]) -> bool:
        """Whether an input is a weight; the outputs of an op that read weights alone are weights."""
        weights = [self._is_weight(key) for key in in_keys]
        if weights and all(weights):
            for t, key in zip(call.outs, out_keys, strict=True):
                if key is not None and not self._is_weight(key):
                    self.weight_storages[key] = StorageRef(t.untyped_storage())
        return any(weights)

    # -- data flow ----------------------------------------------------------------------------

    def mark_input(self, t: torch.Tensor) -> None:
        """`t` is one of the model's inputs: the source of the data-flow graph."""
        self.producers[id(t)] = (weakref.ref(t), -1)

    def _made_by(self, tensors: Iterable[torch.Tensor]) -> tuple[int, ...]:
        """The ops that made `tensors` (-1: a model input), each once, in order."""
        producers = self.producers
        found = []
        for t in tensors:
            entry = producers.get(id(t))
            if entry is not None and entry[0]() is t:
                found.append(entry[1])
        return tuple(dict.fromkeys(found)) if len(found) > 1 else tuple(found)

    def observe_flow(self, call: OpCall, index: int, refs: Sequence[weakref.ref[torch.Tensor]]) -> None:
        """The ops this one read from; then this op is the producer of its outputs."""
        self.trace.op_sources.append(self._made_by(call.inputs))
        for t, ref in zip(call.outs, refs, strict=True):
            self.producers[id(t)] = (ref, index)

    # -- receptive fields ---------------------------------------------------------------------

    def set_field(self, t: torch.Tensor, field: Field) -> None:
        self.fields[id(t)] = (weakref.ref(t), field)

    def field_of(self, t: torch.Tensor) -> Field | None:
        entry = self.fields.get(id(t))
        return entry[1] if entry is not None and entry[0]() is t else None

    def observe_field(self, call: OpCall, refs: Sequence[weakref.ref[torch.Tensor]]) -> None:
        """The outputs' field, from the inputs that carry one (see `ops.fields`)."""
        fields = self.fields
        carriers: list[torch.Tensor] = []
        carried: list[Field] = []
        for t in call.inputs:
            entry = fields.get(id(t))
            if entry is not None and entry[0]() is t and entry[1] is not None:
                carriers.append(t)
                carried.append(entry[1])
        if not carried or not call.outs:
            return
        field = propagate(call, carried, carriers)
        for t, ref in zip(call.outs, refs, strict=True):
            fields[id(t)] = (ref, field)

    # -- allocations --------------------------------------------------------------------------

    def allocate(self, t: torch.Tensor, op_index: int) -> None:
        key = _storage_key(t)
        if key is not None:
            self._allocate(t, key, op_index)

    def _allocate(self, t: torch.Tensor, key: int, op_index: int) -> None:
        storage = t.untyped_storage()
        if t.is_meta:
            # A meta storage holds no memory: kept alive to the end of the run, its address is
            # never reused, so its entry needs no weak reference to tell it is still current.
            self.held.append(storage)
            self.alloc_of[key] = (len(self.trace.alloc_bytes), None)
        else:
            self.alloc_of[key] = (len(self.trace.alloc_bytes), StorageRef(storage))
        self.trace.alloc_bytes.append(storage.nbytes())
        self.trace.alloc_op.append(op_index)

    def alloc_id(self, t: torch.Tensor) -> int | None:
        return self._alloc_id(_storage_key(t))

    def _alloc_id(self, key: int | None) -> int | None:
        entry = self.alloc_of.get(key) if key is not None else None
        if entry is None or (entry[1] is not None and entry[1].expired()):
            return None
        return entry[0]

    # -- module calls -------------------------------------------------------------------------

    def pre_hook(self, module: nn.Module, args: Any, kwargs: Any) -> None:
        key = id(module)
        call = self.calls_of.get(key, 0)
        self.calls_of[key] = call + 1
        if not kwargs and len(args) == 1 and isinstance(args[0], torch.Tensor):
            shapes: tuple[Shape, ...] = (tuple(args[0].shape),)   # most modules take one tensor
        else:
            shapes = tensor_shapes((args, kwargs))
        stack = self.stack
        record = CallRecord(
            module=module,
            depth=len(stack),
            parent=stack[-1] if stack else -1,
            call=call,
            is_leaf=self.leaf_flags.get(key, True),
            first_op=len(self.trace.ops),
            input_shapes=shapes,
            category=self._category(type(module)),
        )
        stack.append(len(self.trace.calls))
        self.trace.calls.append(record)

    def _category(self, kind: type) -> Category | None:
        category = self.categories.get(kind, _UNSEEN)
        if category is _UNSEEN:
            category = self.categories[kind] = _module_category(kind)
        return category

    def post_hook(self, module: nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        record = self.trace.calls[self.stack.pop()]
        first = _outputs(output)
        record.output_shapes = (tuple(first[0].shape),) if len(first) == 1 else tuple(tuple(t.shape) for t in first)
        record.output_sources = self._made_by(first)
        record.field = self.field_of(first[0]) if first else None
        if not record.is_leaf:
            return
        for t in first:
            alloc = self.alloc_id(t)
            if alloc is None or alloc in self.counted or self.trace.alloc_op[alloc] < record.first_op:
                continue
            self.counted.add(alloc)
            record.output_bytes += self.trace.alloc_bytes[alloc]

    # -- ops ----------------------------------------------------------------------------------

    def __torch_dispatch__(
        self, func: Any, types: Sequence[type], args: Sequence[Any] = (), kwargs: Any = None
    ) -> Any:
        # The arguments are named once here; the meta shortcut and every observer read the same.
        kwargs = kwargs or {}
        named = named_args(func, args, kwargs)
        try:
            out = self.run(func, args, kwargs, named)
            call = OpCall(func, func.overloadpacket, named, _op_tensors(func, args, kwargs), _outputs(out))
            index = len(self.trace.ops)
            in_keys = [_storage_key(t) for t in call.inputs]
            out_keys = [_storage_key(t) for t in call.outs]
            refs = [weakref.ref(t) for t in call.outs]
            self.observe_memory(call, index, in_keys, out_keys)
            if self.fields:
                self.observe_field(call, refs)
            # may need values the meta device lacks (roi_align's grid)
            self.observe_cost(call, index, in_keys, out_keys)
            self.observe_flow(call, index, refs)
        except BaseException:
            if self.trace.failed_op is None:
                self.trace.failed_op = func.overloadpacket
            raise
        return out

    def observe_memory(self, call: OpCall, index: int, in_keys: Sequence[int | None],
                       out_keys: Sequence[int | None]) -> None:
        """Last use of every input's allocation; a new allocation for each output the schema does not alias."""
        last_use = self.trace.last_use
        for key in in_keys:
            alloc = self._alloc_id(key)
            if alloc is not None:
                last_use[alloc] = index
        allocates = _allocates(call.func)
        last = len(allocates) - 1
        for i, (t, key) in enumerate(zip(call.outs, out_keys, strict=True)):
            if key is not None and allocates[min(i, last)]:
                self._allocate(t, key, index)

    def observe_cost(self, call: OpCall, index: int, in_keys: Sequence[int | None],
                     out_keys: Sequence[int | None]) -> None:
        """The op's cost (see `ops.costs`), charged to the innermost open module call."""
        at = self.stack[-1] if self.stack else -1
        record = self.trace.calls[at] if at >= 0 else None
        entry = formula_for(call.packet)
        category: Category | None = None
        cost: Cost | None = None
        if entry is not None:
            category, formula = entry
            cost = formula(call.outs[0], **call.args)
            if record is not None and record.category is not None:
                category = record.category
            if call.outs[0].numel() == 0 and any(t.numel() > 0 for t in call.inputs):
                raise CollapsedError(
                    f"{call.packet.__name__} turned {_fmt(call.inputs[0].shape)} into {_fmt(call.outs[0].shape)}"
                )
        supported = entry is not None or call.packet in FREE_OPS
        weighted = self.observe_weights(call, in_keys, out_keys) if self.weight_storages else False
        shared = attention_macs(call.packet, cost, weighted, call.args) if cost is not None and entry is not None \
            and entry[0] == "linear" else 0
        self.trace.ops.append(OpRecord(call.packet.__name__, at, category, cost, supported, shared))

        if record is not None and call.outs and not record.is_leaf:
            alloc = self._alloc_id(out_keys[0])
            if alloc is not None and self.trace.alloc_op[alloc] == index and alloc not in self.counted:
                self.counted.add(alloc)
                record.own_op_bytes += self.trace.alloc_bytes[alloc]


def _fmt(shape: Sequence[int]) -> str:
    return "x".join(str(s) for s in shape)


@contextmanager
def recording(model: nn.Module, kind: type[_Recorder] = _Recorder,
              modules: Sequence[nn.Module] | None = None) -> Iterator[tuple[Trace, _Recorder]]:
    """Hooks around every submodule's calls (`_hooked`) and a dispatch mode (a `kind` of recorder:
    the training pass extends it); both removed, whatever happens. `modules`: the model's
    modules, each once, where the caller has walked them already."""
    trace = Trace()
    modules = list(dict.fromkeys(model.modules())) if modules is None else modules
    leaf_flags = {id(m): len(m._modules) == 0 for m in modules}
    recorder = kind(trace, leaf_flags)
    remove = _hooked(modules, recorder.pre_hook, recorder.post_hook)
    try:
        with recorder:
            try:
                yield trace, recorder
            except BaseException:
                trace.failed_call = recorder.stack[-1] if recorder.stack else None
                raise
    finally:
        remove()


_CALL, _CALL_IMPL, _WRAPPED_CALL_IMPL = nn.Module.__call__, nn.Module._call_impl, nn.Module._wrapped_call_impl


def _hooked(modules: Sequence[nn.Module], pre_hook: Callable[..., None],
            post_hook: Callable[..., None]) -> Callable[[], None]:
    """`pre_hook(module, args, kwargs)` before and `post_hook(module, args, kwargs, output)` after
    every call of each module in `modules` (each once); returns what removes them all.

    Where a module is called the plain way (`_wraps_forward`), its `forward` is wrapped by an
    instance attribute that shadows the class's: `nn.Module` then takes its fast path, which
    runs no hook machinery, instead of its hook path (a quarter of the module calls' cost on
    a model of hundreds of small modules). The call's own hooks still run around the wrapper, as
    they would around hooks registered after them, and a `forward` the instance already had is
    wrapped and put back afterwards. The few other modules get a forward pre-hook and a forward
    hook, both given the call's kwargs.
    """
    handles: list[RemovableHandle] = []
    wrapped: list[tuple[nn.Module, Any]] = []
    wraps: dict[type, bool] = {}
    try:
        for m in modules:
            kind = type(m)
            wrap = wraps.get(kind)
            if wrap is None:
                wrap = wraps[kind] = _wraps_forward(kind)
            if wrap:
                wrapped.append((m, m.__dict__.get("forward", _UNSEEN)))
                m.__dict__["forward"] = _recorded(m, m.forward, pre_hook, post_hook)
            else:
                handles.append(m.register_forward_pre_hook(pre_hook, with_kwargs=True))
                handles.append(m.register_forward_hook(post_hook, with_kwargs=True))
    except BaseException:
        _unhook(handles, wrapped)
        raise
    return lambda: _unhook(handles, wrapped)


# Modules whose forward reads their hook tables: an encoder layer takes its fused kernel (one op,
# `_transformer_encoder_layer_fwd`, with no formula) only when no module in it has a forward hook.
# Hooked, they run op for op as before.
_READS_HOOKS: tuple[type[nn.Module], ...] = (nn.TransformerEncoderLayer,)


def _wraps_forward(kind: type[nn.Module]) -> bool:
    """Whether a `kind` instance's calls all go through `nn.Module.__call__` to `self.forward`,
    looked up on the instance: no class's own `__call__` or `_call_impl` (Hugging Face's
    checkpointing layers have one), no TorchScript module, and no `forward` that is a data
    descriptor (a property an instance attribute would not shadow); and that its forward does
    not read its hooks (`_READS_HOOKS`)."""
    return (kind.__call__ is _CALL and kind._call_impl is _CALL_IMPL and kind._wrapped_call_impl is _WRAPPED_CALL_IMPL
            and not issubclass(kind, (torch.jit.ScriptModule, *_READS_HOOKS))
            and not hasattr(type(inspect.getattr_static(kind, "forward", None)), "__set__"))


def _recorded(module: nn.Module, forward: Callable[..., Any], pre_hook: Callable[..., None],
              post_hook: Callable[..., None]) -> Callable[..., Any]:
    """`forward` between the two hooks (none runs after a forward that raises, as with hooks)."""

    def recorded(*args: Any, **kwargs: Any) -> Any:
        pre_hook(module, args, kwargs)
        output = forward(*args, **kwargs)
        post_hook(module, args, kwargs, output)
        return output

    return recorded


def _unhook(handles: Sequence[RemovableHandle], wrapped: Sequence[tuple[nn.Module, Any]]) -> None:
    for m, own in wrapped:
        if own is _UNSEEN:
            m.__dict__.pop("forward", None)
        else:
            m.__dict__["forward"] = own
    for h in handles:
        h.remove()

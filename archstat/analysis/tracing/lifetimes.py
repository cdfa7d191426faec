"""Activation memory beyond the per-layer sum: live peak in inference, saved tensors and the live
peak of a training forward."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.autograd.graph import saved_tensors_hooks

from archstat.analysis.inputs import Call, tensors_of
from archstat.analysis.tracing.execution import ModelTree, preserved_state, run_model, set_mode, stand_ins, swapped
from archstat.analysis.tracing.fast_meta import MetaShortcuts
from archstat.analysis.tracing.recorder import StorageRef, Trace


def peak_live_bytes(trace: Trace) -> int:
    """Largest sum of live tensors over the recorded ops.

    A tensor is live from the op that allocates it through the last op that reads it (views and
    in-place results share their base's storage). The input and the returned outputs are held by
    the caller, so they live to the end.
    """
    n_ops = len(trace.ops)
    # delta[i + 1] changes the live total at op i; slot 0 is "before the first op".
    delta = [0] * (n_ops + 3)
    for alloc, size in enumerate(trace.alloc_bytes):
        start = trace.alloc_op[alloc]
        end = n_ops if alloc in trace.output_allocs else max(start, trace.last_use.get(alloc, start))
        delta[start + 1] += size
        delta[end + 2] -= size
    live = peak = 0
    for change in delta:
        live += change
        peak = max(peak, live)
    return peak


def _storage_id(t: torch.Tensor) -> int:
    return int(t.untyped_storage()._cdata)


@dataclass(frozen=True, slots=True)
class TrainingForward:
    """What one training-mode forward holds: the tensors autograd saves for the backward, and the
    most activation memory live at once (saved tensors held to the end, every other tensor freed
    after its last use, the inputs included), both without parameters and buffers."""

    saved_bytes: int
    peak_bytes: int
    mode: str                        # "train", or "eval" when a train-mode forward could not run


class _LiveBytes(MetaShortcuts):
    """The meta shortcuts, plus the bytes of live storages the ops made, and their peak.

    A storage is live while anything holds it (a tensor, a view, autograd's saved copy), told by a
    weak reference; peaks only rise when a new storage is made, so expired ones are dropped then.
    A storage autograd saves is held to the end of the forward: it is `pin`ned, counted but no
    longer checked, so each check covers the few unsaved storages alive at that moment, not every
    saved one so far (which made the forward quadratic in the model's depth).
    """

    def __init__(self, held: Sequence[torch.Tensor], weights: set[int]) -> None:
        super().__init__()
        self.weights = weights       # parameters' and buffers' storages: never activations
        self.live: dict[int, tuple[StorageRef, int]] = {}
        self.pinned: set[int] = set()
        self.bytes = self.peak = 0
        for t in held:
            self._add(t)

    def pin(self, key: int) -> None:
        """The storage `key` is held until the forward ends (autograd saved it)."""
        if self.live.pop(key, None) is not None:
            self.pinned.add(key)

    def _add(self, t: torch.Tensor) -> None:
        key = _storage_id(t)
        if key in self.weights or key in self.pinned:
            return
        entry = self.live.get(key)
        if entry is not None and not entry[0].expired():
            return
        self._drop_freed()
        storage = t.untyped_storage()
        self.live[key] = (StorageRef(storage), storage.nbytes())
        self.bytes += storage.nbytes()
        self.peak = max(self.peak, self.bytes)

    def _drop_freed(self) -> None:
        for key in [k for k, (ref, _) in self.live.items() if ref.expired()]:
            self.bytes -= self.live.pop(key)[1]

    def __torch_dispatch__(self, func: Any, types: Sequence[type], args: Sequence[Any] = (),
                           kwargs: Any = None) -> Any:
        out = self.run(func, args, kwargs or {})
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor) and t.layout == torch.strided:
                self._add(t)
        return out


def saved_for_backward(model: nn.Module, inputs: Call, dtype: torch.dtype, device: torch.device, *,
                       tree: ModelTree | None = None,
                       tensors: Mapping[int, torch.Tensor] | None = None) -> tuple[int, str]:
    """Bytes of the tensors autograd saves for backward in one forward, and the mode used (the
    forward of `training_forward`, without following the live peak)."""
    measured = _training_forward(model, inputs, dtype, device, tree, tensors, live_peak=False)
    return measured.saved_bytes, measured.mode


def training_forward(model: nn.Module, inputs: Call, dtype: torch.dtype, device: torch.device, *,
                     tree: ModelTree | None = None,
                     tensors: Mapping[int, torch.Tensor] | None = None) -> TrainingForward:
    """The saved tensors and the live peak of one training forward (`TrainingForward`).

    Runs on `device` (the analysis device: on meta, sizes only) on the same materialised inputs
    as the recorded forward, with stand-in parameters and buffers, so the model's own running
    statistics are untouched: `tensors` (by id of the model's tensor, on `device` at `dtype`: the
    recorded forward's, which has finished with them), else fresh ones. `tree`: the model's walk,
    where the caller has it. Training mode first; if the model cannot run a training forward at
    this input (batch norm on a single value per channel), eval mode.
    """
    return _training_forward(model, inputs, dtype, device, tree, tensors, live_peak=True)


def _training_forward(model: nn.Module, inputs: Call, dtype: torch.dtype, device: torch.device,
                      tree: ModelTree | None, tensors: Mapping[int, torch.Tensor] | None, *,
                      live_peak: bool) -> TrainingForward:
    """`training_forward`; without `live_peak`, the forward runs under the meta shortcuts alone
    (`peak_bytes` is then 0): the saved tensors are the same."""
    tree = tree or ModelTree.of(model)
    if tensors is None:
        tensors = stand_ins(tree, device, dtype, fresh=True)
        assert tensors is not None
    weights = {_storage_id(t) for t in tensors.values()}
    saved: dict[int, int] = {}
    live: _LiveBytes | None = None

    # Autograd gets the storage key, not the tensor: holding the tensor in the graph would keep this
    # forward's whole graph alive after the call (no backward runs here, so nothing is unpacked).
    # The storages are held until the forward ends, as autograd would hold them, so they count in
    # the live peak, and a freed storage's address is never reused by a later tensor of the same
    # forward and mistaken for one already counted.
    held: list[torch.UntypedStorage] = []

    def pack(t: torch.Tensor) -> int:
        storage = t.untyped_storage()
        key = int(storage._cdata)
        if key not in weights and key not in saved:
            saved[key] = storage.nbytes()
            held.append(storage)
            if live is not None:
                live.pin(key)
        return key

    def unpack(key: int) -> torch.Tensor:
        raise RuntimeError("archstat's saved-tensor measurement keeps sizes only; it cannot run a backward")

    given = tensors_of(inputs)
    with preserved_state(model, tree), swapped(tree, tensors):
        for mode in ("train", "eval"):
            set_mode(model, tree, mode == "train")   # model.train(...)
            saved.clear()
            live = _LiveBytes(given, weights) if live_peak else None
            shortcuts = live if live is not None else MetaShortcuts()
            try:
                with torch.enable_grad(), saved_tensors_hooks(pack, unpack), shortcuts:
                    output = run_model(model, None, inputs)
            except (ValueError, RuntimeError):
                if mode == "eval":
                    raise
                continue
            finally:
                held.clear()
            del output
            return TrainingForward(sum(saved.values()), live.peak if live is not None else 0, mode)
    raise AssertionError("unreachable")

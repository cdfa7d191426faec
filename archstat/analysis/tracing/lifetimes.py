"""Activation memory beyond the per-layer sum: live peak in inference, saved tensors in training."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn
from torch.autograd.graph import saved_tensors_hooks

from archstat.analysis.inputs import Call
from archstat.analysis.tracing.execution import ModelTree, preserved_state, run_model, stand_ins, swapped
from archstat.analysis.tracing.fast_meta import MetaShortcuts
from archstat.analysis.tracing.recorder import Trace


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


def saved_for_backward(model: nn.Module, inputs: Call, dtype: torch.dtype, device: torch.device, *,
                       tree: ModelTree | None = None,
                       tensors: Mapping[int, torch.Tensor] | None = None) -> tuple[int, str]:
    """Bytes of the tensors autograd saves for backward in one forward, and the mode used.

    Runs on `device` (the analysis device: on meta, sizes only) on the same materialised inputs
    as the recorded forward, with stand-in parameters and buffers, so the model's own running
    statistics are untouched: `tensors` (by id of the model's tensor, on `device` at `dtype`: the
    recorded forward's, which has finished with them), else fresh ones. `tree`: the model's walk,
    where the caller has it. Training mode first; if the model cannot run a training forward at
    this input (batch norm on a single value per channel), eval mode.
    """
    tree = tree or ModelTree.of(model)
    if tensors is None:
        tensors = stand_ins(tree, device, dtype, fresh=True)
        assert tensors is not None
    weights = {_storage_id(t) for t in tensors.values()}
    saved: dict[int, int] = {}

    # Autograd gets the storage key, not the tensor: holding the tensor in the graph would keep this
    # forward's whole graph alive after the call (no backward runs here, so nothing is unpacked).
    # The storages are held until the forward ends, so a freed storage's address is never reused
    # by a later tensor of the same forward and mistaken for one already counted.
    held: list[torch.UntypedStorage] = []

    def pack(t: torch.Tensor) -> int:
        key = _storage_id(t)
        if key not in weights and key not in saved:
            saved[key] = t.untyped_storage().nbytes()
            held.append(t.untyped_storage())
        return key

    def unpack(key: int) -> torch.Tensor:
        raise RuntimeError("archstat's saved-tensor measurement keeps sizes only; it cannot run a backward")

    with preserved_state(model, tree), swapped(tree, tensors):
        for mode in ("train", "eval"):
            model.train(mode == "train")
            saved.clear()
            try:
                with torch.enable_grad(), saved_tensors_hooks(pack, unpack), MetaShortcuts():
                    output = run_model(model, None, inputs)
            except (ValueError, RuntimeError):
                if mode == "eval":
                    raise
                continue
            finally:
                held.clear()
            del output
            return sum(saved.values()), mode
    raise AssertionError("unreachable")

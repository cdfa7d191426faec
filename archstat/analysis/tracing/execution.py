"""Running a model on a chosen device and dtype without touching its own tensors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.func import functional_call


def override_tensors(
    model: nn.Module, device: torch.device, dtype: torch.dtype, *, fresh: bool = False
) -> dict[str, torch.Tensor] | None:
    """Stand-ins for the model's parameters and buffers on `device` at `dtype`.

    None when every tensor already lives there (no swap needed). On the meta device the
    stand-ins are empty, so nothing is allocated or copied; tied tensors stay tied.
    """
    named = list(model.named_parameters(remove_duplicate=False)) + list(
        model.named_buffers(remove_duplicate=False)
    )

    def target_dtype(t: torch.Tensor) -> torch.dtype:
        return dtype if t.is_floating_point() else t.dtype

    if not fresh and all(t.device == device and t.dtype == target_dtype(t) for _, t in named):
        return None
    made: dict[int, torch.Tensor] = {}
    out: dict[str, torch.Tensor] = {}
    for name, t in named:
        if id(t) not in made:
            if device.type == "meta":
                stand_in = torch.empty(t.shape, device=device, dtype=target_dtype(t))
            else:
                stand_in = t.detach().to(device=device, dtype=target_dtype(t), copy=True)
            made[id(t)] = stand_in.requires_grad_(t.requires_grad and stand_in.is_floating_point())
        out[name] = made[id(t)]
    return out


def run_model(model: nn.Module, tensors: dict[str, torch.Tensor] | None, x: torch.Tensor) -> Any:
    """Call the model, with stand-in parameters and buffers if given."""
    if tensors is None:
        return model(x)
    return functional_call(model, tensors, (x,), strict=False)


def make_input(shape: Sequence[int], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A random input (empty on the meta device)."""
    if device.type == "meta":
        return torch.empty(tuple(shape), dtype=dtype, device=device)
    generator = torch.Generator().manual_seed(0)
    return torch.randn(tuple(shape), generator=generator, dtype=dtype).to(device)

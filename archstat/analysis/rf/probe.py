"""Receptive fields measured by back-propagation: the check that needs no closed form.

REFERENCES.md §3: make every weight positive, turn max pools into average pools of the same
geometry, put batch norm in eval with unit statistics, feed a positive input, and
back-propagate from one centre output unit; the non-zero extent of the input gradient is the
receptive field. Each step removes one way a pixel that the unit sees could get exactly zero
gradient:

- max pools route the gradient to the one pixel that won each window, so the rest of the
  window would look unseen; an average pool of the same geometry (kernel, stride, padding,
  ceil_mode) touches every pixel of every window. Modules and functional calls alike are
  swapped, by a `TorchFunctionMode`: `nn.MaxPool2d.forward` calls `F.max_pool2d`, so the
  mode sees both (and `torch.max_pool2d`, adaptive max pools, every rank);
- negative weights let paths cancel and drive ReLUs to zero, so every weight is drawn from
  [0.5, 1.5] and divided by its fan-in (each layer then averages its inputs, so activations
  neither overflow nor saturate); biases and norm scales are positive too;
- batch norm's statistics rescale and shift (a negative shift would kill ReLUs; batch
  statistics in eval would make every unit depend on the whole map): running mean 0 and
  variance 1, in eval, for every batch and instance norm;
- a zero input makes every ReLU sit at 0, where its gradient is 0: the input is drawn from
  [0.5, 1.5]·10⁻², small so that saturating activations (ReLU6, hard sigmoid, tanh) stay in
  their sloped range even after residual adds double the activations block after block;
- dropout is off (eval mode, and functional dropout is made the identity).

Everything runs on a deep copy in float64 on the CPU: the caller's model is left as it was.
Exact zero is the threshold: the smallest non-zero gradient is reported so that callers can
see how far it is from underflow (in float64 a 3×3 layer divides the far corner's share by
about 9, so some 300 such layers in a row would be needed to reach 1e-308).

Left as they are, and so measured as the model really is: other data-dependent routing
(`torch.max` reductions, top-k, indexing), group and layer norm over spatial axes (which do
make every unit depend on the whole map), fixed buffers with negative values (a Sobel filter).
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from archstat.analysis.tracing.execution import preserved_state
from archstat.errors import UsageError

Status = Literal["ok", "zero_gradient", "not_spatial", "not_run"]

_INPUT_SCALE = 1e-2
_BIAS_SCALE = 1e-3
_SEED = 0


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The measured receptive field of the centre unit of one module's (first) output.

    `extent` is, per input spatial axis, the first and last input pixel whose gradient is
    non-zero: the bounding box, clipped to the input by construction (dilated fields have
    holes inside it). It is empty unless `status` is "ok".
    """

    path: str                                # "features.28"
    status: Status                           # "zero_gradient": the unit depends on no input pixel
    output_size: tuple[int, ...] = ()        # spatial size of the output: (14, 14)
    unit: tuple[int, ...] = ()               # the unit probed per output axis: (size − 1) // 2
    extent: tuple[tuple[int, int], ...] = ()  # ((6, 201), (6, 201)), input pixels, inclusive
    smallest_gradient: float = 0.0           # smallest non-zero |∂unit/∂input|: the underflow margin

    @property
    def sizes(self) -> tuple[int, ...]:
        """Width of the measured extent per input axis, in pixels."""
        return tuple(last - first + 1 for first, last in self.extent)


def probe_fields(model: nn.Module, input_shape: tuple[int, ...], targets: Sequence[str]) -> dict[str, ProbeResult]:
    """Measure the receptive field of the centre unit of each target module's output, by path.

    The probe runs on a float64 copy; the model and the global flags come back as they were.
    """
    # whatever grad mode the caller is in
    with preserved_state(model), torch.inference_mode(False), torch.enable_grad():
        probe = _prepared_copy(model)
        modules = {path: submodule(probe, path) for path in targets}
        x = _positive_input(input_shape).requires_grad_(True)
        with capturing(modules) as outputs, _PoolsAveraged(), suppress(AllCaptured):
            probe(x)
        return {path: _measure(path, outputs.get(path), x) for path in targets}


# ---------------------------------------------------------------- preparing the copy


def _prepared_copy(model: nn.Module) -> nn.Module:
    # Parameters are drawn afresh, so the copy gets new float64 storage instead of their values;
    # they need no gradient (only the input's is wanted). Shared parameters stay shared.
    fresh: dict[int, Any] = {
        id(p): nn.Parameter(torch.empty(p.shape, dtype=torch.float64), requires_grad=False)
        for p in model.parameters()
    }
    probe = copy.deepcopy(model, fresh).to(device="cpu", dtype=torch.float64).eval()
    generator = torch.Generator().manual_seed(_SEED)
    with torch.no_grad():
        for module in probe.modules():
            if isinstance(module, nn.modules.batchnorm._NormBase):
                _unit_statistics(module)
            for name, param in module.named_parameters(recurse=False):
                _draw_positive(param, name, generator)
    return probe


def _unit_statistics(norm: nn.modules.batchnorm._NormBase) -> None:
    """Running mean 0, variance 1, and used in eval even where the layer tracked none."""
    shape = (norm.num_features,)
    norm.running_mean = torch.zeros(shape, dtype=torch.float64)
    norm.running_var = torch.ones(shape, dtype=torch.float64)
    norm.track_running_stats = True


def _draw_positive(param: Tensor, name: str, generator: torch.Generator) -> None:
    param.uniform_(0.5, 1.5, generator=generator)
    if name == "bias":
        param.mul_(_BIAS_SCALE)
    elif param.dim() >= 2:  # a weight whose first axis is the output: divide by the fan-in
        param.div_(max(1, param[0].numel()))
    # else a per-channel scale (norm weight, PReLU slope): left in [0.5, 1.5]


def _positive_input(shape: tuple[int, ...]) -> Tensor:
    generator = torch.Generator().manual_seed(_SEED + 1)
    return (torch.rand(shape, generator=generator, dtype=torch.float64) + 0.5) * _INPUT_SCALE


def submodule(model: nn.Module, path: str) -> nn.Module:
    """The module at `path`; an unknown path is a one-line error naming the closest paths."""
    try:
        return model.get_submodule(path)
    except AttributeError:
        names = [name for name, _ in model.named_modules() if name]
        close = difflib.get_close_matches(path, names, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"no module {path!r} in the model{hint}") from None


# ---------------------------------------------------------------- max pools become average pools


class _PoolsAveraged(TorchFunctionMode):
    """Every max pool (module or functional, any rank) runs as an average pool of its geometry."""

    def __torch_function__(
        self, func: Callable[..., Any], types: Any, args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        kwargs = kwargs or {}
        swap = _SWAPS.get(func)
        if swap is None:
            return func(*args, **kwargs)
        return swap(func, *args, **kwargs)


def _as_average(avg: Callable[..., Tensor]) -> Callable[..., Any]:
    def swap(
        func: Callable[..., Any],
        input: Tensor,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        ceil_mode: bool = False,
        return_indices: bool = False,
    ) -> Any:
        if any(d != 1 for d in _as_tuple(dilation)):
            raise UsageError("a dilated max pool has no average-pool twin; its receptive field cannot be probed")
        # stride None (functional) or [] (aten) means "the kernel", as in the max pool
        out = avg(input, kernel_size, stride or kernel_size, padding, ceil_mode=ceil_mode, count_include_pad=True)
        if return_indices or func in _WITH_INDICES:
            return out, _real_indices(func, input, kernel_size, stride, padding, dilation, ceil_mode)
        return out

    return swap


def _as_adaptive_average(avg: Callable[..., Tensor]) -> Callable[..., Any]:
    def swap(func: Callable[..., Any], input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
        out = avg(input, output_size)
        if return_indices or func in _WITH_INDICES:
            return out, _real_indices(func, input, output_size)
        return out

    return swap


def _real_indices(func: Callable[..., Any], input: Tensor, *geometry: Any) -> Tensor:
    # for a later max_unpool: the real winners (inside the mode, `func` is the real op)
    with torch.no_grad():
        return func(input, *geometry, return_indices=True)[1]


def _as_tuple(value: Any) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _identity(func: Callable[..., Any], input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    return input


_WITH_INDICES: frozenset[Callable[..., Any]] = frozenset({
    F.max_pool1d_with_indices, F.max_pool2d_with_indices, F.max_pool3d_with_indices,
    F.adaptive_max_pool1d_with_indices, F.adaptive_max_pool2d_with_indices, F.adaptive_max_pool3d_with_indices,
})  # fmt: skip

_SWAPS: dict[Callable[..., Any], Callable[..., Any]] = {
    **{f: _as_average(F.avg_pool1d) for f in (F.max_pool1d, F.max_pool1d_with_indices, torch.max_pool1d)},
    **{f: _as_average(F.avg_pool2d) for f in (F.max_pool2d, F.max_pool2d_with_indices, torch.max_pool2d)},
    **{f: _as_average(F.avg_pool3d) for f in (F.max_pool3d, F.max_pool3d_with_indices, torch.max_pool3d)},
    **{f: _as_adaptive_average(F.adaptive_avg_pool1d)
       for f in (F.adaptive_max_pool1d, F.adaptive_max_pool1d_with_indices)},
    **{f: _as_adaptive_average(F.adaptive_avg_pool2d)
       for f in (F.adaptive_max_pool2d, F.adaptive_max_pool2d_with_indices)},
    **{f: _as_adaptive_average(F.adaptive_avg_pool3d)
       for f in (F.adaptive_max_pool3d, F.adaptive_max_pool3d_with_indices)},
    **{f: _identity for f in (F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout,
                               F.feature_alpha_dropout)},
}  # fmt: skip


# ---------------------------------------------------------------- capturing and measuring


class AllCaptured(Exception):
    """Raised by the last hook to fire: the rest of the forward is not needed."""


@contextmanager
def capturing(modules: dict[str, nn.Module]) -> Iterator[dict[str, Tensor]]:
    """Each module's first tensor output, from its first call, by path."""
    outputs: dict[str, Tensor] = {}

    def hook_for(path: str) -> Callable[[nn.Module, Any, Any], None]:
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            tensor = first_tensor(output)
            if path not in outputs and tensor is not None:
                # a clone keeps the value and graph as they are now, whatever in-place op
                # (ReLU(inplace=True), `out += identity`) the model applies to the output next
                outputs[path] = tensor.clone()
            if len(outputs) == len(modules):
                raise AllCaptured

        return hook

    handles = [module.register_forward_hook(hook_for(path)) for path, module in modules.items()]
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


def first_tensor(value: Any) -> Tensor | None:
    if isinstance(value, Tensor):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else ()
    for item in items:
        found = first_tensor(item)
        if found is not None:
            return found
    return None


def _measure(path: str, output: Tensor | None, x: Tensor) -> ProbeResult:
    if output is None:
        return ProbeResult(path, "not_run")
    if output.dim() < 3:
        return ProbeResult(path, "not_spatial")
    size = tuple(output.shape[2:])
    unit = tuple((n - 1) // 2 for n in size)
    index: tuple[int | slice, ...] = (0, slice(None), *unit)
    centre = output[index].sum()
    grad = None
    if centre.requires_grad:
        grad = torch.autograd.grad(centre, x, retain_graph=True, allow_unused=True)[0]
    seen = grad[0] != 0 if grad is not None else torch.zeros((), dtype=torch.bool)
    if not seen.any():
        return ProbeResult(path, "zero_gradient", output_size=size, unit=unit)
    assert grad is not None
    extent = []
    for axis in range(1, seen.dim()):  # axis 0 of grad[0] is the channel
        others = tuple(a for a in range(seen.dim()) if a != axis)
        hit = seen.any(dim=others).nonzero().flatten()
        extent.append((int(hit[0]), int(hit[-1])))
    smallest = float(grad[0].abs()[seen].min())
    assert math.isfinite(smallest)
    return ProbeResult(path, "ok", output_size=size, unit=unit, extent=tuple(extent), smallest_gradient=smallest)

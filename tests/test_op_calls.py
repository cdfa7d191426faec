"""Op arguments are named once per call, from the schema, and every op table reads them by name."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from archstat.analysis.ops import call as op_call
from archstat.analysis.ops.call import named_args, register
from archstat.analysis.ops.costs import FORMULAS
from archstat.analysis.ops.fields import RULES
from archstat.analysis.rf.field import Field
from archstat.analysis.tracing import fast_meta, recorder
from archstat.analysis.tracing.fast_meta import _META_SHORTCUTS

aten = torch.ops.aten


def test_positional_keyword_and_default_arguments_meet_under_schema_names() -> None:
    x = torch.empty(1, 3, 8, 8, device="meta")
    named = named_args(aten.max_pool2d.default, (x, [3]), {"ceil_mode": True})
    assert named == {"self": x, "kernel_size": [3], "stride": (), "padding": (0, 0), "dilation": (1, 1),
                     "ceil_mode": True}
    # avg_pool2d has no dilation: ceil_mode sits where max_pool2d has dilation, and is found by name.
    named = named_args(aten.avg_pool2d.default, (x, [3], [2], [1], True), {})
    assert named["ceil_mode"] is True and "dilation" not in named


def test_overloads_with_other_schemas_are_read_by_name() -> None:
    x, w = torch.empty(2, 4, 5, 5, device="meta"), torch.empty(4, 3, 3, 3, device="meta")
    out = torch.empty(2, 3, 7, 7, device="meta")
    # cudnn_convolution_transpose has no `transposed` argument and calls its input `self`.
    args = named_args(aten.cudnn_convolution_transpose.default, (x, w, [0, 0], [0, 0], [1, 1], [1, 1], 1,
                                                                 False, False, False), {})
    category, formula = FORMULAS[aten.cudnn_convolution_transpose]
    assert category == "conv" and formula(out, **args).macs == x.numel() * 3 * 9
    # _native_batch_norm_legit.no_stats has no running statistics: `training` is the 4th argument.
    y = torch.empty(2, 4, 5, 5, device="meta")
    args = named_args(aten._native_batch_norm_legit.no_stats, (y, None, None, False, 0.1, 1e-5), {})
    assert FORMULAS[aten._native_batch_norm_legit][1](y, **args).flops == 2 * y.numel()


def _keyword_parameters(fn: Callable[..., Any]) -> dict[str, bool]:
    """Keyword parameter names of a table function -> whether it is required."""
    return {
        name: p.default is inspect.Parameter.empty
        for name, p in inspect.signature(fn).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def _tensor_overloads(packet: Any) -> list[Any]:
    overloads = [getattr(packet, name) for name in packet.overloads()]
    return [o for o in overloads if o._schema.arguments and "Tensor" in str(o._schema.arguments[0].type)
            and not any(a.is_out for a in o._schema.arguments)]


@pytest.mark.parametrize("table", ["costs", "fields", "meta"])
def test_every_parameter_a_table_reads_is_a_schema_argument(table: str) -> None:
    """A misspelt name would silently read its default; a required one must be in every overload."""
    functions: dict[Callable[..., Any], list[Any]] = {}
    if table == "costs":
        for packet, (_, fn) in FORMULAS.items():
            functions.setdefault(getattr(fn, "func", fn), []).extend(_tensor_overloads(packet))
    elif table == "fields":
        for packet, fn in RULES.items():
            functions.setdefault(getattr(fn, "func", fn), []).extend(_tensor_overloads(packet))
    else:
        for overload, fn in _META_SHORTCUTS.items():
            functions.setdefault(fn, []).append(overload)
    checked = 0
    for fn, overloads in functions.items():
        names = [{a.name for a in o._schema.arguments} for o in overloads]
        for name, required in _keyword_parameters(fn).items():
            assert any(name in n for n in names), f"{fn} reads {name!r}, which no schema has"
            if required:
                assert all(name in n for n in names), f"{fn} needs {name!r}, missing in an overload"
            checked += 1
    assert checked > 10


def test_an_op_is_registered_once() -> None:
    table: dict[Any, int] = {}
    register(table, [aten.relu], 1)
    with pytest.raises(ValueError, match="twice"):
        register(table, [aten.relu], 2)


def test_the_recorder_names_arguments_once_per_op_and_shares_them(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"recorder": 0, "meta": 0}

    def counting(where: str) -> Callable[..., dict[str, Any]]:
        def named(func: Any, args: Any, kwargs: Any) -> dict[str, Any]:
            calls[where] += 1
            return op_call.named_args(func, args, kwargs)
        return named

    monkeypatch.setattr(recorder, "named_args", counting("recorder"))
    monkeypatch.setattr(fast_meta, "named_args", counting("meta"))
    seen: list[tuple[str, dict[str, Any]]] = []
    conv_cost = FORMULAS[aten.convolution]
    conv_rule = RULES[aten.convolution]
    conv_meta = _META_SHORTCUTS[aten.convolution.default]

    def spy(kind: str, fn: Callable[..., Any], n: int) -> Callable[..., Any]:
        def observed(*context: Any, **args: Any) -> Any:
            seen.append((kind, args))
            return fn(*context[:n], **args)
        return observed

    monkeypatch.setitem(FORMULAS, aten.convolution, (conv_cost[0], spy("cost", conv_cost[1], 1)))
    monkeypatch.setitem(RULES, aten.convolution, spy("field", conv_rule, 2))
    monkeypatch.setitem(_META_SHORTCUTS, aten.convolution.default, spy("meta", conv_meta, 0))

    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    x = torch.empty(1, 3, 8, 8, device="meta")
    with recorder.recording(model.to("meta")) as (trace, rec), torch.no_grad():
        rec.set_field(x, Field.of_input(2))
        model(x)
    assert calls == {"recorder": len(trace.ops), "meta": 0}
    assert [kind for kind, _ in seen] == ["meta", "field", "cost"]
    first = seen[0][1]
    assert all(args == first for _, args in seen) and first["transposed"] is False and first["padding"] == [1, 1]

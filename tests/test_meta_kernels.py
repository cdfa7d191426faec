"""archstat's meta-device shortcuts produce exactly the shapes PyTorch's own kernels produce."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from archstat.analysis.tracing.fast_meta import MetaShortcuts


def _meta_and_real(fn, *shapes: tuple[int, ...]) -> tuple[object, object]:  # type: ignore[no-untyped-def]
    """Output shapes on meta (with the shortcuts) and on CPU; "error" where PyTorch refuses."""
    try:
        real: object = fn(*(torch.randn(s) for s in shapes)).shape
    except RuntimeError:
        real = "error"
    try:
        with MetaShortcuts():
            meta: object = fn(*(torch.empty(s, device="meta") for s in shapes)).shape
    except RuntimeError:
        meta = "error"
    return meta, real


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2), st.booleans(),
    st.integers(1, 3), st.integers(6, 20),
)
def test_conv_shapes(k: int, stride: int, pad: int, dilation: int, transposed: bool, groups: int,
                     size: int) -> None:
    c_in, c_out = 2 * groups, 3 * groups
    if transposed:
        weight = (c_in, c_out // groups, k, k)
        meta, real = _meta_and_real(
            lambda x, w: F.conv_transpose2d(x, w, stride=stride, groups=groups, dilation=dilation),
            (1, c_in, size, size), weight,
        )
    else:
        weight = (c_out, c_in // groups, k, k)
        meta, real = _meta_and_real(
            lambda x, w: F.conv2d(x, w, stride=stride, padding=pad, dilation=dilation, groups=groups),
            (1, c_in, size, size), weight,
        )
    assert meta == real


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 5), st.integers(1, 4), st.integers(0, 2), st.integers(1, 2), st.booleans(),
    st.booleans(), st.integers(5, 23), st.integers(5, 23),
)
def test_pool_shapes_with_ceil_mode(k: int, stride: int, pad: int, dilation: int, ceil_mode: bool,
                                    use_max: bool, h: int, w: int) -> None:
    pad = min(pad, k // 2)
    if use_max:
        def fn(x: torch.Tensor) -> torch.Tensor:
            return F.max_pool2d(x, k, stride, pad, dilation=dilation, ceil_mode=ceil_mode)
    else:
        def fn(x: torch.Tensor) -> torch.Tensor:
            return F.avg_pool2d(x, k, stride, pad, ceil_mode=ceil_mode)
    meta, real = _meta_and_real(fn, (2, 3, h, w))
    assert meta == real


@pytest.mark.parametrize(("fn", "shapes"), [
    (lambda a, b: a + b, [(2, 3, 4, 4), (1, 3, 1, 4)]),
    (lambda a, b: a * b, [(5, 1), (1, 6)]),
    (lambda a: torch.relu_(a), [(2, 3)]),
    (lambda a: a.pow(2.0), [(2, 3)]),
    (lambda a, b: torch.cat([a, b], 1), [(2, 3, 4), (2, 5, 4)]),
    (lambda a: a.mean((2, 3), keepdim=True), [(2, 3, 4, 5)]),
    (lambda a: a.sum(-1), [(2, 3, 4)]),
    (lambda a: F.adaptive_avg_pool2d(a, (3, 2)), [(1, 4, 9, 7)]),
    (lambda a: F.avg_pool3d(a, (5, 1, 1), stride=1), [(1, 1, 9, 4, 4)]),
    (lambda a, b: a @ b, [(3, 4), (4, 5)]),
    (lambda a, b, c: torch.addmm(c, a, b), [(3, 4), (4, 5), (5,)]),
])
def test_elementwise_and_reduction_shapes(fn, shapes) -> None:  # type: ignore[no-untyped-def]
    meta, real = _meta_and_real(fn, *shapes)
    assert meta == real


def test_in_place_shortcut_returns_the_same_tensor() -> None:
    x = torch.empty(2, 3, device="meta")
    with MetaShortcuts():
        y = torch.relu_(x)
    assert y is x


def test_invalid_conv_still_raises_a_clear_error() -> None:
    with MetaShortcuts(), pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv2d(torch.empty(1, 3, 2, 2, device="meta"), torch.empty(4, 3, 3, 3, device="meta"))
    with MetaShortcuts(), pytest.raises(RuntimeError, match="channels"):
        F.conv2d(torch.empty(1, 2, 8, 8, device="meta"), torch.empty(4, 3, 3, 3, device="meta"))
    with MetaShortcuts(), pytest.raises(RuntimeError):
        torch.mm(torch.empty(2, 4, device="meta"), torch.empty(5, 2, device="meta"))
    with MetaShortcuts(), pytest.raises(RuntimeError):
        torch.empty(2, 4, device="meta") + torch.empty(3, 4, device="meta")
    with MetaShortcuts(), pytest.raises(RuntimeError, match="too small"):
        F.max_pool2d(torch.empty(1, 3, 1, 1, device="meta"), 2)


def _outputs(value: object) -> list[tuple[object, ...]]:
    tensors = value if isinstance(value, tuple) else (value,)
    return [(tuple(t.shape), t.dtype, t.stride()) for t in tensors]  # type: ignore[attr-defined]


_aten = torch.ops.aten


@pytest.mark.parametrize(("op", "make"), [
    (_aten.native_layer_norm.default, lambda e: (e(2, 5, 8), [8], e(8), e(8), 1e-5)),
    (_aten.native_layer_norm.default, lambda e: (e(2, 5, 8), [5, 8], None, None, 1e-6)),
    (_aten.native_layer_norm.default, lambda e: (e(2, 4, 3, 5).permute(0, 2, 3, 1), [4], e(4), None, 1e-6)),
    (_aten.native_layer_norm.default, lambda e: (e(2, 5, 8, dtype=torch.bfloat16), [8], None, None, 1e-5)),
    (_aten.native_layer_norm.default, lambda e: (e(2, 5, 8, dtype=torch.float64), [8], None, None, 1e-5)),
    (_aten.gelu.default, lambda e: (e(3, 7),)),
    (_aten.gelu.default, lambda e: (e(2, 3, 4).transpose(1, 2),)),
    (_aten._safe_softmax.default, lambda e: (e(2, 4, 6, 6), -1)),
    (_aten._safe_softmax.default, lambda e: (e(2, 4, 6, 5).transpose(2, 3), 2)),
    (_aten._safe_softmax.default, lambda e: (e(2, 3, dtype=torch.bfloat16), -1, torch.float32)),
])
def test_new_shortcuts_match_the_meta_kernels(op, make) -> None:  # type: ignore[no-untyped-def]
    """Every output (the layer norm's saved statistics too): shape, dtype and strides as PyTorch's own meta kernel."""
    def meta(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.empty(shape, dtype=dtype, device="meta")

    expected = _outputs(op(*make(meta)))
    with MetaShortcuts():
        got = _outputs(op(*make(meta)))
    assert got == expected


def test_gelu_in_place_shortcut_returns_the_same_tensor() -> None:
    x = torch.empty(2, 3, device="meta")
    with MetaShortcuts():
        assert torch.ops.aten.gelu_.default(x) is x


@pytest.mark.parametrize("make", [
    lambda e: (e(2, 5, 8), [7], None, None, 1e-5),       # normalised shape not the trailing one
    lambda e: (e(2, 5, 8), [8], e(7), None, 1e-5),       # weight of the wrong size
])
def test_layer_norm_shortcut_leaves_bad_calls_to_pytorch(make) -> None:  # type: ignore[no-untyped-def]
    def meta(*shape: int) -> torch.Tensor:
        return torch.empty(shape, device="meta")

    with MetaShortcuts(), pytest.raises(RuntimeError):
        torch.ops.aten.native_layer_norm.default(*make(meta))

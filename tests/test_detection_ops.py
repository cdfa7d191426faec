"""torchvision's detection ops (roi_align, nms), counted by qualified name without importing torchvision.

torchvision does not import on this machine, so these tests define stand-ins for its two ops under
the same `torchvision::` names and schemas. The stand-ins return outputs of the right shape (nms
keeps boxes greedily, as torchvision does); the numbers under test are archstat's counts, not the
kernels' values. Where the real torchvision is importable the tests skip: its ops are loaded there.
"""

from __future__ import annotations

import importlib.util
import math

import pytest
import torch
from torch import Tensor, nn

from archstat.analysis.analyze import analyze
from archstat.analysis.inputs import Call

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torchvision") is not None,
                                reason="the real torchvision ops are loaded where torchvision imports")

_LIBRARY: torch.library.Library | None = None


def _define_stand_ins() -> None:
    global _LIBRARY
    if _LIBRARY is not None:
        return
    library = torch.library.Library("torchvision", "DEF")
    library.define("roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
                   "SymInt pooled_width, int sampling_ratio, bool aligned) -> Tensor")
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")

    def roi_align_shape(input: Tensor, rois: Tensor, spatial_scale: float, pooled_height: int,
                        pooled_width: int, sampling_ratio: int, aligned: bool) -> Tensor:
        return input.new_zeros((rois.shape[0], input.shape[1], pooled_height, pooled_width))

    def nms_greedy(dets: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
        order, keep = scores.argsort(descending=True).tolist(), []
        while order:
            best, order = order[0], order[1:]
            keep.append(best)
            order = [j for j in order if _iou(dets[best], dets[j]) <= iou_threshold]
        return torch.tensor(keep, dtype=torch.int64)

    def nms_meta(dets: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
        raise RuntimeError("nms keeps a number of boxes that only the scores decide")

    library.impl("roi_align", roi_align_shape, "CPU")
    library.impl("roi_align", roi_align_shape, "Meta")
    library.impl("nms", nms_greedy, "CPU")
    library.impl("nms", nms_meta, "Meta")
    _LIBRARY = library


def _iou(a: Tensor, b: Tensor) -> float:
    w = max(0.0, float(min(a[2], b[2]) - max(a[0], b[0])))
    h = max(0.0, float(min(a[3], b[3]) - max(a[1], b[1])))
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - w * h
    return w * h / union


@pytest.fixture(autouse=True)
def stand_ins() -> None:
    _define_stand_ins()


class RoIAlign(nn.Module):
    def __init__(self, size: int, scale: float, sampling_ratio: int) -> None:
        super().__init__()
        self.size, self.scale, self.sampling_ratio = size, scale, sampling_ratio

    def forward(self, features: Tensor, rois: Tensor) -> Tensor:
        return torch.ops.torchvision.roi_align(features, rois, self.scale, self.size, self.size,
                                               self.sampling_ratio, False)


class Pooler(nn.Module):
    """A backbone conv, then RoIAlign of the given boxes (N x 5: batch index, x1, y1, x2, y2)."""

    def __init__(self, sampling_ratio: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.pool = RoIAlign(7, 0.5, sampling_ratio)

    def forward(self, image: Tensor, rois: Tensor) -> Tensor:
        return self.pool(self.conv(image), rois)


class NMS(nn.Module):
    def forward(self, boxes: Tensor, scores: Tensor) -> Tensor:
        return torch.ops.torchvision.nms(boxes, scores, 0.5)


ROIS = torch.tensor([[0, 0.0, 0.0, 31.0, 31.0], [0, 8.0, 4.0, 40.0, 60.0], [0, 2.0, 2.0, 5.0, 3.0]])


def _row(analysis: object, path: str) -> object:
    return next(r for r in analysis.layers if r.path == path)  # type: ignore[attr-defined]


def test_roi_align_with_a_fixed_grid_counts_the_same_on_meta_and_cpu() -> None:
    inputs = Call((torch.zeros(1, 3, 64, 64), ROIS), {})
    meta = analyze(Pooler(2), inputs=inputs)
    cpu = analyze(Pooler(2), inputs=inputs, device="cpu")
    # 3 boxes x 8 channels x 7 x 7 bins, 2 x 2 samples a bin, 8 FLOPs a sample
    expected = 3 * 8 * 7 * 7 * 4 * 8
    assert _row(meta, "pool").flops == _row(cpu, "pool").flops == expected
    assert meta.totals.by_category["pool"].flops == expected
    assert not meta.totals.partial and meta.device == "meta"


def test_roi_align_adaptive_grid_reads_the_boxes_and_falls_back_from_meta() -> None:
    inputs = Call((torch.zeros(1, 3, 64, 64), ROIS), {})
    cpu = analyze(Pooler(0), inputs=inputs, device="cpu")
    # boxes at scale 0.5: 15.5 x 15.5, 16 x 28, 1.5 x 0.5 (height and width at least 1, not aligned)
    samples = [math.ceil(15.5 / 7) * math.ceil(15.5 / 7), math.ceil(28 / 7) * math.ceil(16 / 7), 1 * 1]
    assert _row(cpu, "pool").flops == sum(samples) * 8 * 7 * 7 * 8
    meta = analyze(Pooler(0), inputs=inputs)
    assert meta.device == "cpu" and "torchvision.roi_align" in (meta.fallback_reason or "")
    assert meta.totals.flops == cpu.totals.flops and not meta.totals.partial


def test_nms_counts_every_pair_once_and_falls_back_from_meta() -> None:
    generator = torch.Generator().manual_seed(0)
    corners = torch.rand(20, 2, generator=generator) * 50
    boxes = torch.cat([corners, corners + 10], dim=1)
    scores = torch.rand(20, generator=generator)
    cpu = analyze(NMS(), inputs=(boxes, scores), device="cpu")
    n = 20
    assert cpu.totals.flops == n * math.ceil(math.log2(n)) + 3 * n + 13 * n * (n - 1) // 2
    assert cpu.totals.by_category["other"].flops == cpu.totals.flops and not cpu.totals.partial
    meta = analyze(NMS(), inputs=(boxes, scores))
    assert meta.device == "cpu" and "torchvision.nms" in (meta.fallback_reason or "")
    assert meta.totals.flops == cpu.totals.flops


def test_without_the_fallback_meta_names_the_detection_op() -> None:
    from archstat.errors import DataDependentError

    with pytest.raises(DataDependentError, match=r"torchvision\.nms at .*needs tensor values"):
        analyze(NMS(), inputs=(torch.zeros(4, 4), torch.zeros(4)), cpu_fallback_bytes=0)

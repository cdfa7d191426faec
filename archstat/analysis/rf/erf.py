"""The effective receptive field (ERF): how much of its theoretical field a unit really uses.

Luo et al. (NIPS 2016, "Understanding the Effective Receptive Field in Deep Convolutional
Neural Networks"): the gradient of a unit with respect to the input falls off like a Gaussian,
whose width grows like √n with depth n while the theoretical field (TRF) grows like n.

For each chosen layer, the ERF map is the mean over N inputs of |∂y/∂x|, where y is the layer's
output at its spatial centre unit (summed over the output channels, as Luo et al. seed the
backward pass with 1 at the centre of every channel), summed over the input channels and
normalised to sum 1. The N inputs are independent, so the centre unit is summed over the batch
and back-propagated once: one backward per layer per batch of images, after one forward that
captures every chosen layer.

Per layer, with the map's marginal mass m(i) along each axis and c the centre of the centre
unit's theoretical field on that axis (`AxisField.center`):
- `erf_std`: the standard deviation of the marginal about its own mean, in input pixels;
- `r68`, `r95`: the smallest radius r such that the pixels with |i − c| ≤ r hold at least 68%
  (95%) of the marginal mass; r is a distance between pixel centres, so a field centred on a
  pixel has a window 2r + 1 pixels wide;
- `ratio_95`: the fewest pixels of the 2-D map holding 95% of the mass, over the area of the
  theoretical field clipped to the input;
- `centre_offset`: the marginal's mean minus c;
- `support`: the first and last pixel with non-zero gradient (it never leaves the theoretical
  field: `inside`).

`depth` is the layer's place in the growth table (`Analysis.growth.rows`, the layers that change
the field), counted from 1; the fits are least-squares slopes of log ERF std and of log TRF
growth (size − 1, zero for a single pixel) against log depth, both averaged over the axes.

Runs on a float copy of the parameters on the chosen device (`override_tensors`), with the model
in eval mode; its modes, `requires_grad` flags and the global flags come back as they were.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from archstat.analysis.records import Analysis, LayerStats
from archstat.analysis.rf.growth import spatial
from archstat.analysis.rf.probe import AllCaptured, capturing, submodule
from archstat.analysis.tracing.execution import override_tensors, preserved_state, run_model
from archstat.errors import ArchstatError, UsageError

Span = tuple[int, int]
Progress = Callable[[int, int], None]   # (steps done, steps in all); a step is one backward

DEFAULT_IMAGES = 16
DEFAULT_BATCH = 16
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
# ImageNet's per-channel statistics: real RGB images are standardised as the zoo's models expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True, slots=True)
class LayerERF:
    """The effective receptive field of one layer's centre unit, per input axis (H, W)."""

    path: str                              # "features.28"
    depth: int                             # place in the growth table, from 1
    unit: tuple[int, ...]                  # the centre unit, per output axis: (size − 1) // 2
    trf: tuple[int, ...]                   # theoretical field size, unclipped
    trf_box: tuple[Span, ...]              # the centre unit's theoretical span, clipped to the input
    erf_std: tuple[float, ...]             # px
    r68: tuple[float, ...]                 # px from the field centre
    r95: tuple[float, ...]
    ratio_95: float                        # pixels holding 95% / clipped theoretical area
    centre_offset: tuple[float, ...]       # mean − field centre, px
    support: tuple[Span, ...]              # first and last pixel with a non-zero mean gradient
    erf: Tensor = field(repr=False, compare=False)   # the map, H×W, float64 on the CPU, sums to 1

    @property
    def inside(self) -> bool:
        """Whether the support lies inside the theoretical field (it always should)."""
        return all(box[0] <= first and last <= box[1] for (first, last), box in zip(self.support, self.trf_box,
                                                                                   strict=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the documented schema."""
        return {
            "path": self.path, "depth": self.depth, "trf": list(self.trf), "erf_std": _rounded(self.erf_std),
            "r68": list(self.r68), "r95": list(self.r95), "ratio_95": round(self.ratio_95, 6),
            "centre_offset": _rounded(self.centre_offset),
            "trf_box": [list(s) for s in self.trf_box], "support": [list(s) for s in self.support],
        }


@dataclass(frozen=True, slots=True)
class GrowthFit:
    """Least-squares exponents of ERF std and TRF growth against depth (None: fewer than two depths)."""

    erf_exponent: float | None
    trf_exponent: float | None

    def to_dict(self) -> dict[str, float | None]:
        return {"erf_exponent": _round(self.erf_exponent), "trf_exponent": _round(self.trf_exponent)}


@dataclass(frozen=True, slots=True)
class ERFResult:
    """Every chosen layer of one model, the inputs used and the growth fit."""

    model: str
    input_shape: tuple[int, ...]           # C, H, W of one input, with the batch N = images
    images: int
    source: str                            # "gaussian noise (seed 0)" or "images from DIR"
    layers: tuple[LayerERF, ...]
    fit: GrowthFit
    skipped: tuple[tuple[str, str], ...] = ()   # (path, why): no gradient reached the input

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: {"model", "images", "layers": [...], "fit": {...}} plus the input and source."""
        return {
            "model": self.model, "images": self.images, "input_shape": list(self.input_shape),
            "source": self.source, "layers": [layer.to_dict() for layer in self.layers],
            "fit": self.fit.to_dict(), "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _rounded(values: Sequence[float]) -> list[float]:
    return [round(v, 6) for v in values]


# ---------------------------------------------------------------- choosing layers


def _called_once(analysis: Analysis) -> set[str]:
    seen: dict[str, int] = {}
    for row in analysis.layers:
        seen[row.path] = seen.get(row.path, 0) + 1
    return {path for path, count in seen.items() if count == 1 and path}


def stage_ends(analysis: Analysis) -> list[str]:
    """The default layers: at each resolution (each jump), the growth row with the largest field
    (the first of equals), in order.

    For VGG16 these are the last conv of each block and the final pool; for ResNet-50 the stem conv
    and the last 3×3 conv of each stage. Modules run more than once have no single output and
    are left out.
    """
    once = _called_once(analysis)
    best: dict[tuple[int, ...], tuple[int, int, str]] = {}
    for position, row in enumerate(analysis.growth.rows):
        if row.path not in once or not spatial(row.rf) or row.rf is None or row.rf.unaligned:
            continue
        jumps = tuple(a.jump for a in row.rf.axes)
        area = math.prod(a.size for a in row.rf.axes)
        if jumps not in best or area > best[jumps][0]:
            best[jumps] = (area, position, row.path)
    return [path for _, _, path in sorted(best.values(), key=lambda item: item[1])]


def _layer_row(analysis: Analysis, path: str) -> LayerStats:
    row = next((r for r in analysis.layers if r.path == path), None)
    if row is None:
        close = difflib.get_close_matches(path, [r.path for r in analysis.layers if r.path], n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"no layer {path!r} ran in the forward of {analysis.model}{hint}")
    if not spatial(row.rf) or (row.rf and row.rf.unaligned):
        raise UsageError(f"layer {path!r} has no per-axis theoretical field; the ERF needs a spatial map "
                         "with an aligned field")
    return row


def _depth(analysis: Analysis, row: LayerStats) -> int:
    """1 + the place of the last growth row at or before `row` (pre-order index)."""
    rows = analysis.growth.rows
    exact = next((i for i, r in enumerate(rows) if r.index == row.index), None)
    if exact is not None:
        return exact + 1
    return sum(1 for r in rows if r.index <= row.index)


# ---------------------------------------------------------------- inputs


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Draw with torch's global generator from `seed` (a model's own initialisation), then put its
    state back as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def noise(count: int, shape: Sequence[int], seed: int) -> Tensor:
    """`count` standard Gaussian inputs of shape C×H×W, float64, from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((count, *shape), generator=generator, dtype=torch.float64)


def read_images(directory: str | Path, shape: Sequence[int]) -> Tensor:
    """Every image in `directory` (sorted by name), resized to H×W, scaled to [0, 1] and, for
    three channels, standardised with ImageNet's mean and std: N×C×H×W, float64."""
    folder = Path(directory)
    if not folder.is_dir():
        raise UsageError(f"no such directory: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UsageError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    try:
        from PIL import Image
    except ImportError as exc:
        raise ArchstatError("reading images needs Pillow (pip install pillow), a dependency of archstat") from exc
    channels, height, width = shape
    if channels not in (1, 3):
        raise UsageError(f"images can feed a model of 1 or 3 input channels, not {channels}")
    loaded = []
    for path in files:
        try:
            with Image.open(path) as image:
                pixels = image.convert("RGB" if channels == 3 else "L").tobytes()
                size = image.size
        except OSError as exc:
            raise UsageError(f"cannot read image {path}: {exc}") from None
        flat = torch.frombuffer(bytearray(pixels), dtype=torch.uint8)
        tensor = flat.view(size[1], size[0], channels).permute(2, 0, 1).to(torch.float64) / 255
        loaded.append(F.interpolate(tensor[None], size=(height, width), mode="bilinear", antialias=True,
                                    align_corners=False)[0])
    batch = torch.stack(loaded)
    if channels == 3:
        mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float64).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, dtype=torch.float64).view(1, 3, 1, 1)
        batch = (batch - mean) / std
    return batch


# ---------------------------------------------------------------- the computation


def effective_fields(
    model: nn.Module,
    analysis: Analysis,
    paths: Sequence[str] | None = None,
    *,
    images: int | Tensor = DEFAULT_IMAGES,
    seed: int = 0,
    source: str | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    batch: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> ERFResult:
    """The ERF of the centre unit of each layer in `paths` (default: `stage_ends`).

    `analysis` is the model's analysis at the input shape (batch size aside): it gives the
    theoretical fields. `images` is a count of Gaussian inputs drawn from `seed`, or the inputs
    themselves (N×C×H×W). The model comes back as it came: modes, `requires_grad`, global flags.
    """
    if len(analysis.input_shape) != 4:
        raise UsageError("the ERF needs a 2-d image input, N×C×H×W")
    shape = tuple(analysis.input_shape[1:])
    chosen = list(dict.fromkeys(paths)) if paths else stage_ends(analysis)
    if not chosen:
        raise UsageError("the model has no layer with a spatial, aligned theoretical field")
    rows = {path: _layer_row(analysis, path) for path in chosen}
    for path in chosen:
        submodule(model, path)
    if isinstance(images, Tensor):
        inputs = images.to(torch.float64)
        if tuple(inputs.shape[1:]) != shape:
            raise UsageError(f"images of shape {tuple(inputs.shape[1:])} do not fit the input {shape}")
        label = source or f"{len(inputs)} given images"
    else:
        if images < 1:
            raise UsageError("the ERF needs at least one image")
        inputs = noise(images, shape, seed)
        label = source or f"gaussian noise (seed {seed})"
    target = torch.device(device)
    if target.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available")
    sums = _gradient_sums(model, chosen, inputs, target, dtype, max(1, batch), progress)
    layers, skipped = [], []
    for path in chosen:
        total = sums[path]
        if total is None or not bool((total > 0).any()):
            skipped.append((path, "no gradient reaches the input"))
            continue
        mean = total / len(inputs)
        layers.append(_measure(analysis, rows[path], mean / mean.sum(), _centre_unit(analysis, rows[path])))
    return ERFResult(analysis.model, shape, len(inputs), label, tuple(layers), fit_growth(layers), tuple(skipped))


def _centre_unit(analysis: Analysis, row: LayerStats) -> tuple[int, ...]:
    assert row.rf is not None
    return tuple((n - 1) // 2 for n in row.output_shape[-len(row.rf.axes):])


def _gradient_sums(model: nn.Module, paths: Sequence[str], inputs: Tensor, device: torch.device,
                   dtype: torch.dtype, batch: int, progress: Progress | None) -> dict[str, Tensor | None]:
    """Per path, Σ over images of |∂(centre unit)/∂x| summed over input channels (H×W, float64, CPU)."""
    sums: dict[str, Tensor | None] = dict.fromkeys(paths)
    chunks = inputs.split(batch)
    steps, done = len(chunks) * len(paths), 0
    with preserved_state(model), torch.inference_mode(False), torch.enable_grad():
        model.eval()
        for param in model.parameters():
            param.requires_grad_(False)
        tensors = override_tensors(model, device, dtype)   # None: the model's own tensors will do
        modules = {path: submodule(model, path) for path in paths}
        for chunk in chunks:
            x = chunk.to(device=device, dtype=dtype).requires_grad_(True)
            with capturing(modules) as outputs, suppress(AllCaptured):
                run_model(model, tensors, x)
            for i, path in enumerate(paths):
                grad = _backward(outputs.get(path), x, retain=i + 1 < len(paths))
                if grad is not None:
                    part = grad.abs().sum(dim=(0, 1)).to(device="cpu", dtype=torch.float64)
                    previous = sums[path]
                    sums[path] = part if previous is None else previous + part
                done += 1
                if progress is not None:
                    progress(done, steps)
    return sums


def _backward(output: Tensor | None, x: Tensor, *, retain: bool) -> Tensor | None:
    """∂(Σ over the batch and channels of the centre unit)/∂x, or None where no gradient flows."""
    if output is None or output.dim() != 4:
        return None
    row, col = ((n - 1) // 2 for n in output.shape[2:])
    centre = output[:, :, row, col].sum()
    if not centre.requires_grad:
        return None
    return torch.autograd.grad(centre, x, retain_graph=retain, allow_unused=True)[0]


# ---------------------------------------------------------------- measuring a map


def _measure(analysis: Analysis, row: LayerStats, erf: Tensor, unit: tuple[int, ...]) -> LayerERF:
    assert row.rf is not None
    sizes = erf.shape
    stds, r68s, r95s, offsets, boxes, support = [], [], [], [], [], []
    for axis, (field_axis, u) in enumerate(zip(row.rf.axes, unit, strict=True)):
        marginal = erf.sum(dim=1 - axis)
        pixels = torch.arange(sizes[axis], dtype=torch.float64)
        mean = float((pixels * marginal).sum())
        stds.append(math.sqrt(max(0.0, float(((pixels - mean) ** 2 * marginal).sum()))))
        centre = field_axis.center(u)
        r68s.append(_radius(marginal, pixels, centre, 0.68))
        r95s.append(_radius(marginal, pixels, centre, 0.95))
        offsets.append(mean - centre)
        first, last = field_axis.span(u)
        boxes.append((max(first, 0), min(last, sizes[axis] - 1)))
        hit = (marginal > 0).nonzero().flatten()
        support.append((int(hit[0]), int(hit[-1])))
    ordered = erf.flatten().sort(descending=True).values.cumsum(0)
    area_95 = int((ordered < 0.95 - 1e-12).sum()) + 1
    trf_area = math.prod(last - first + 1 for first, last in boxes)
    return LayerERF(
        path=row.path, depth=_depth(analysis, row), unit=unit, trf=tuple(a.size for a in row.rf.axes),
        trf_box=tuple(boxes), erf_std=tuple(stds), r68=tuple(r68s), r95=tuple(r95s),
        ratio_95=area_95 / trf_area, centre_offset=tuple(offsets), support=tuple(support), erf=erf,
    )


def _radius(marginal: Tensor, pixels: Tensor, centre: float, share: float) -> float:
    """The smallest r with the mass of the pixels within r of `centre` at least `share`."""
    distance = (pixels - centre).abs()
    order = distance.argsort(stable=True)
    held = marginal[order].cumsum(0)
    reached = int((held < share - 1e-12).sum())
    return float(distance[order][min(reached, len(order) - 1)])


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of log y against log x (None for fewer than two distinct x)."""
    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len({p[0] for p in points}) < 2:
        return None
    mx = sum(p[0] for p in points) / len(points)
    my = sum(p[1] for p in points) / len(points)
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


def fit_growth(layers: Sequence[LayerERF]) -> GrowthFit:
    """The growth exponents of ERF std and of TRF growth (size − 1) against depth."""
    depths = [float(layer.depth) for layer in layers]
    stds = [sum(layer.erf_std) / len(layer.erf_std) for layer in layers]
    reach = [sum(layer.trf) / len(layer.trf) - 1 for layer in layers]
    return GrowthFit(_slope(depths, stds), _slope(depths, reach))

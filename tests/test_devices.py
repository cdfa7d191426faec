"""Devices (issue 9): on meta, a model that reads tensor values is retried on the cpu within a
memory budget, the record saying why; past the budget, or with the retry off, one line naming the
op, the layer and `--device cpu`. `latency` counts such a model on the device it times.

Every retried analysis must give the numbers of `device="cpu"` on the same model; parameters are
checked against hand counts written here and MACs against FlopCounterMode/2 on a real CPU run.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import torch
from torch import nn

import archstat
from archstat.analysis.analyze import CPU_FALLBACK_BYTES, fallback_bytes
from archstat.cli.main import main
from archstat.errors import DataDependentError
from archstat.measure.latency import measure_latency
from tests.fixtures import input_models as m
from tests.test_inputs import MODELS, cli_error, cli_json, flop_counter_macs
from tests.test_latency import FakeClock
from tests.test_ops_corpus import _Ops, _ops_on_cpu, _slow_path

FIGURES = ("params", "macs", "flops", "activation_bytes", "peak_activation_bytes", "training_activation_bytes",
           "param_bytes", "input_bytes")

# model, its input, the op that stops it on meta, its parameters by hand
CASES: list[tuple[Callable[[], nn.Module], tuple[int, ...], str, int]] = [
    (m.ItemScale, (5, 4), "aten._local_scalar_dense", 4 * 4 + 4),
    (m.NonzeroModel, (5, 4), "aten.nonzero", 4 * 3 + 3),
    (m.MaskedRows, (6, 4), "aten.index", 4 * 3 + 3),
    (m.SignBranch, (5, 4), "aten._local_scalar_dense", 2 * (4 * 4 + 4)),
]


def _seeded(factory: Callable[[], nn.Module]) -> nn.Module:
    torch.manual_seed(0)
    return factory()


@pytest.mark.parametrize(("factory", "shape", "op", "params"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_meta_falls_back_to_cpu_with_the_same_numbers(factory: Callable[[], nn.Module], shape: tuple[int, ...],
                                                      op: str, params: int) -> None:
    model = _seeded(factory)
    meta = archstat.analyze(model, shape, saved_for_backward=True)
    cpu = archstat.analyze(model, shape, device="cpu", saved_for_backward=True)
    assert meta.device == "cpu" and cpu.fallback_reason is None
    assert meta.fallback_reason is not None and meta.fallback_reason.startswith(f"{op} at ")
    assert type(model).__name__ in meta.fallback_reason and "needs tensor values" in meta.fallback_reason
    assert [getattr(meta.totals, f) for f in FIGURES] == [getattr(cpu.totals, f) for f in FIGURES]
    assert [r.output_shapes for r in meta.layers] == [r.output_shapes for r in cpu.layers]
    assert meta.totals.params == params and not meta.totals.partial
    assert meta.totals.macs == flop_counter_macs(model, archstat.InputSpec(shape))
    assert meta.to_dict()["fallback_reason"] == meta.fallback_reason


def test_masked_rows_count_only_the_rows_kept() -> None:
    x = torch.tensor([[1.0, 0, 0, 0], [-1, 0, 0, 0], [2, 0, 0, 0]])
    a = archstat.analyze(m.MaskedRows(), inputs=(x,))
    assert a.fallback_reason is not None and a.totals.macs == 2 * 4 * 3   # two rows kept


def test_layer_is_named_where_the_op_ran() -> None:
    class Outer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pick = m.NonzeroModel()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.pick(x)

    a = archstat.analyze(Outer(), (5, 4))
    assert a.fallback_reason == "aten.nonzero at pick (NonzeroModel, input 5x4) needs tensor values"


def test_a_model_built_on_meta_is_retried_on_a_cpu_copy() -> None:
    with torch.device("meta"):
        model = m.SignBranch()
    a = archstat.analyze(model, (5, 4))
    assert a.device == "cpu" and a.fallback_reason is not None
    assert a.totals.params == 40
    assert all(p.is_meta for p in model.parameters())   # the caller's model is left as it was


def test_retry_off_or_over_budget_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    model = m.NonzeroModel()
    with pytest.raises(DataDependentError, match=r"^aten\.nonzero at NonzeroModel .*device='cpu'$"):
        archstat.analyze(model, (5, 4), cpu_fallback_bytes=0)
    with pytest.raises(DataDependentError, match=r"device='cpu' \(the automatic cpu retry would need about "
                                                 r"0\.0 MiB, over cpu_fallback_bytes=0\.0 MiB\)"):
        archstat.analyze(model, (5, 4), cpu_fallback_bytes=1)
    off = cli_error(capsys, f"{MODELS}:NonzeroModel", "--input", "5x4", "--no-cpu-fallback")
    assert "aten.nonzero at NonzeroModel" in off and "--device cpu" in off
    small = cli_error(capsys, f"{MODELS}:NonzeroModel", "--input", "5x4", "--cpu-fallback-limit", "10B")
    assert "over --cpu-fallback-limit=" in small and "--device cpu" in small
    assert "malformed --cpu-fallback-limit" in cli_error(capsys, f"{MODELS}:NonzeroModel", "--cpu-fallback-limit",
                                                         "2 parsecs")


def test_fallback_estimate() -> None:
    model = m.SignBranch()
    # parameters at the dtype, then twice what the meta run made before it stopped
    assert fallback_bytes(model, torch.float32, 0) == 40 * 4
    assert fallback_bytes(model, torch.float16, 100) == 40 * 2 + 200
    assert CPU_FALLBACK_BYTES == 2 * 1024**3


def test_cli_header_and_note_say_so(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["summary", f"{MODELS}:NonzeroModel", "--input", "5x4"]) == 0
    out = capsys.readouterr().out
    assert "device cpu (retried from meta)" in out
    assert "cpu, not meta: aten.nonzero at NonzeroModel (NonzeroModel, input 5x4) needs tensor values" in out
    data = cli_json(capsys, f"{MODELS}:NonzeroModel", "--input", "5x4", "--cpu-fallback-limit", "1MiB")
    assert data["device"] == "cpu" and data["totals"]["macs"] == 5 * 4 * 3


def test_latency_times_a_model_meta_cannot_count() -> None:
    clock = FakeClock(stamp_ms=1.0)   # the model's work takes no fake time: each interval is one stamp
    model = m.NonzeroModel()
    result = measure_latency(model, (4,), (5,), label="NonzeroModel", warmup=0, repeat=2, clock=clock)
    (b,) = result.batches
    assert (b.whole.median_ms, b.whole.samples) == (1.0, 2)
    cpu = archstat.analyze(model, (5, 4), device="cpu", saved_for_backward=True)
    assert b.memory.estimated_activation_bytes == cpu.totals.activation_bytes
    assert b.memory.estimated_training_bytes == cpu.totals.training_activation_bytes
    assert any(n.startswith("FLOPs and bytes counted on cpu, not meta: aten.nonzero at NonzeroModel")
               for n in result.notes)


# -- a detection-style model: a list of images, nonzero and boolean masks ------------------------

def _kept(model: m.TinyDetector, image: torch.Tensor) -> int:
    """How many positions of `image` score above 0 (the rows the box head sees)."""
    with torch.no_grad():
        return int((model.score(model.backbone(image.unsqueeze(0)).relu()) > 0).sum())


def test_detector_on_a_list_of_images_on_cpu_and_on_meta(capsys: pytest.CaptureFixture[str]) -> None:
    model = _seeded(m.TinyDetector)
    (images,) = m.detector_inputs()
    cpu = archstat.analyze(model, inputs=(images,), device="cpu", saved_for_backward=True)
    meta = archstat.analyze(model, inputs=(images,), saved_for_backward=True)
    assert meta.fallback_reason is not None and meta.fallback_reason.startswith("aten.nonzero at TinyDetector")
    assert [getattr(meta.totals, f) for f in FIGURES] == [getattr(cpu.totals, f) for f in FIGURES]
    assert cpu.totals.params == (3 * 4 * 9 + 4) + (4 + 1) + (4 * 4 + 4) == 137
    assert not cpu.totals.partial and not meta.totals.partial
    # per image: backbone H·W·4·27, score head H·W·4, box head K·4·4 for the K positions kept
    kept = [_kept(model, image) for image in images]
    assert 0 < kept[0] < 8 * 10 and 0 < kept[1] < 6 * 6   # the mask keeps some, not all
    closed = sum(h * w * 4 * 27 + h * w * 4 + k * 16
                 for (h, w), k in zip([(8, 10), (6, 6)], kept, strict=True))
    assert cpu.totals.macs == closed == flop_counter_macs(model, (images,))
    assert [r.output_shapes[0] for r in cpu.rows() if r.path == "box"] == [(kept[0], 4), (kept[1], 4)]
    data = cli_json(capsys, f"{MODELS}:TinyDetector", "--inputs", f"{MODELS}:detector_inputs")
    assert data["device"] == "cpu" and data["fallback_reason"].startswith("aten.nonzero")
    # built by the CLI with its own random weights: the convs as above, 16 MACs per kept position
    convs = (8 * 10 + 6 * 6) * 4 * (27 + 1)
    assert data["totals"]["params"] == 137
    assert (data["totals"]["macs"] - convs) % 16 == 0 and 0 <= data["totals"]["macs"] - convs <= 16 * (80 + 36)


# -- nn.TransformerEncoderLayer's whole-layer fused kernel -------------------------------------

def _encoder_layer_closed_form(batch: int, length: int, dim: int, ff: int) -> int:
    """MACs of one post-norm encoder layer: q, k, v and out projections, the two attention
    products, the two feed-forward linears."""
    tokens = batch * length
    return tokens * 4 * dim * dim + 2 * batch * length * length * dim + 2 * tokens * dim * ff


def test_encoder_layer_fused_kernel_cannot_run_under_recording() -> None:
    """`_transformer_encoder_layer_fwd` runs only when no module of the layer has a forward hook;
    the recording hooks the layer (where other modules get a wrapped forward, recorder._READS_HOOKS),
    so it needs no formula: the recorded cpu forward is the slow path, op for op, and counts what
    the layer computes with the fast path off."""
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True).eval()
    x = torch.randn(2, 5, 16)
    assert torch.ops.aten._transformer_encoder_layer_fwd in _ops_on_cpu(layer, x)   # unhooked, the fused kernel runs
    fast = archstat.analyze(layer, (2, 5, 16), device="cpu")
    with _slow_path():
        slow = archstat.analyze(layer, (2, 5, 16), device="cpu")
    meta = archstat.analyze(layer, (2, 5, 16))
    assert fast.totals.macs == slow.totals.macs == meta.totals.macs == _encoder_layer_closed_form(2, 5, 16, 32)
    assert fast.totals.flops == slow.totals.flops == meta.totals.flops
    assert not fast.totals.partial
    assert "_transformer_encoder_layer_fwd" not in fast.unsupported


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_encoder_with_padding_mask_counts_dense_on_cpu_as_on_meta() -> None:
    """On cpu in eval an encoder packs a padded batch into a nested tensor; recorded, it stays dense."""
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=True).eval()
    x, mask = torch.randn(2, 5, 16), torch.zeros(2, 5, dtype=torch.bool)
    mask[1, 3:] = True
    with _Ops() as ops, torch.no_grad():
        encoder(x, src_key_padding_mask=mask)
    assert torch.ops.aten._nested_tensor_from_mask in ops.seen   # unrecorded, it goes nested
    call = archstat.Call((x,), {"src_key_padding_mask": mask})
    cpu = archstat.analyze(encoder, inputs=call, device="cpu")
    meta = archstat.analyze(encoder, inputs=call)
    assert cpu.totals.macs == meta.totals.macs == 2 * _encoder_layer_closed_form(2, 5, 16, 32)
    assert cpu.totals.flops == meta.totals.flops and not cpu.totals.partial
    assert encoder.use_nested_tensor   # given back as it came


def test_latency_cli_times_a_model_meta_cannot_count(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["latency", f"{MODELS}:NonzeroModel", "--input", "4", "--batch", "5", "--repeat", "1",
                 "--warmup", "0", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert [b["batch"] for b in data["batches"]] == [5]
    assert data["notes"][0] == ("FLOPs and bytes counted on cpu, not meta: aten.nonzero at NonzeroModel "
                                "(NonzeroModel, input 5x4) needs tensor values")

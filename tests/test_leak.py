"""Repeated analyses leave nothing behind: no autograd graph, no tensors (counted, not timed)."""

from __future__ import annotations

import gc

import torch

from archstat.analysis.analyze import analyze
from archstat.models import get_model


def _live_tensors() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, torch.Tensor))


def test_repeated_analyses_keep_no_tensors_alive() -> None:
    model = get_model("resnet18")
    analyze(model, saved_for_backward=True)
    before = _live_tensors()
    for _ in range(5):
        analysis = analyze(model, saved_for_backward=True)
    after = _live_tensors()
    assert analysis.totals.training_activation_bytes > 0
    # Each call used to leave its saved-for-backward graph alive (about 150 tensors on resnet18).
    assert after == before


def test_saved_bytes_are_unchanged_by_keeping_sizes_only() -> None:
    """A linear layer saves its input (the weight is not counted): exactly the input's bytes."""
    layer = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU())
    analysis = analyze(layer, (8, 64), saved_for_backward=True)
    # input of Linear (8x64) and ReLU's output (8x32), float32
    assert analysis.totals.training_activation_bytes == (8 * 64 + 8 * 32) * 4


def test_an_analysis_makes_no_reference_cycles() -> None:
    """`analyze` pauses the cyclic collector, so anything it left in a cycle would wait for the next
    collection: there must be nothing (counted, not timed)."""
    model = get_model("resnet18")
    analyze(model)
    gc.collect()
    gc.disable()
    try:
        analyze(model)
        found = gc.collect()
    finally:
        gc.enable()
    assert found == 0


def test_the_collector_comes_back_as_it_was() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 4))
    analyze(model, (1, 4))
    assert gc.isenabled()
    gc.disable()
    try:
        analyze(model, (1, 4))
        assert not gc.isenabled()
    finally:
        gc.enable()

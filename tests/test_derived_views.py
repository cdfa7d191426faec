"""Derived views (receptive-field growth, cumulative shares) are computed once by analyze and
stored, frozen, in the Analysis record."""

from __future__ import annotations

import dataclasses
from itertools import accumulate, pairwise

import pytest

from archstat.analysis import analyze
from archstat.analysis.records import Analysis
from archstat.analysis.rf.growth import compute_growth, growth


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return analyze("googlenet")  # containers with their own ops, and aux heads that never run


def test_growth_is_stored_once_and_read_back(analysis: Analysis) -> None:
    assert growth(analysis) is analysis.growth
    assert analysis.growth == compute_growth(analysis.layers, analysis.input_shape)
    assert analysis.growth.rows and all(analysis.layers[r.index] is r for r in analysis.growth.rows)
    assert analysis.growth.final is not None and analysis.growth.input_size == (224, 224)
    with pytest.raises(dataclasses.FrozenInstanceError):
        analysis.growth.final = None  # type: ignore[misc]


def test_cumulative_shares_run_over_the_leaves(analysis: Analysis) -> None:
    leaves = analysis.leaves()
    shares = analysis.cumulative
    assert [s.row for s in shares] == leaves
    assert [s.params for s in shares] == list(accumulate(r.params for r in leaves))
    assert [s.macs for s in shares] == list(accumulate(r.macs for r in leaves))
    assert [s.activation_bytes for s in shares] == list(accumulate(r.activation_bytes for r in leaves))
    last = shares[-1]
    assert (last.params_pct, last.macs_pct, last.activation_pct) == (100.0, 100.0, 100.0)
    middle = shares[len(shares) // 2]
    assert middle.macs_pct == pytest.approx(100 * middle.macs / last.macs)
    assert all(a.activation_pct <= b.activation_pct for a, b in pairwise(shares))


def test_json_gains_the_stored_views_and_keeps_every_key(analysis: Analysis) -> None:
    data = analysis.to_dict()
    assert {"schema_version", "model", "input_shape", "dtype", "device", "conventions", "categories", "totals",
            "unsupported_ops", "training_mode", "layers"} < data.keys()
    assert data["growth"]["rows"] == [r.index for r in analysis.growth.rows]
    assert data["growth"]["final"] == analysis.growth.final.index  # type: ignore[union-attr]
    assert len(data["cumulative"]) == len(analysis.leaves())
    assert data["cumulative"][-1]["macs_pct"] == 100.0
    assert data["cumulative"][0]["index"] == analysis.leaves()[0].index


def test_an_analysis_without_fields_has_no_growth_rows() -> None:
    plain = analyze("lenet5", receptive_fields=False)
    assert plain.growth.rows == () and plain.growth.final is None
    assert len(plain.cumulative) == len(plain.leaves())

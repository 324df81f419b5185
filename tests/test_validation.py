"""The estimator against memory that PyTorch allocated (gpumem/data/measurements.json)."""

from __future__ import annotations

import pytest

from gpumem.validation import comparisons, measurements, summary

ROWS = comparisons()

#: Largest relative error allowed per kind of scenario.
BOUNDS = {"weights": 0.001, "prefill": 0.03, "generate": 0.03, "train": 0.05}


def test_measurements_have_provenance() -> None:
    provenance = measurements()["provenance"]
    for key in ("torch", "transformers", "attn_implementation", "method", "date"):
        assert provenance[key]
    assert len(ROWS) >= 100


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.model}:{r.scenario}")
def test_estimate_within_bound(row) -> None:
    assert abs(row.error) <= BOUNDS[row.kind], (row.estimate_bytes, row.measured_bytes)


def test_overall_error() -> None:
    figures = summary(ROWS)
    assert figures["median"] <= 0.01
    assert figures["worst"] <= 0.05


def test_rules_of_thumb_are_far_off() -> None:
    # The shortcuts this site corrects: parameters x bytes x 1.2 (inference) or x 2 (training).
    figures = summary(ROWS)
    assert figures["rule_median"] > 0.2
    trains = [r for r in ROWS if r.kind == "train"]
    assert all(r.rule_error < -0.4 for r in trains)  # training needs far more than 2x

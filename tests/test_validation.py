"""The estimator against memory that PyTorch allocated (gpumem/data/measurements.json)."""

from __future__ import annotations

import pytest

from gpumem.validation import Comparison, comparisons, measurements, summary

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


def test_summary_of_hand_made_rows() -> None:
    # errors +10 %, -20 %, +40 %; the rule of thumb only on the first two: -50 %, +100 %
    rows = [
        Comparison("m", "a", "prefill", 100, 110, 50),
        Comparison("m", "b", "prefill", 100, 80, 200),
        Comparison("m", "c", "weights", 100, 140, None),
    ]
    figures = summary(rows)
    assert figures["median"] == pytest.approx(0.2)
    assert figures["worst"] == pytest.approx(0.4) and figures["best"] == pytest.approx(0.1)
    assert figures["rule_median"] == pytest.approx(0.75)
    assert figures["rule_worst"] == pytest.approx(1.0) and figures["rule_best"] == pytest.approx(
        0.5
    )
    assert summary(rows[2:])["rule_median"] is None

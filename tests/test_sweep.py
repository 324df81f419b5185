"""Vectorised sweeps agree with one-at-a-time estimates, to the byte."""

import numpy as np
import pytest
from test_estimate import layouts_of

from gpumem import GpumemError, Workload, estimate
from gpumem.catalog import load_model, model_names
from gpumem.sweep import peak_bytes


@pytest.mark.parametrize("name", model_names())
def test_sweep_equals_estimate_to_the_byte(name: str) -> None:
    model = load_model(name)
    top = min(model.max_context, 512)
    batch = np.array([1, 3, 8, 1, 2])
    seq = np.array([1, 100, top, top - 1, 64])
    for settings in layouts_of(name):
        workload = Workload(**{**settings, "seq": None})
        swept = peak_bytes(model, workload, batch, seq)
        single = [
            estimate(model, workload.with_(batch=int(b), seq=int(s))).total_bytes
            for b, s in zip(batch, seq, strict=True)
        ]
        assert swept.tolist() == single, settings


@pytest.mark.parametrize(
    ("batch", "seq", "words"),
    [
        ([0, 1], [1, 1], "batch 0"),
        ([1], [-4], "seq -4"),
        ([1.5], [1], "batch 1.5"),
        ([1], [float("nan")], "seq nan"),
        ([1], [float("inf")], "seq inf"),
        (["a"], [1], "batch"),
        ([], [], "non-empty"),
        ([True], [1], "batch"),
        ([1], [10**6], "context window"),
    ],
)
def test_bad_arrays_are_refused(batch, seq, words) -> None:
    with pytest.raises(GpumemError) as info:
        peak_bytes(load_model("gpt2"), Workload(), batch, seq)
    assert words in str(info.value)

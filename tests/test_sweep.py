"""Vectorised sweeps agree with one-at-a-time estimates."""

import numpy as np
import pytest

from gpumem import Workload, estimate
from gpumem.catalog import load_model
from gpumem.sweep import peak_bytes


@pytest.mark.parametrize(
    "workload",
    [
        Workload(seq=4096),
        Workload(seq=4096, logits="all", attention="eager", kv_dtype="fp8_e4m3"),
        Workload(mode="training", seq=4096),
        Workload(mode="training", seq=4096, checkpointing="full", zero=3, dp=8),
    ],
)
@pytest.mark.parametrize("name", ["llama-3.1-8b", "mistral-7b-v0.1", "mixtral-8x7b"])
def test_sweep_matches_estimate(name: str, workload: Workload) -> None:
    model = load_model(name)
    batch = np.array([1, 3, 8, 1])
    seq = np.array([1, 100, 4096, 4095])
    swept = peak_bytes(model, workload, batch, seq)
    for b, s, total in zip(batch, seq, swept, strict=True):
        single = estimate(model, workload.with_(batch=int(b), seq=int(s))).total_bytes
        assert total == pytest.approx(single, abs=16)  # components are rounded one by one

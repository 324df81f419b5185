"""Many estimates at once: the generated formulas evaluated over NumPy arrays.

``peak_bytes(model, workload, batch=..., seq=...)`` gives the same totals as
:func:`gpumem.estimate.estimate` for every (batch, seq) pair, without a Python loop.
"""

from __future__ import annotations

import numpy as np

from .estimate import INFERENCE, TRAINING, evaluate, symbol_values
from .modelspec import ModelSpec
from .workload import Workload


def peak_bytes(
    model: ModelSpec, workload: Workload, batch: np.ndarray, seq: np.ndarray
) -> np.ndarray:
    """Total bytes per GPU (overheads included) for each pair of ``batch`` and ``seq``.

    ``workload.seq`` must be the largest sequence of ``seq``: it is what is validated against
    the model's context window.
    """
    values = symbol_values(model, workload.with_(seq=int(np.max(seq))))
    values["B"] = np.asarray(batch, dtype=np.float64)
    values["s"] = np.asarray(seq, dtype=np.float64)
    if not workload.training and workload.resolved_logits == "all":
        values["s_l"] = values["s"]
    names = TRAINING if workload.training else INFERENCE
    peak = evaluate(names, values)[names[-1]]
    tensors = np.ceil(peak)
    return tensors + workload.cuda_context + np.ceil(tensors * workload.allocator_reserve)

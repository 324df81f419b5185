"""Many estimates at once: the generated formulas evaluated over NumPy arrays.

``peak_bytes(model, workload, batch=..., seq=...)`` gives the totals of
:func:`gpumem.estimate.estimate` for every (batch, seq) pair, to the byte, without a Python loop.
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidValueError, Text
from .estimate import peak_values, symbol_values
from .modelspec import ModelSpec
from .workload import Workload


def _counts(name: str, values: object) -> np.ndarray:
    """``values`` as an array of positive integers, or an error naming the first bad one."""
    array = np.asarray(values)
    if array.size == 0:
        raise InvalidValueError(name, values, Text("a non-empty array of positive integers"))
    if array.dtype.kind not in "iuf" or array.dtype == np.bool_:
        raise InvalidValueError(name, values, Text("an array of positive integers"))
    bad = ~np.isfinite(array) | (array < 1) | (array != np.floor(array))
    if bad.any():
        first = array[bad].flat[0]
        raise InvalidValueError(name, first.item(), Text("positive integers"))
    return array.astype(np.int64)


def peak_bytes(
    model: ModelSpec, workload: Workload, batch: np.ndarray, seq: np.ndarray
) -> np.ndarray:
    """Total bytes per GPU (overheads included) for each pair of ``batch`` and ``seq``.

    ``batch`` and ``seq`` are arrays of positive integers of the same shape (or that broadcast
    together); the workload's own batch and sequence length are replaced by them.

    Raises
    ------
    GpumemError
        For a value that is not a positive integer, or a sequence longer than the model's
        context window.
    """
    batches, seqs = _counts("batch", batch), _counts("seq", seq)
    work = workload.with_(batch=int(batches.max()), seq=int(seqs.max()))
    values = {**symbol_values(model, work), "B": batches, "s": seqs}
    values = peak_values(values, work)
    return (values["M_tensors"] + values["runtime_overhead"]).astype(np.int64)

"""Workloads side by side on one GPU: which weight format, KV-cache format and batch size fit,
with how much to spare, and the longest context each leaves room for.

The question people bring to a card — "bf16, fp8, q8_0 or q4_k_m, and how much context with an
FP8 KV cache?" — as one call: :func:`compare` answers every combination with
:func:`gpumem.solve.fit` and :func:`gpumem.solve.max_context`, and :func:`best` picks the row
to recommend for a goal.
"""

from __future__ import annotations

from ._record import Record
from .errors import InvalidValueError, Text, UnknownNameError
from .hardware import GPU
from .modelspec import ModelSpec
from .precision import get_format
from .solve import Fit, fit, max_context
from .vocabulary import GOALS as _GOAL_LABELS
from .workload import Workload

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

#: What :func:`best` can favour: the longest context that fits, or the most precise formats
#: that fit at the workload's sequence length.
GOALS = tuple(_GOAL_LABELS)


class Option(Record):
    """One combination: whether it fits at the workload's sequence length, and the longest
    sequence that fits at its batch size (``None``: not even one token)."""

    fit: Fit
    max_context: int | None

    @property
    def workload(self) -> Workload:
        """The workload of this combination."""
        return self.fit.estimate.workload


def compare(
    model: ModelSpec | str,
    gpu: GPU | str,
    workload: Workload | None = None,
    *,
    dtypes: Sequence[str] = (),
    kv_dtypes: Sequence[str | None] = (),
    batches: Sequence[int] = (),
    **settings: object,
) -> list[Option]:
    """Every combination of ``dtypes`` × ``kv_dtypes`` × ``batches`` (in that order; an empty
    list keeps the workload's own value) on one ``gpu``."""
    from .catalog import load_model
    from .hardware import get_gpu

    spec = model if isinstance(model, ModelSpec) else load_model(model)
    if spec.parameters_source == "gguf":  # solve answers it as llama.cpp runs it
        raise InvalidValueError(
            "model", spec.name, Text("a model whose formats vary; a GGUF file's tensors fix theirs")
        )
    device = gpu if isinstance(gpu, GPU) else get_gpu(gpu)
    base = workload.with_(**settings) if workload else Workload(**settings)
    options = []
    for dtype in dtypes or (base.dtype,):
        for kv_dtype in kv_dtypes or (base.kv_dtype,):
            for batch in batches or (base.batch,):
                work = base.with_(dtype=dtype, kv_dtype=kv_dtype, batch=batch)
                first = fit(spec, device, work)
                options.append(Option(first, max_context(spec, device, first.estimate.workload)))
    return options


def best(options: Sequence[Option], goal: str = GOALS[0]) -> int | None:
    """Index of the option to recommend for ``goal`` (see :data:`GOALS`), or ``None`` when
    none qualifies.

    ``"context"``: the longest context that fits, then the more precise formats.
    ``"quality"``: among the options that fit, the most bits per weight, then per KV value,
    then the longest context.
    """
    if goal not in GOALS:
        raise UnknownNameError("goal", str(goal), GOALS)

    def bits(option: Option) -> tuple[float, float]:
        w = option.workload
        kv = float(get_format(w.kv_dtype).bits) if w.kv_dtype else 0.0
        return float(get_format(w.dtype).bits), kv

    if goal == "context":
        keys = {i: (o.max_context or 0, *bits(o)) for i, o in enumerate(options) if o.max_context}
    else:
        keys = {i: (*bits(o), o.max_context or 0) for i, o in enumerate(options) if o.fit.fits}
    return max(keys, key=keys.__getitem__) if keys else None

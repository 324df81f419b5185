"""The questions users ask: does it fit, on how many GPUs, with what batch or context.

Every answer comes from :func:`gpumem.estimate.estimate`, which is monotone in batch size and
sequence length, so the largest value that fits is found by doubling, then bisection. A model
read from a GGUF file is answered as llama.cpp runs it, as ``gpumem fit`` does
(:func:`gpumem.offload.plan`: every layer and the output layer on the GPUs, ``-ngl`` all, the
KV cache and compute buffer beside them; several GPUs split the layers, ``-ts``).
"""

from __future__ import annotations

import math

from ._record import Record
from .errors import InvalidValueError, Text, UnknownNameError
from .estimate import Estimate, estimate, resolve_model, resolve_workload
from .hardware import GPU, get_gpu
from .modelspec import ModelSpec
from .offload import Placement, plan, plan_options
from .workload import MAX_COUNT, Workload

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

#: GPUs per node for tensor parallelism (NVLink domain of a typical 8-GPU server).
NODE_SIZE = 8


class Fit(Record):
    """Whether an estimate fits a GPU, and by how much.

    ``headroom_bytes`` is the GPU's memory minus the estimate (negative when it does not
    fit); ``headroom`` is that as a fraction of the GPU's memory.
    """

    estimate: Estimate
    gpu: GPU

    @property
    def available_bytes(self) -> int:
        """Memory of one GPU as the device reports it."""
        return self.gpu.memory_bytes

    @property
    def headroom_bytes(self) -> int:
        """Memory left over (negative: missing)."""
        return self.available_bytes - self.estimate.total_bytes

    @property
    def headroom(self) -> float:
        """Memory left over as a fraction of the GPU's memory."""
        return self.headroom_bytes / self.available_bytes

    @property
    def fits(self) -> bool:
        """Whether the estimate, overheads included, fits in the GPU's memory."""
        return self.headroom_bytes >= 0


def _resolve(model: ModelSpec | str, gpu: GPU | str) -> tuple[ModelSpec, GPU]:
    if isinstance(gpu, GPU):
        device = gpu
    elif isinstance(gpu, str):
        device = get_gpu(gpu)
    else:
        raise InvalidValueError("gpu", gpu, Text("a GPU or the id of one (see `gpumem gpus`)"))
    return resolve_model(model), device


def _count(name: str, value: object, unbounded: bool = False) -> None:
    """Refuse a ``value`` that is not a positive integer (or ``math.inf`` if ``unbounded``)."""
    if unbounded and value == math.inf:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValueError(name, value, Text("a positive integer"))


def _gguf(spec: ModelSpec) -> bool:
    """Whether ``spec`` was read from a GGUF file, which llama.cpp runs."""
    return spec.parameters_source == "gguf"


def _placement(
    spec: ModelSpec, device: GPU, n_gpus: int, workload: Workload | None, settings: dict
) -> Placement:
    """llama.cpp's run of a GGUF file on ``n_gpus`` of ``device``: every layer and the output
    layer on the GPUs, no expert left in system memory; the workload's settings (those it sets
    apart from the defaults, and ``settings``) as :func:`gpumem.offload.plan_options` maps them
    (``seq`` is the context), any other refused by name."""
    if workload is not None and not isinstance(workload, Workload):
        raise InvalidValueError("workload", workload, Text("a Workload or None"))
    for key in settings:
        if key not in Workload._fields:
            raise UnknownNameError("setting", str(key), Workload._fields)
    given: dict[str, object] = {}
    if workload is not None:
        default = Workload().as_dict()
        given = {k: v for k, v in workload.as_dict().items() if v != default[k]}
    given.update(settings)
    gpus = [device] * n_gpus
    return plan(spec, gpus, ngl=spec.n_layers + 1, n_cpu_moe=0, **plan_options(given))


def fit(
    model: ModelSpec | str, gpu: GPU | str, workload: Workload | None = None, **settings: object
) -> Fit | Placement:
    """Does ``model`` under ``workload`` fit on one ``gpu``? For a GGUF file, llama.cpp's
    placement of it all on that GPU (its ``fits``, bytes per device and largest context)."""
    spec, device = _resolve(model, gpu)
    if _gguf(spec):
        return _placement(spec, device, 1, workload, settings)
    return Fit(estimate(spec, workload, **settings), device)


def gpus_needed(
    model: ModelSpec | str,
    gpu: GPU | str,
    workload: Workload | None = None,
    max_gpus: int = 4096,
    **settings: object,
) -> Fit | Placement | None:
    """The smallest layout of at most ``max_gpus`` GPUs that holds the model, or ``None``.

    Inference grows tensor parallelism within a node (a divisor of the head count), then
    pipeline stages across nodes. Training shards with ZeRO-3 (FSDP) over data-parallel GPUs
    inside the same tensor/pipeline layout. A GGUF file takes the fewest GPUs llama.cpp can
    split its layers between (at most one per layer and one for the output).
    """
    _count("max_gpus", max_gpus)
    spec, device = _resolve(model, gpu)
    if _gguf(spec):  # llama.cpp splits the layers between the GPUs (-ts)
        for n in range(1, min(max_gpus, spec.n_layers + 1) + 1):
            placed = _placement(spec, device, n, workload, settings)
            if placed.fits:
                return placed
        return None
    base = resolve_workload(workload, settings, spec)
    for layout in _layouts(spec, base, max_gpus):
        result = Fit(estimate(spec, base.with_(**layout)), device)
        if result.fits:
            return result
    return None


def _layouts(spec: ModelSpec, base: Workload, max_gpus: int):
    tps = [t for t in range(1, min(NODE_SIZE, max_gpus) + 1) if spec.n_heads % t == 0]
    if base.training:
        n = 1
        while n <= max_gpus:
            yield {"dp": n, "zero": 3 if n > 1 else base.zero}
            n *= 2
        return
    for tp in tps:
        yield {"tp": tp}
    for pp in range(2, spec.n_layers + 1):
        if tps[-1] * pp > max_gpus:
            return
        yield {"tp": tps[-1], "pp": pp}


def _largest(fits: Callable[[int], bool], low: int, high: int | float) -> int | None:
    """Largest ``x`` in ``[low, high]`` with ``fits(x)``, for a monotone ``fits``; ``high``
    may be ``math.inf`` (the search then stops at the largest count a workload takes)."""
    if not fits(low):
        return None
    high = min(high, MAX_COUNT)
    step = 1
    while low + step <= high and fits(low + step):  # double until it no longer fits
        low, step = low + step, step * 2
    high = min(high, low + step - 1)
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


def max_batch(
    model: ModelSpec | str,
    gpu: GPU | str,
    workload: Workload | None = None,
    limit: int | float = math.inf,
    **settings: object,
) -> int | None:
    """Largest batch size, up to ``limit`` (none by default), that fits on ``gpu``
    (``None`` if even 1 does not).

    Raises
    ------
    GpumemError
        For a GGUF file, which llama.cpp runs for one sequence.
    """
    _count("limit", limit, unbounded=True)
    spec, device = _resolve(model, gpu)
    if _gguf(spec):
        raise InvalidValueError(
            "model",
            spec.name,
            Text("a model run in batches; llama.cpp runs a GGUF file for one sequence"),
        )
    base = resolve_workload(workload, settings, spec)
    return _largest(lambda b: Fit(estimate(spec, base.with_(batch=b)), device).fits, 1, limit)


def max_context(
    model: ModelSpec | str, gpu: GPU | str, workload: Workload | None = None, **settings: object
) -> int | None:
    """Longest sequence, up to the model's context window, that fits on ``gpu``; for a GGUF
    file, the largest llama.cpp context (``-c``) that fits with every layer on it."""
    spec, device = _resolve(model, gpu)
    if _gguf(spec):
        return _placement(spec, device, 1, workload, settings).max_ctx or None
    base = resolve_workload(workload, settings, spec)
    return _largest(
        lambda s: Fit(estimate(spec, base.with_(seq=s)), device).fits, 1, spec.max_context
    )


class Answers(Record):
    """Everything ``gpumem fit`` reports about a model, a workload and a GPU."""

    fit: Fit
    layout: Fit | None  # the smallest layout of this GPU that holds it (None: none found)
    max_batch: int | None  # at the workload's sequence length
    max_context: int | None  # at the workload's batch size


def answer(
    model: ModelSpec | str, gpu: GPU | str, workload: Workload | None = None, **settings: object
) -> Answers | Placement:
    """Does it fit; if not, on how many GPUs; and the largest batch and context that fit. For a
    GGUF file, llama.cpp's placement of it all on ``gpu``, as ``gpumem fit`` answers."""
    spec, device = _resolve(model, gpu)
    if _gguf(spec):
        return _placement(spec, device, 1, workload, settings)
    first = fit(spec, device, workload, **settings)
    work = first.estimate.workload
    return Answers(
        first,
        first if first.fits else gpus_needed(spec, device, work),
        max_batch(spec, device, work),
        max_context(spec, device, work),
    )

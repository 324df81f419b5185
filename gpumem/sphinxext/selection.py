"""What a table or chart shows, read from directive options: one set of options for every kind.

``:params:`` parameter counts, ``:dtypes:`` precisions (``fp16/bf16`` share a column),
``:gpus:`` GPU ids, ``:unit:`` a byte unit, ``:models:`` catalog ids, ``:workloads:`` one or
more workloads separated by ``|`` (each ``key=value`` fields of :class:`gpumem.Workload`),
``:seqs:`` sequence lengths, ``:variants:`` ids of memory-saving techniques and ``:kinds:``
kinds of measured scenario (``weights prefill generate train``), ``:split:`` splits of the
measurements (``fitted held_out``), ``:source:`` which measurements (``cpu``, ``cuda``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InvalidValueError
from ..estimate import Estimate, estimate
from ..hardware import gpu_names
from ..modelspec import ModelSpec
from . import options
from .options import WorkloadSpec

#: What a table kind returns: its title, header and rows, every text in the page's language.
Table = tuple[str, list[str], list[list[str]]]

DEFAULT_PARAMS = "1e9 3e9 7e9 8e9 13e9 70e9 405e9"
DEFAULT_DTYPES = "fp32 fp16/bf16 fp8 int8 int4 mxfp4"

#: The options of ``gpumem-table`` and ``gpumem-chart``, converted and checked as they are read.
OPTION_SPEC: dict[str, Callable[[str | None], object]] = {
    "params": options.params,
    "dtypes": options.dtype_groups,
    "gpus": options.word_list,
    "unit": options.unit,
    "models": options.word_list,
    "workloads": options.workloads,
    "seqs": options.seqs,
    "variants": options.word_list,
    "kinds": options.word_list,
    "split": options.word_list,
    "source": options.word,
}


@dataclass(frozen=True)
class Selection:
    """Everything a directive's options select; ``given`` names the options that were set."""

    params: tuple[int, ...]
    dtypes: tuple[tuple[str, ...], ...]
    gpus: tuple[str, ...]
    unit: str
    models: tuple[str, ...] = ()
    workloads: tuple[WorkloadSpec, ...] = ((),)
    seqs: tuple[int, ...] = ()
    variants: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    split: tuple[str, ...] = ()
    source: str = "cpu"
    given: frozenset[str] = frozenset()

    @classmethod
    def from_options(cls, converted: dict[str, object], default_unit: str) -> Selection:
        """The selection of options converted by :data:`OPTION_SPEC`; absent ones take their
        defaults."""
        chosen = {
            "params": options.params(DEFAULT_PARAMS),
            "dtypes": options.dtype_groups(DEFAULT_DTYPES),
            "gpus": (),
            "unit": default_unit,
            **converted,
        }
        return cls(**chosen, given=frozenset(converted))  # type: ignore[arg-type]

    @property
    def workload(self) -> WorkloadSpec:
        """The one workload of kinds that take a single one."""
        if len(self.workloads) != 1:
            raise InvalidValueError(
                "workloads", len(self.workloads), "one workload for this kind (no '|')"
            )
        return self.workloads[0]

    @property
    def one_model(self) -> str:
        """The single ``:models:`` id of kinds about one model."""
        if len(self.models) != 1:
            raise InvalidValueError("models", " ".join(self.models), "exactly one model id")
        return self.models[0]

    @property
    def some_models(self) -> tuple[str, ...]:
        """The ``:models:`` ids; at least one."""
        if not self.models:
            raise InvalidValueError("models", "", "one or more model ids")
        return self.models

    def gpu_ids(self, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The ``:gpus:`` ids, else ``default``, else every GPU of the catalog."""
        return self.gpus or default or tuple(gpu_names())

    def dtype_names(self, workload: WorkloadSpec) -> tuple[tuple[str, ...], ...]:
        """``:dtypes:`` if given, else the workload's dtype (``bf16`` by default)."""
        if "dtypes" in self.given:
            return self.dtypes
        return ((str(dict(workload).get("dtype", "bf16")),),)


def run_estimate(model: str | ModelSpec, spec: WorkloadSpec, **changes: object) -> Estimate:
    """:func:`gpumem.estimate` for a workload spec, with some fields changed."""
    return estimate(model, **{**dict(spec), **changes})

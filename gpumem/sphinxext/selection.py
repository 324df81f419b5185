"""What a table or chart shows, read from directive options: one parser for every kind.

``:params:`` parameter counts, ``:dtypes:`` precisions (``fp16/bf16`` share a column),
``:gpus:`` GPU ids, ``:unit:`` a byte unit, ``:models:`` catalog ids, ``:workloads:`` one or
more workloads separated by ``|`` (each ``key=value`` fields of :class:`gpumem.Workload`),
``:seqs:`` sequence lengths, ``:variants:`` ids of memory-saving techniques and ``:kinds:``
kinds of measured scenario (``weights prefill generate train``).
"""

from __future__ import annotations

from dataclasses import dataclass

from docutils.parsers.rst import directives

from ..errors import InvalidValueError, UnknownNameError
from ..units import UNITS
from .options import assignments, words
from .quantities import number, number_or_text

DEFAULT_PARAMS = "1e9 3e9 7e9 8e9 13e9 70e9 405e9"
DEFAULT_DTYPES = "fp32 fp16/bf16 fp8 int8 int4 mxfp4"

OPTION_SPEC = {
    "params": directives.unchanged,
    "dtypes": directives.unchanged,
    "gpus": directives.unchanged,
    "unit": directives.unchanged,
    "models": directives.unchanged,
    "workloads": directives.unchanged,
    "seqs": directives.unchanged,
    "variants": directives.unchanged,
    "kinds": directives.unchanged,
}

#: A workload as written: ``{"mode": "training", "seq": 4096}``.
WorkloadSpec = tuple[tuple[str, int | float | str], ...]


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
    given: frozenset[str] = frozenset()

    @classmethod
    def from_options(cls, options: dict[str, str], default_unit: str) -> Selection:
        """Read and check every option; absent ones take their defaults."""
        from ..precision import get_format

        params = tuple(
            int(number(p, "params")) for p in words(options.get("params", DEFAULT_PARAMS))
        )
        dtypes = tuple(tuple(g.split("/")) for g in words(options.get("dtypes", DEFAULT_DTYPES)))
        for group in dtypes:
            if len({get_format(name).bits for name in group}) > 1:
                raise InvalidValueError("dtype group", "/".join(group), "formats of equal size")
        unit = options.get("unit", default_unit)
        if unit not in UNITS:
            raise UnknownNameError("unit", unit, UNITS)
        seqs = tuple(_whole(s, "seqs") for s in words(options.get("seqs")))
        return cls(
            params=params,
            dtypes=dtypes,
            gpus=tuple(words(options.get("gpus"))),
            unit=unit,
            models=tuple(words(options.get("models"))),
            workloads=parse_workloads(options.get("workloads")),
            seqs=seqs,
            variants=tuple(words(options.get("variants"))),
            kinds=tuple(words(options.get("kinds"))),
            given=frozenset(key for key, value in options.items() if value is not None),
        )

    @property
    def workload(self) -> WorkloadSpec:
        """The one workload of kinds that take a single one."""
        if len(self.workloads) != 1:
            raise InvalidValueError(
                "workloads", len(self.workloads), "one workload for this kind (no '|')"
            )
        return self.workloads[0]

    def dtype_names(self, workload: WorkloadSpec) -> tuple[tuple[str, ...], ...]:
        """``:dtypes:`` if given, else the workload's dtype (``bf16`` by default)."""
        if "dtypes" in self.given:
            return self.dtypes
        return ((str(dict(workload).get("dtype", "bf16")),),)


def _whole(value: str, name: str) -> int:
    parsed = number(value, name)
    if not isinstance(parsed, int) or parsed < 1:
        raise InvalidValueError(name, value, "whole numbers ≥ 1 such as 4096 or 1e3")
    return parsed


def parse_workloads(text: str | None) -> tuple[WorkloadSpec, ...]:
    """``"mode=inference seq=8192 | mode=training"`` → two checked workload specs."""
    from ..workload import Workload

    if not text or not text.strip():
        return ((),)
    specs = []
    for part in text.split("|"):
        fields = assignments(part)
        for key in fields:
            if key not in Workload._fields:
                raise UnknownNameError("workload field", key, Workload._fields)
        spec = tuple((key, number_or_text(value, key)) for key, value in fields.items())
        Workload(**dict(spec))  # check the values now, with the option's text in the error
        specs.append(spec)
    return tuple(specs)


def dtype_label(group: tuple[str, ...]) -> str:
    """Column label of formats of equal size: ``("fp16", "bf16")`` → ``"FP16/BF16"``."""
    from ..precision import get_format

    return "/".join(get_format(name).label for name in group)

"""What a table or chart shows: model sizes, precisions and GPUs, read from directive options."""

from __future__ import annotations

from dataclasses import dataclass

from docutils.parsers.rst import directives

from ..errors import InvalidValueError, UnknownNameError
from ..units import UNITS
from .options import words
from .quantities import number

DEFAULT_PARAMS = "1e9 3e9 7e9 8e9 13e9 70e9 405e9"
DEFAULT_DTYPES = "fp32 fp16/bf16 fp8 int8 int4 mxfp4"

OPTION_SPEC = {
    "params": directives.unchanged,
    "dtypes": directives.unchanged,
    "gpus": directives.unchanged,
    "unit": directives.unchanged,
}


@dataclass(frozen=True)
class Selection:
    """Parameter counts, precision columns (formats of equal size may share one) and GPUs."""

    params: tuple[int, ...]
    dtypes: tuple[tuple[str, ...], ...]
    gpus: tuple[str, ...]
    unit: str

    @classmethod
    def from_options(cls, options: dict[str, str], default_unit: str) -> Selection:
        """Read ``:params:``, ``:dtypes:`` (``fp16/bf16`` groups), ``:gpus:`` and ``:unit:``."""
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
        return cls(params, dtypes, tuple(words(options.get("gpus"))), unit)


def dtype_label(group: tuple[str, ...]) -> str:
    """Column label of formats of equal size: ``("fp16", "bf16")`` → ``"FP16/BF16"``."""
    from ..precision import get_format

    return "/".join(get_format(name).label for name in group)

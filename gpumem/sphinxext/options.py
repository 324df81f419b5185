"""Text written in a directive's options or a role's arguments, read into checked values.

The converters below go into ``option_spec``: each one turns an option's text into its value
or raises a :class:`~gpumem.errors.GpumemError` naming the bad value and what is accepted
(:class:`~gpumem.sphinxext.directive.GpumemDirective` reports it as a warning at the
directive).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ..errors import InvalidValueError, UnknownNameError
from ..precision import get_format
from ..units import UNITS
from ..workload import Workload

#: A workload as written: ``(("mode", "training"), ("seq", 4096))``.
WorkloadSpec = tuple[tuple[str, bool | int | float | str], ...]


def words(text: str | None) -> list[str]:
    """``"fp32, bf16 int4"`` → ``["fp32", "bf16", "int4"]``."""
    return (text or "").replace(",", " ").split()


def assignments(text: str | None, what: str = "option") -> dict[str, str]:
    """``"P=7e9 b_w=2"`` → ``{"P": "7e9", "b_w": "2"}``; ``what`` names them in an error."""
    pairs: dict[str, str] = {}
    for word in words(text):
        key, _, value = word.partition("=")
        if not key or not value or key in pairs:
            raise InvalidValueError(what, word, "key=value pairs, each key once")
        pairs[key] = value
    return pairs


def number(value: str, name: str) -> int | float:
    """``value`` as an exact int when it is whole (``"7e9"`` → 7000000000), else a float."""
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise InvalidValueError(name, value, "a number such as 7e9 or 0.5") from None
    if not parsed.is_finite() or parsed < 0:
        raise InvalidValueError(name, value, "a finite number ≥ 0")
    return int(parsed) if parsed == parsed.to_integral_value() else float(parsed)


def number_or_text(value: str, name: str) -> int | float | str:
    """``value`` as a number where it reads as one, else the text itself."""
    try:
        return number(value, name)
    except InvalidValueError:
        return value


def whole(value: str, name: str) -> int:
    """A whole number ≥ 1 (``"1e3"`` → 1000)."""
    parsed = number(value, name)
    if not isinstance(parsed, int) or parsed < 1:
        raise InvalidValueError(name, value, "whole numbers ≥ 1 such as 4096 or 1e3")
    return parsed


def digits(value: str, high: int = 12, low: int = 0) -> int:
    """A number of digits from ``low`` to ``high``."""
    parsed = number(value, "digits")
    if not isinstance(parsed, int) or not low <= parsed <= high:
        raise InvalidValueError("digits", value, f"a whole number from {low} to {high}")
    return parsed


def word_list(text: str | None) -> tuple[str, ...]:
    """Converter of a list of ids: ``"h100-sxm, a100-80gb"``."""
    return tuple(words(text))


def word(text: str | None) -> str:
    """Converter of one id: ``"cuda"``."""
    found = words(text)
    if len(found) != 1:
        raise InvalidValueError("option", text or "", "exactly one word")
    return found[0]


def unit(text: str | None) -> str:
    """Converter of one byte unit (``GB``, ``GiB``…)."""
    if text not in UNITS:
        raise UnknownNameError("unit", str(text), UNITS)
    return text


def units(text: str | None) -> tuple[str, ...]:
    """Converter of byte units: ``"GB GiB"``."""
    return tuple(unit(word) for word in words(text))


def params(text: str | None) -> tuple[int, ...]:
    """Converter of parameter counts: ``"7e9 70e9"``."""
    return tuple(int(number(word, "params")) for word in words(text))


def seqs(text: str | None) -> tuple[int, ...]:
    """Converter of sequence lengths: ``"4096 32e3"``."""
    return tuple(whole(word, "seqs") for word in words(text))


def dtype_groups(text: str | None) -> tuple[tuple[str, ...], ...]:
    """Converter of formats, those of equal size grouped by ``/``: ``"fp32 fp16/bf16"``."""
    groups = tuple(tuple(word.split("/")) for word in words(text))
    for group in groups:
        if len({get_format(name).bits for name in group}) > 1:
            raise InvalidValueError("dtype group", "/".join(group), "formats of equal size")
    return groups


def workload_spec(fields: dict[str, str], what: str = "workload field") -> WorkloadSpec:
    """Workload fields given as text, checked: numbers where they read as numbers, ``true``
    and ``false`` as booleans; ``what`` names a field in an error."""
    for key in fields:
        if key not in Workload._fields:
            raise UnknownNameError(what, key, Workload._fields)
    truth = {"true": True, "false": False}
    spec = tuple(
        (key, truth[value] if value in truth else number_or_text(value, key))
        for key, value in fields.items()
    )
    Workload(**dict(spec))  # check the values now, with the option's text in the error
    return spec


def workloads(text: str | None) -> tuple[WorkloadSpec, ...]:
    """Converter of workloads: ``"mode=inference seq=8192 | mode=training"`` → two specs."""
    if not text or not text.strip():
        return ((),)
    return tuple(workload_spec(assignments(part)) for part in text.split("|"))


def without(spec: WorkloadSpec, *keys: str) -> WorkloadSpec:
    """``spec`` less some fields."""
    return tuple((k, v) for k, v in spec if k not in keys)

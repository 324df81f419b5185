"""Byte units. GB is 10**9 bytes, GiB is 2**30 bytes (what ``nvidia-smi`` and PyTorch report).
The two are never mixed."""

from __future__ import annotations

from .errors import UnknownNameError

UNITS: dict[str, int] = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
}


def unit_bytes(unit: str) -> int:
    """Bytes in one ``unit`` (``"GB"``, ``"GiB"``, …)."""
    try:
        return UNITS[unit]
    except KeyError:
        raise UnknownNameError("unit", unit, UNITS) from None


def to_unit(n_bytes: float, unit: str) -> float:
    """``n_bytes`` expressed in ``unit``."""
    return n_bytes / unit_bytes(unit)


def format_bytes(n_bytes: float, unit: str = "GB", digits: int = 2) -> str:
    """``n_bytes`` as text with its unit, e.g. ``format_bytes(14e9) == "14.00 GB"``."""
    return f"{to_unit(n_bytes, unit):,.{digits}f} {unit}"

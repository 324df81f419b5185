"""Numbers written the way each page language writes them.

English groups large counts in thousands (``7 billion``); Chinese in ten-thousands
(``70 亿``). Byte amounts keep their unit symbol in every language, separated from the
number by a no-break space.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ..units import to_unit

NBSP = "\u00a0"
MINUS = "\u2212"

_SCALES: dict[str, tuple[tuple[int, str], ...]] = {
    "en": ((10**12, " trillion"), (10**9, " billion"), (10**6, " million"), (10**3, " thousand")),
    "zh": ((10**12, " 万亿"), (10**8, " 亿"), (10**4, " 万")),
}


def join_names(names: list[str], language: str) -> str:
    """A list of names: ``"A100, H100"``; Chinese uses the enumeration comma ``"A100、H100"``."""
    return ("、" if language.startswith("zh") else ", ").join(names)


def significant(value: float, digits: int) -> str:
    """``value`` rounded to ``digits`` significant digits, without trailing zeros."""
    if value == 0:
        return "0"
    text = f"{value:,.{digits}g}" if abs(value) < 10**digits else f"{value:,.0f}"
    if "e" in text:
        text = f"{float(text):,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_count(count: float, language: str, digits: int = 4) -> str:
    """A count such as a number of parameters: ``"405.9 billion"`` or ``"4059 亿"``."""
    scales = _SCALES["zh" if language.startswith("zh") else "en"]
    for size, word in scales:
        if abs(count) >= size:
            return significant(count / size, digits).replace(",", "") + word.replace(" ", NBSP)
    return significant(count, digits)


def format_amount(value: float, decimals: int | None = None) -> str:
    """A measured value; ``decimals=None`` keeps 3–4 significant digits (``0.531``, ``13.04``)."""
    if decimals is None:
        decimals = (
            0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2 if abs(value) >= 1 else 3
        )
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    return f"{rounded:,.{decimals}f}"


def format_size(n_bytes: float, unit: str, decimals: int = 2) -> str:
    """A byte amount in ``unit``, trailing zeros dropped: ``"14 GB"``, ``"13.04 GiB"``."""
    text = format_amount(to_unit(n_bytes, unit), decimals)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}{NBSP}{unit}"


def chinese(language: str) -> bool:
    """Whether ``language`` is a Chinese variant."""
    return language.startswith("zh")


def format_int(value: int, language: str) -> str:
    """A whole number such as a token count: ``"8,192"``; Chinese writes ``"8192"``."""
    return f"{value:d}" if chinese(language) else f"{value:,d}"


def format_rate(value: float, language: str, digits: int = 3) -> str:
    """A rate such as tokens per second, to ``digits`` significant digits (``"248"``)."""
    text = significant(value, digits)
    return text.replace(",", "") if chinese(language) else text


def format_bandwidth(bytes_per_s: float, unit: str | None = None) -> str:
    """Bytes per second: ``"3.35 TB/s"`` (TB/s from 1 TB/s up, else GB/s unless ``unit``)."""
    if unit is None:
        unit = "TB" if bytes_per_s >= 10**12 else "GB"
    return f"{significant(to_unit(bytes_per_s, unit), 4)}{NBSP}{unit}/s"


def format_percent(fraction: float, language: str) -> str:
    """A fraction as a percentage with at most one decimal: ``"42.5%"``."""
    text = format_amount(100 * fraction, 1)
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{'0' if text == '-0' else text}%"


def amount(n_bytes: float, unit: str) -> str:
    """A table cell in ``unit``: 3–4 significant digits, ``"<0.001"`` for a tiny amount."""
    value = to_unit(n_bytes, unit)
    if value == 0:
        return "0"
    if 0 < value < 0.0005:
        return "<0.001"
    return format_amount(value)


def ratio_text(ratio: float) -> str:
    """``2.345`` → ``"×2.3"``."""
    return "×" + significant(ratio, 2 if ratio < 10 else 3)


def signed_percent(fraction: float, decimals: int) -> str:
    """``-0.0045`` → ``"−0.45%"``, ``0.0002`` → ``"+0.02%"``; ``"0%"`` only when exact (a
    tiny error keeps its sign: ``"−0.00%"``)."""
    if fraction == 0:
        return "0%"
    text = f"{abs(100 * fraction):.{decimals}f}"
    return f"{MINUS if fraction < 0 else '+'}{text}%"


def signed_size(n_bytes: float, unit: str, decimals: int = 2) -> str:
    """A difference of bytes in ``unit`` with its sign: ``"+0.27 GiB"``, ``"−1.5 GiB"``."""
    return ("+" if n_bytes >= 0 else MINUS) + format_size(abs(n_bytes), unit, decimals)


def percent(fraction: float, digits: int = 2) -> str:
    """An absolute error to ``digits`` significant digits: ``0.00202`` → ``"0.2%"``; below
    0.01 % (but not zero) ``"<0.01%"``."""
    if 0 < abs(fraction) < 1e-4:
        return "<0.01%"
    return significant(100 * fraction, digits) + "%"

"""Number formats: how many bits one stored value takes.

Plain formats (FP32 … FP4) are a fixed width. Block-scaled formats (MXFP4, NVFP4, NF4) add a
shared scale per block: ``bits = element_bits + scale_bits / block_size``. GGUF quantization
mixes (``Q4_K_M`` …) keep some tensors at higher precision, so their cost is the average that
``llama-quantize`` reports for its reference model, not their block size.
"""

from __future__ import annotations

import math
from functools import cache

from . import _data
from ._generated.formulas import weights
from ._record import Record
from .errors import ConfigError, UnknownNameError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fractions import Fraction

_DATA = "data/precisions.json"


class Format(Record):
    """One number format.

    Attributes
    ----------
    name
        Identifier used by the API and CLI, e.g. ``"bf16"``.
    label
        How people write it, e.g. ``"BF16"``.
    kind
        ``"float"``, ``"int"``, ``"block-scaled"`` or ``"gguf"``.
    bits
        Average storage bits per value, scales included: an exact :class:`~fractions.Fraction`
        (the constructor also takes an int or a ``(numerator, denominator)`` pair).
    derivation
        How ``bits`` follows from the source figures.
    source
        Where the figures come from.
    """

    name: str
    label: str
    kind: str
    bits: Fraction
    derivation: str
    source: str

    # ``bits`` is kept as an exact integer ratio and made a Fraction when asked for: the
    # command line needs only its float value, and ``fractions`` takes milliseconds to import.
    def __init__(
        self,
        name: str,
        label: str,
        kind: str,
        bits: Fraction | int | tuple[int, int],
        derivation: str,
        source: str,
    ) -> None:
        numerator, denominator = bits if isinstance(bits, tuple) else bits.as_integer_ratio()
        common = math.gcd(numerator, denominator)
        self.__dict__.update(
            name=name,
            label=label,
            kind=kind,
            _ratio=(numerator // common, denominator // common),
            derivation=derivation,
            source=source,
        )

    @property
    def bits(self) -> Fraction:
        from fractions import Fraction

        return Fraction(*self.bits_ratio)

    @property
    def bytes_per_param(self) -> Fraction:
        """Average bytes per stored value."""
        return self.bits / 8

    @property
    def bits_ratio(self) -> tuple[int, int]:
        """``bits`` as ``(numerator, denominator)`` in lowest terms: exact, and cheap to get."""
        return self._ratio


@cache
def _formats() -> tuple[dict[str, Format], dict[str, str]]:
    raw = _data.load_json(_data.path("precisions.json"))
    ref = raw["gguf_reference"]
    formats: dict[str, Format] = {}
    for row in raw["formats"]:
        fmt = _format_from_row(row, ref)
        if fmt.name in formats:
            raise ConfigError(_DATA, f"duplicate format id {fmt.name!r}")
        formats[fmt.name] = fmt
    return formats, dict(raw["aliases"])


def _format_from_row(row: dict, ref: dict) -> Format:
    if not row.get("source"):
        raise ConfigError(_DATA, f"format {row.get('id')!r} has no source")
    kind = row["kind"]
    if kind == "block-scaled":  # element + scale / block
        element, block = _ratio(row, "element_bits"), _ratio(row, "block_size")
        scale = _ratio(row, "scale_bits")
        bits = (
            element[0] * scale[1] * block[0] + scale[0] * element[1] * block[1],
            element[1] * scale[1] * block[0],
        )
        derivation = f"{row['element_bits']} + {row['scale_bits']} / {row['block_size']}"
    elif kind == "gguf":  # size * 2**30 * 8 / parameters
        size = _ratio(row, "file_gib_at_reference")
        bits = (size[0] * 2**30 * 8, size[1] * ref["parameters"])
        derivation = (
            f"{row['file_gib_at_reference']} GiB × 2^30 × 8 / {ref['parameters']:,} parameters"
            f" ({ref['model']})"
        )
    else:
        bits = _ratio(row, "bits")
        derivation = f"{row['bits']}"
    return Format(row["id"], row["label"], kind, bits, derivation, row["source"])


def _ratio(row: dict, key: str) -> tuple[int, int]:
    """A number of the data file (``8``, ``8.125``, ``"4.58"``) as an exact integer ratio."""
    whole, _, decimals = str(row[key]).partition(".")
    try:
        return int(whole + decimals), 10 ** len(decimals)
    except ValueError:
        raise ConfigError(
            _DATA, f"format {row['id']!r}: {key} {row[key]!r} is not a number"
        ) from None


def format_names() -> list[str]:
    """Identifiers of every known format, in catalog order."""
    return list(_formats()[0])


def get_format(name: str) -> Format:
    """The format called ``name`` (case-insensitive; ``bfloat16`` and other aliases accepted).

    Raises
    ------
    UnknownNameError
        If no format has that name; the error lists the accepted ones.
    """
    formats, aliases = _formats()
    key = str(name).lower()
    key = aliases.get(key, key)
    try:
        return formats[key]
    except KeyError:
        raise UnknownNameError("dtype", str(name), formats) from None


def bytes_per_value(dtype: str) -> float:
    """Average bytes per stored value of ``dtype`` (a float, without building a Fraction)."""
    numerator, denominator = get_format(dtype).bits_ratio
    return numerator / (8 * denominator)


def weight_bytes(parameters: int, dtype: str) -> int:
    """Bytes to store ``parameters`` weights in ``dtype`` on one GPU (the ``weights`` formula,
    exact, every weight in the one format), rounded up to a whole byte."""
    exact = weights(
        P_s=parameters,
        P_q=0,
        P_q2=0,
        W_f=0,
        b_w=get_format(dtype).bytes_per_param,
        b_q=0,
        b_q2=0,
        N_dp=1,
        N_tp=1,
        N_pp=1,
        z_3=0,
        y_f=0,
    )
    return math.ceil(exact)

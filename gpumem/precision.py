"""Number formats: how many bits one stored value takes.

Plain formats (FP32 … FP4) are a fixed width. Block-scaled formats (MXFP4, NVFP4, NF4) add a
shared scale per block: ``bits = element_bits + scale_bits / block_size``. GGUF quantization
mixes (``Q4_K_M`` …) keep some tensors at higher precision, so their cost is the average that
``llama-quantize`` reports for its reference model, not their block size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from importlib import resources

from .errors import ConfigError, UnknownNameError

_DATA = "data/precisions.json"


@dataclass(frozen=True)
class Format:
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
        Average storage bits per value, scales included.
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

    @property
    def bytes_per_param(self) -> Fraction:
        """Average bytes per stored value."""
        return self.bits / 8


@cache
def _formats() -> tuple[dict[str, Format], dict[str, str]]:
    raw = json.loads(resources.files("gpumem").joinpath(_DATA).read_text(encoding="utf-8"))
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
    if kind == "block-scaled":
        element, block = Fraction(row["element_bits"]), Fraction(row["block_size"])
        scale = Fraction(str(row["scale_bits"]))
        bits = element + scale / block
        derivation = f"{row['element_bits']} + {row['scale_bits']} / {row['block_size']}"
    elif kind == "gguf":
        size = Fraction(row["file_gib_at_reference"])
        bits = size * 2**30 * 8 / ref["parameters"]
        derivation = (
            f"{row['file_gib_at_reference']} GiB × 2^30 × 8 / {ref['parameters']:,} parameters"
            f" ({ref['model']})"
        )
    else:
        bits = Fraction(row["bits"])
        derivation = f"{bits}"
    return Format(row["id"], row["label"], kind, bits, derivation, row["source"])


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


def weight_bytes(parameters: int, dtype: str) -> int:
    """Bytes to store ``parameters`` values in ``dtype``, rounded up to a whole byte."""
    bits = get_format(dtype).bits
    return -(-parameters * bits.numerator // (8 * bits.denominator))

"""The rule of thumb and the speed ceilings: roofline, decoding, arithmetic intensity."""

from __future__ import annotations

import sympy as sp

from .core import define, derive
from .inputs import BW, B, I_a, P, P_a, T_pk, b_w, k_r, m_t
from .phases import M_KV

# --- rules of thumb and speed ----------------------------------------------------------------
# The popular shortcut: × 1.2 for inference, × 2 for training.
derive(k_r, sp.Piecewise((2, m_t > 0), (sp.Rational(6, 5), True)))
define("rule_of_thumb", "M_{\\mathrm{rule}}", k_r * P * b_w, "parameters × bytes × multiplier")
define(
    "decode_tokens_per_second",
    "\\tau",
    BW / (P_a * b_w + M_KV),
    "ceiling of decoding speed: every active weight and the KV cache are read once per step",
)
define(
    "ridge_point",
    "I^{*}",
    T_pk / BW,
    "arithmetic intensity (FLOP per byte) above which a kernel is compute-bound",
)
define(
    "attainable_throughput",
    r"T",
    sp.Min(BW * I_a, T_pk),
    "roofline: FLOP per second a kernel of arithmetic intensity I can reach",
)
define(
    "decode_intensity",
    r"I_{\mathrm{decode}}",
    2 * B / b_w,
    "arithmetic intensity of decoding B sequences at once: 2 FLOP per weight and token, "
    "each weight read once per step",
)

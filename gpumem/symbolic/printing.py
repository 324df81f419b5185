"""LaTeX of the formulas, and their values with exact numbers substituted."""

from __future__ import annotations

import sympy as sp

from .core import FORMULAS, SYMBOL_LATEX, SYMBOLS
from .inputs import N_dp, z_1, z_2, z_3


def to_latex(expr: sp.Expr, numbers: dict[str, str] | None = None) -> str:
    """LaTeX of ``expr`` with the symbols' own names; ``numbers`` prints some symbols as given.

    Sharding factors such as ``N_dp**(-z_3)`` are shown as :math:`N_{dp}^{z_3}` in the
    denominator, where a reader expects them.
    """
    names = dict(SYMBOL_LATEX)
    for z in (z_1, z_2, z_3):
        shard = sp.Symbol(f"N_dp^{z.name}", positive=True)
        names[shard] = rf"N_{{dp}}^{{{SYMBOL_LATEX[z]}}}"
        expr = expr.subs(N_dp ** (-z), 1 / shard)
    for symbol in expr.free_symbols:
        if numbers and symbol.name in numbers:
            names[symbol] = numbers[symbol.name]
    return sp.latex(expr, symbol_names=names, mul_symbol="dot")


def latex(name: str) -> str:
    """LaTeX of formula ``name`` as ``lhs = rhs``."""
    formula = FORMULAS[name]
    return f"{SYMBOL_LATEX[formula.lhs]} = {to_latex(formula.rhs)}"


def substitute(name: str, values: dict[str, object]) -> sp.Expr:
    """Formula ``name`` with the symbols in ``values`` replaced by exact numbers.

    Floats are converted through their decimal text so that ``0.5`` stays ``1/2``.
    """
    formula = FORMULAS[name]
    subs = {
        SYMBOLS[k].symbol if k in SYMBOLS else sp.Symbol(k): sp.nsimplify(str(v))
        for k, v in values.items()
    }
    return formula.rhs.subs(subs)

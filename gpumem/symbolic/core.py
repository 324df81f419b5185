"""The registries of the symbolic model and the helpers that fill them."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


class CeilDiv(sp.Function):
    r"""``ceil(a / b)`` for positive integers, printed exactly (no floating point)."""

    @classmethod
    def eval(cls, a: sp.Expr, b: sp.Expr) -> sp.Expr | None:
        if a.is_Integer and b.is_Integer:
            return sp.Integer(-(-int(a) // int(b)))
        if b == 1:
            return a
        return None

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        a, b = (printer._print(arg) for arg in self.args)
        return rf"\left\lceil \frac{{{a}}}{{{b}}} \right\rceil"


@dataclass(frozen=True)
class Symbol:
    """A named input of the model: its SymPy symbol, LaTeX and meaning."""

    name: str
    latex: str
    description: str
    symbol: sp.Symbol


SYMBOLS: dict[str, Symbol] = {}
SYMBOL_LATEX: dict[sp.Symbol, str] = {}


def sym(name: str, latex: str, description: str, **assumptions: bool) -> sp.Symbol:
    if name in SYMBOLS:
        raise ValueError(f"symbol {name!r} is defined twice")
    symbol = sp.Symbol(name, nonnegative=True, **assumptions)
    SYMBOLS[name] = Symbol(name, latex, description, symbol)
    SYMBOL_LATEX[symbol] = latex
    return symbol


@dataclass(frozen=True)
class Formula:
    """One quantity of the model: ``lhs = rhs``."""

    name: str
    lhs: sp.Symbol
    rhs: sp.Expr
    description: str
    component: str = ""  # the name of its bytes in a breakdown, if it is a term of a phase
    phase: str = ""  # the phase whose live bytes it sums, if it is one

    @property
    def arguments(self) -> tuple[str, ...]:
        """Names the right-hand side depends on: inputs in :data:`SYMBOLS` order, then the
        results of other formulas in :data:`FORMULAS` order."""
        free = {sym.name for sym in self.rhs.free_symbols}
        return tuple(name for name in dict.fromkeys([*SYMBOLS, *FORMULAS]) if name in free)


#: Every formula by name. A formula named after a symbol of :data:`SYMBOLS` derives that
#: input from others (``b_a`` from the dtype, ``F`` from the model's shapes …).
FORMULAS: dict[str, Formula] = {}


def define(name: str, lhs_latex: str, rhs: sp.Expr, description: str, **roles: str) -> sp.Symbol:
    lhs = sp.Symbol(name)
    SYMBOL_LATEX[lhs] = lhs_latex
    FORMULAS[name] = Formula(name, lhs, rhs, description, **roles)
    return lhs


def derive(symbol: sp.Symbol, rhs: sp.Expr) -> None:
    """``symbol`` (an input of other formulas) as a formula of more basic inputs."""
    FORMULAS[symbol.name] = Formula(symbol.name, symbol, rhs, SYMBOLS[symbol.name].description)


class FloorDiv(sp.Function):
    r"""``floor(a / b)`` for ``a >= 0`` and ``b > 0``, printed exactly (``a // b``)."""

    @classmethod
    def eval(cls, a: sp.Expr, b: sp.Expr) -> sp.Expr | None:
        if a.is_Integer and b.is_Integer:
            return sp.Integer(int(a) // int(b))
        if b == 1 and a.is_integer:
            return a
        return None

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        a, b = (printer._print(arg) for arg in self.args)
        return rf"\left\lfloor \frac{{{a}}}{{{b}}} \right\rfloor"

    def _pythoncode(self, printer: sp.printing.pycode.PythonCodePrinter) -> str:
        a, b = (printer._print(arg) for arg in self.args)
        return f"(({a}) // ({b}))"

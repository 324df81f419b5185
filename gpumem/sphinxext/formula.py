"""The ``gpumem-formula`` directive: a formula of the symbolic model as display math.

Optional steps follow the formula in the same aligned block: the formula specialised with
``:where:`` values, the ``:example:`` values put in place of the symbols, and the result in bytes
and in each ``:unit:``.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx

from .. import symbolic
from ..errors import InvalidValueError, UnknownNameError
from ..units import UNITS
from . import options
from .directive import GpumemDirective
from .translation import gettext as _


def number_latex(value: int | float) -> str:
    r"""LaTeX of a number: ``7 \times 10^{9}`` when round, else digits in thin-spaced groups."""
    if isinstance(value, int) and value >= 10**4:
        mantissa, exponent = value, 0
        while mantissa % 10 == 0:
            mantissa, exponent = mantissa // 10, exponent + 1
        if exponent >= 3 and mantissa < 1000:
            return rf"{mantissa} \times 10^{{{exponent}}}"
    return f"{value:,}".replace(",", r"\,")


def steps(name: str, where: dict[str, str], example: dict[str, str], units: tuple[str, ...]) -> str:
    """LaTeX of the formula and the steps asked for, one ``&=`` line each."""
    if name not in symbolic.FORMULAS:
        raise UnknownNameError("formula", name, symbolic.FORMULAS)
    formula = symbolic.FORMULAS[name]
    names = {symbol.name for symbol in formula.rhs.free_symbols}
    for key in [*where, *example]:
        if key not in names:
            raise UnknownNameError(f"symbol of {name}", key, sorted(names))
    lhs = symbolic.SYMBOL_LATEX[formula.lhs]
    lines = [symbolic.latex(name).replace(f"{lhs} =", f"{lhs} &=", 1)]
    values = {key: options.number(value, key) for key, value in {**where, **example}.items()}

    def show(expression: object, shown: dict[str, int | float]) -> str:
        """LaTeX of ``expression`` with the symbols in ``shown`` printed as their numbers."""
        return symbolic.to_latex(expression, {k: number_latex(v) for k, v in shown.items()})

    specialised = symbolic.substitute(name, {k: values[k] for k in where})
    if where:
        lines.append("&= " + show(specialised, {}))
    if example:
        lines.append("&= " + show(specialised, {k: values[k] for k in example}))
        result = symbolic.substitute(name, values)
        if not result.is_number:
            missing = ", ".join(sorted(s.name for s in result.free_symbols))
            raise InvalidValueError(
                ":example: of " + name, " ".join(example), f"values for {missing}"
            )
        lines.append(_result_latex(result, units))
    if len(lines) == 1:
        return symbolic.latex(name)
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def _result_latex(result: object, units: tuple[str, ...]) -> str:
    r"""Bytes, then each unit: ``&= 14 \times 10^{9}\ \mathrm{B} = 14\ \mathrm{GB}``."""
    n_bytes = int(result) if result.is_integer else float(result)
    text = rf"&= {number_latex(n_bytes)}\ \mathrm{{B}}"
    for unit in units:
        value = n_bytes / UNITS[unit]
        rounded = round(value, 2)
        relation = "=" if rounded == value else r"\approx"
        text += rf" {relation} {rounded:,g}\ \mathrm{{{unit}}}".replace(",", r"\,")
    return text


def in_language(latex: str) -> str:
    """``latex`` with the words SymPy writes into a piecewise formula in the page's language."""
    return latex.replace(r"\text{for}", rf"\text{{{_('for')}}}").replace(
        r"\text{otherwise}", rf"\text{{{_('otherwise')}}}"
    )


class FormulaDirective(GpumemDirective):
    """``gpumem-formula <name>`` with ``:where:``, ``:example:`` and ``:unit:`` options."""

    required_arguments = 1
    option_spec = {
        "where": options.assignments,
        "example": options.assignments,
        "unit": options.units,
    }

    def render(self) -> list[nodes.Node]:
        latex = in_language(
            steps(
                self.arguments[0],
                self.options.get("where", {}),
                self.options.get("example", {}),
                self.options.get("unit", ()),
            )
        )
        node = nodes.math_block(
            latex,
            latex,
            nowrap=False,
            number=None,
            label=None,
            docname=self.env.docname,
            translatable=False,
        )
        return [node]


def setup_formula(app: Sphinx) -> None:
    """Register ``gpumem-formula``."""
    app.add_directive("gpumem-formula", FormulaDirective)

"""Formulas as MathML at build time: the TeX of the site's pages, converted without a script."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("latex2mathml")

from gpumem.sphinxext.mathml import to_mathml  # noqa: E402


def test_inline_formula_is_one_math_element() -> None:
    out = to_mathml(r"M_{W} = P \cdot b_w", display=False)
    assert out.startswith("<math") and 'display="inline"' in out
    assert "<msub><mi>M</mi>" in out and "&#x000B7;" in out  # M_W and the dot operator


def test_aligned_steps_become_a_table_of_rows() -> None:
    # the directive's steps: one row per "&=" line, the left column right-aligned
    out = to_mathml(r"\begin{aligned}M &= P \cdot b \\ &= 7 \cdot 2\end{aligned}", display=True)
    assert out.count("<mtr>") == 2
    assert '<mtd columnalign="right"><mi>M</mi></mtd>' in out
    assert "<mi>&</mi>" not in out and "\\" not in out


def test_lines_without_an_environment_are_aligned_too() -> None:
    assert to_mathml(r"a = b \\ c = d", display=True).count("<mtr>") == 2


def test_a_one_letter_unit_stays_upright() -> None:
    # \mathrm{B} (bytes) would be an italic variable B; GB keeps its upright letters
    out = to_mathml(r"14\ \mathrm{B} = 14\ \mathrm{GB}", display=False)
    assert "<mtext>B</mtext>" in out
    assert re.search(r'<mi mathvariant="normal">G</mi>', out)

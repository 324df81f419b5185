"""The symbolic model and the code generated from it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from gpumem import codegen, symbolic
from gpumem._generated import formulas as fx


def test_generated_module_is_current() -> None:
    committed = codegen.TARGET.read_text(encoding="utf-8")
    assert committed == codegen.render(), "run: python -m gpumem.codegen"


def test_codegen_check_flag_agrees() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gpumem.codegen", "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_ceil_div_is_exact_at_divisibility_edges() -> None:
    # 49 / 49 must be exactly 1, 50 / 49 exactly 2: no floating point in the generated code.
    assert fx._ceil_div(49, 49) == 1
    assert fx._ceil_div(50, 49) == 2
    assert fx.kv_values_gqa(n_kv=8, d_h=128, N_tp=3) == 2 * 3 * 128
    assert symbolic.CeilDiv(sp.Integer(8), sp.Integer(3)) == 3


def _exact(name: str, values: dict[str, int]) -> sp.Expr:
    formula = symbolic.FORMULAS[name]
    subs = {
        sp.Symbol(k) if k not in symbolic.SYMBOLS else symbolic.SYMBOLS[k].symbol: v
        for k, v in values.items()
    }
    return formula.rhs.subs(subs)


sizes = st.integers(min_value=1, max_value=10**6)


@given(
    P=sizes,
    L=st.integers(1, 200),
    tp=st.integers(1, 16),
    pp=st.integers(1, 16),
    dp=st.integers(1, 64),
    s=sizes,
    w=sizes,
    n_kv=st.integers(1, 128),
    z=st.integers(0, 1),
)
def test_generated_code_equals_symbolic_form(P, L, tp, pp, dp, s, w, n_kv, z) -> None:
    cases = {
        "weights": {"P": P, "b_w": 2, "N_dp": dp, "N_tp": tp, "N_pp": pp, "z_3": z},
        "kv_values_gqa": {"n_kv": n_kv, "d_h": 128, "N_tp": tp},
        "kv_cache": {
            "L": L,
            "L_w": L // 2,
            "w": w,
            "B": 3,
            "s": s,
            "b_kv": 2,
            "N_pp": pp,
            "e_kv": 256,
        },
    }
    for name, values in cases.items():
        generated = getattr(fx, name)(**values)
        exact = _exact(name, values)
        if exact.is_Integer:
            assert generated == int(exact)
        else:
            assert float(generated) == pytest.approx(float(exact), rel=1e-12)


def test_every_formula_is_generated_with_its_arguments() -> None:
    for name, formula in symbolic.FORMULAS.items():
        function = getattr(fx, name)
        code = function.__code__
        assert code.co_varnames[: code.co_argcount] == formula.arguments


def test_latex_uses_symbol_names() -> None:
    text = symbolic.latex("kv_values_gqa")
    assert "n_{kv}" in text and "d_h" in text and r"\lceil" in text


def test_substitute_worked_example_7b_fp16() -> None:
    # 7 billion parameters × 2 bytes = 14 GB, one GPU.
    value = symbolic.substitute(
        "weights", {"P": 7 * 10**9, "b_w": 2, "N_dp": 1, "N_tp": 1, "N_pp": 1, "z_3": 0}
    )
    assert value == 14 * 10**9

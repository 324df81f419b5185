"""The JavaScript printed from the symbolic model: current, and equal to the generated Python
(value and type) on random inputs, including ints beyond 2**53 and divisibility edges."""

from __future__ import annotations

import json
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from gpumem import jsgen, symbolic
from gpumem._generated import formulas as fx

RUNNER = Path(__file__).resolve().parent / "node" / "formula_calls.js"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed (apt-get nodejs)")


def test_generated_module_is_current() -> None:
    committed = jsgen.TARGET.read_text(encoding="utf-8")
    assert committed == jsgen.render(), "run: python -m gpumem.jsgen"


def test_jsgen_check_flag_agrees() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gpumem.jsgen", "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_printer_keeps_integer_arithmetic_exact() -> None:
    n = sp.Symbol("n", integer=True, nonnegative=True)
    printer = jsgen.JavaScriptPrinter()
    assert printer.doprint(symbolic.CeilDiv(n, 49)) == "$ceil_div(n, 49n)"
    # A rational is an exact quotient of two ints, never a rounded decimal.
    assert printer.doprint(n / 49) == "$mul($div(1n, 49n), n)"
    assert printer.doprint(sp.Max(n, 2 * n, 7)) == "$max(7n, $mul(2n, n))"
    with pytest.raises(ValueError, match="default"):
        printer.doprint(sp.Piecewise((1, n < 3)))


def test_printer_refuses_what_it_cannot_mirror() -> None:
    with pytest.raises(ValueError, match="JavaScript"):
        jsgen._Translator().expr(jsgen.ast.parse("math.sqrt(x)", mode="eval").body)
    with pytest.raises(ValueError, match="JavaScript name"):
        jsgen._identifier("new")


def _shown(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(value)
    if isinstance(value, int):
        return f"int:{value}"
    return "float:" + struct.pack(">d", value).hex()


def _python(name: str, args: list[object]) -> str:
    function = getattr(fx, name)
    try:
        return _shown(function(*args))
    except ZeroDivisionError:
        return "error"


def _node(calls: list[tuple[str, list[object]]]) -> list[str]:
    tagged = [
        [name, [{"int": str(a)} if isinstance(a, int) else a for a in args]] for name, args in calls
    ]
    run = subprocess.run(
        [NODE, str(RUNNER)],
        input=json.dumps({"calls": tagged}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.splitlines()


def _value(rng: random.Random, integer: bool) -> object:
    """An int (small, large, or beyond 2**53) or, for a non-integer symbol, maybe a float."""
    if not integer and rng.random() < 0.5:
        return rng.choice([0.0, 0.5, 2.0, 4.0, 1.2, rng.random() * 8, rng.uniform(0, 1e6)])
    return rng.choice(
        [rng.randint(0, 4), rng.randint(1, 200), rng.randint(1, 10**6), rng.randint(1, 2**62)]
    )


def _check(calls: list[tuple[str, list[object]]], python) -> None:
    got = _node(calls)
    expected = [python(name, args) for name, args in calls]
    wrong = [(c, e, g) for c, e, g in zip(calls, expected, got, strict=True) if e != g]
    assert not wrong, f"{len(wrong)} of {len(calls)} differ, e.g. {wrong[:3]}"


@needs_node
def test_every_formula_equals_python_value_and_type() -> None:
    rng = random.Random(11)
    calls = []
    for name, formula in symbolic.FORMULAS.items():
        for _ in range(300):
            args = []
            for arg in formula.arguments:
                integer = arg in symbolic.SYMBOLS and bool(symbolic.SYMBOLS[arg].symbol.is_integer)
                # ZeRO and FSDP2 flags are 0 or 1: N_dp ** z is the only power of the model.
                zero = arg in ("z_1", "z_2", "z_3", "y_f")
                args.append(rng.randint(0, 1) if zero else _value(rng, integer))
            calls.append((name, args))
    _check(calls, _python)


def _runtime(name: str, args: list[object]) -> str:
    operations = {
        "$div": lambda a, b: a / b,
        "$floordiv": lambda a, b: a // b,
        "$ceil_div": fx._ceil_div,
        "$pow": lambda a, b: a**b,
        "$max": lambda *a: fx._max(*a),
        "$min": fx._min,
    }
    try:
        return _shown(operations[name](*args))
    except ZeroDivisionError:
        return "error"


@needs_node
def test_runtime_keeps_python_number_semantics() -> None:
    rng = random.Random(53)
    calls: list[tuple[str, list[object]]] = []
    for _ in range(2000):  # int / int: the correctly rounded quotient at any size
        a, b = rng.randint(-(2**200), 2**200), rng.randint(1, 2 ** rng.randint(1, 120))
        calls.append(("$div", [a, rng.choice([b, -b])]))
    for k in range(1, 80):  # ties and near-ties of rounding to 53 bits
        for a in (2**53 + 1, 2**54 + 2, 2**53 + 3, 3 * 2**60 + 1):
            calls.append(("$div", [a << k, 1 << k]))
            calls.append(("$div", [(a << k) + 1, 1 << k]))
    for _ in range(1000):  # floor division of floats and ints, either sign
        x, y = rng.uniform(-1e6, 1e6), rng.choice([rng.uniform(-50, 50), 7.0, -3.0])
        calls.append(("$floordiv", [x, y]))
        calls.append(("$ceil_div", [rng.randint(-(10**20), 10**20), rng.randint(1, 97)]))
    calls += [("$pow", [n, z]) for n in (1, 2, 3, 7, 2**40, 10**20) for z in (0, 1, 2)]
    calls += [("$pow", [n, 0]) for n in (0, 3, 2.5)]
    calls += [("$max", [3, 3.0]), ("$max", [3.0, 3]), ("$min", [2, 2.0]), ("$div", [1, 0])]
    calls += [("$div", [0, -(2**60)]), ("$floordiv", [-0.0, 5.0]), ("$floordiv", [5, 0.0])]
    _check(calls, _runtime)

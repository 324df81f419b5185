"""Print the symbolic model (:mod:`gpumem.symbolic`) as JavaScript for the site's calculator.

``python -m gpumem.jsgen`` rewrites ``gpumem/_generated/formulas.js``; ``--check`` exits 1
when the committed file differs, and a test runs it, so the page cannot drift from the model.

The JavaScript follows the generated Python (:mod:`gpumem.codegen`) operation for operation:
:class:`JavaScriptPrinter` prints an expression as the Python printer does, then writes each
node of that Python expression as a call to a small runtime that keeps Python's number
semantics. A Python ``int`` is a JavaScript ``BigInt`` (exact at any size) and a ``float`` a
``Number`` (the same IEEE double); ``a / b`` of two ints is the correctly rounded quotient, as
in Python, and ``//``, ``min`` and ``max`` keep Python's rules. So both languages evaluate the
same operations in the same order on the same kinds of numbers, and agree to the byte.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import sympy as sp

from . import codegen

TARGET = Path(__file__).parent / "_generated" / "formulas.js"

#: Python helpers of the generated code and builtins, and their runtime counterparts.
_CALLS = {
    "_ceil_div": "$ceil_div",
    "_min": "$min",
    "_max": "$max",
    "min": "$min",
    "max": "$max",
    "math.ceil": "$ceil",
    "math.floor": "$floor",
}
_OPERATORS = {
    ast.Add: "$add",
    ast.Sub: "$sub",
    ast.Mult: "$mul",
    ast.Div: "$div",
    ast.FloorDiv: "$floordiv",
    ast.Pow: "$pow",
}
_COMPARISONS = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
_RESERVED = set(
    """break case catch class const continue debugger default delete do else enum export extends
    false finally for function if import in instanceof let new null return super switch this
    throw true try typeof var void while with yield await arguments eval undefined NaN
    Infinity""".split()
)

#: Python's number semantics in JavaScript: BigInt for int, Number for float.
RUNTIME = r"""
const TWO53 = 2n ** 53n;

function $isInt(x) {
  return typeof x === "bigint";
}

/** float(x) as Python computes it (an int rounds to the nearest double, ties to even). */
function $float(x) {
  return typeof x === "bigint" ? Number(x) : x;
}

function $add(a, b) {
  return $isInt(a) && $isInt(b) ? a + b : $float(a) + $float(b);
}

function $sub(a, b) {
  return $isInt(a) && $isInt(b) ? a - b : $float(a) - $float(b);
}

function $mul(a, b) {
  return $isInt(a) && $isInt(b) ? a * b : $float(a) * $float(b);
}

function $neg(a) {
  return -a;
}

function $zeroDivision() {
  return new RangeError("division by zero");
}

function $abs(x) {
  return x < 0n ? -x : x;
}

/** x * 2**e, exactly (no overflow or subnormal results in this model). */
function $ldexp(x, e) {
  for (; e > 1000; e -= 1000) x *= 2 ** 1000;
  for (; e < -1000; e += 1000) x *= 2 ** -1000;
  return x * 2 ** e;
}

/** a / b: Python's true division; of two ints the correctly rounded quotient. */
function $div(a, b) {
  if ($isInt(a) && $isInt(b)) {
    if (b === 0n) throw $zeroDivision();
    if ($abs(a) <= TWO53 && $abs(b) <= TWO53) return Number(a) / Number(b);
    const negative = a < 0n !== b < 0n;
    let n = $abs(a);
    let d = $abs(b);
    if (n === 0n) return negative ? -0 : 0;
    // Scale so that the integer quotient has 55 or 56 bits: two bits below a double's 53,
    // the last one sticky, so that Number() rounds it as the exact quotient would round.
    const shift = n.toString(2).length - d.toString(2).length - 55;
    if (shift >= 0) d <<= BigInt(shift);
    else n <<= BigInt(-shift);
    let q = n / d;
    if (q * d !== n) q |= 1n;
    const x = $ldexp(Number(q), shift);
    return negative ? -x : x;
  }
  const y = $float(b);
  if (y === 0) throw $zeroDivision();
  return $float(a) / y;
}

/** a // b: Python's floor division (CPython's algorithm for floats). */
function $floordiv(a, b) {
  if ($isInt(a) && $isInt(b)) {
    if (b === 0n) throw $zeroDivision();
    const q = a / b;
    return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
  }
  const x = $float(a);
  const y = $float(b);
  if (y === 0) throw $zeroDivision();
  const mod = x % y;
  let div = (x - mod) / y;
  if (mod && y < 0 !== mod < 0) div -= 1;
  if (!div) return Object.is(x / y, -0) || x / y < 0 ? -0 : 0;
  let floor = Math.floor(div);
  if (div - floor > 0.5) floor += 1;
  return floor;
}

function $ceil_div(a, b) {
  return $neg($floordiv($neg(a), b));
}

/** a ** b for an int exponent >= 0 (the model raises N_dp to a ZeRO flag): an int stays an
 * int; a float to the power 0 or 1 is exact, as C's pow is. Other powers are refused: C's pow
 * is not correctly rounded, so no other language can promise its last bit. */
function $pow(a, b) {
  if ($isInt(a) && $isInt(b) && b >= 0n) return a ** b;
  const y = $float(b);
  if (y === 0) return 1;
  if (y === 1) return $float(a);
  throw new Error(`pow(${a}, ${b}): only int ** int >= 0 and exponents 0 and 1 are mirrored`);
}

function $min(a, b) {
  return a <= b ? a : b;
}

/** max(*args): the first of the largest, as Python's max returns it. */
function $max(...args) {
  let best = args[0];
  for (const x of args.slice(1)) if (x > best) best = x;
  return best;
}

/** math.ceil: an int. */
function $ceil(x) {
  return $isInt(x) ? x : BigInt(Math.ceil(x));
}

/** math.floor: an int. */
function $floor(x) {
  return $isInt(x) ? x : BigInt(Math.floor(x));
}

function $truth(x) {
  return x != 0;
}
"""

_RUNTIME_EXPORTS = (
    "$float $add $sub $mul $neg $div $floordiv $ceil_div $pow $min $max $ceil $floor".split()
)

_HEADER = """\
/* Formulas of the memory model as JavaScript, with Python's number semantics.
 *
 * Generated by `python -m gpumem.jsgen` from gpumem.symbolic (SymPy {version}), operation for
 * operation as gpumem/_generated/formulas.py computes them; do not edit by hand.
 * A Python int is a BigInt here, a float a Number.
 */
(function (root, factory) {{
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.gpumemFormulas = factory();
}})(typeof self !== "undefined" ? self : this, function () {{
"use strict";
"""


class _Translator:
    """Python expression trees (of the generated code) as JavaScript runtime calls."""

    def expr(self, node: ast.expr) -> str:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise ValueError(f"cannot print {ast.unparse(node)!r} as JavaScript")
        return method(node)

    def test(self, node: ast.expr) -> str:
        """A condition, as a JavaScript boolean."""
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise ValueError(f"chained comparison {ast.unparse(node)!r}")
            op = _COMPARISONS[type(node.ops[0])]
            return f"({self.expr(node.left)} {op} {self.expr(node.comparators[0])})"
        if isinstance(node, ast.BoolOp):
            joiner = " && " if isinstance(node.op, ast.And) else " || "
            return "(" + joiner.join(self.test(v) for v in node.values) + ")"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return f"!{self.test(node.operand)}"
        return f"$truth({self.expr(node)})"

    def _BinOp(self, node: ast.BinOp) -> str:
        function = _OPERATORS.get(type(node.op))
        if function is None:
            raise ValueError(f"operator of {ast.unparse(node)!r} is not supported")
        return f"{function}({self.expr(node.left)}, {self.expr(node.right)})"

    def _UnaryOp(self, node: ast.UnaryOp) -> str:
        if isinstance(node.op, ast.USub):
            return f"$neg({self.expr(node.operand)})"
        if isinstance(node.op, ast.UAdd):
            return self.expr(node.operand)
        raise ValueError(f"operator of {ast.unparse(node)!r} is not supported")

    def _Constant(self, node: ast.Constant) -> str:
        value = node.value
        if isinstance(value, bool) or value is None:
            return json.dumps(value)
        if isinstance(value, int):
            return f"{value}n"
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"{value!r} has no JavaScript literal here")
            return repr(value)
        if isinstance(value, str):
            return json.dumps(value, ensure_ascii=False)
        raise ValueError(f"constant {value!r} is not supported")

    def _Name(self, node: ast.Name) -> str:
        return _identifier(node.id)

    def _Call(self, node: ast.Call) -> str:
        name = ast.unparse(node.func)
        if name not in _CALLS or node.keywords:
            raise ValueError(f"call {ast.unparse(node)!r} has no JavaScript counterpart")
        return f"{_CALLS[name]}({', '.join(self.expr(a) for a in node.args)})"

    def _IfExp(self, node: ast.IfExp) -> str:
        return f"({self.test(node.test)} ? {self.expr(node.body)} : {self.expr(node.orelse)})"

    def _Tuple(self, node: ast.Tuple | ast.List) -> str:
        return "[" + ", ".join(self.expr(e) for e in node.elts) + "]"

    _List = _Tuple

    def _Dict(self, node: ast.Dict) -> str:
        items = []
        for key, value in zip(node.keys, node.values, strict=True):
            if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                raise ValueError(f"dictionary key {ast.unparse(key)!r} is not a string")
            items.append(f"{json.dumps(key.value)}: {self.expr(value)}")
        return "{" + ", ".join(items) + "}"


def _identifier(name: str) -> str:
    if name in _RESERVED or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"{name!r} is not usable as a JavaScript name")
    return name


class JavaScriptPrinter(codegen._Printer):
    """SymPy printer of JavaScript that computes what the generated Python computes.

    The expression is printed by the Python printer of :mod:`gpumem.codegen` (the same
    order of operands, exact rationals and integer helpers), and each node of that Python
    expression becomes a call of the runtime in :data:`RUNTIME`.
    """

    def doprint(self, expr: sp.Expr, assign_to: object = None) -> str:  # noqa: ARG002
        python = super().doprint(expr)
        return _Translator().expr(ast.parse(python, mode="eval").body)


def _functions(module: ast.Module) -> list[ast.FunctionDef]:
    """The public functions of generated Python, each a docstring and one ``return``."""
    functions = []
    for node in module.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        body = [n for n in node.body if not _is_docstring(n)]
        if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
            raise ValueError(f"generated function {node.name} is not a single return")
        functions.append(node)
    return functions


def _tables(module: ast.Module) -> list[tuple[str, ast.expr]]:
    """The module-level tables of generated Python (``ORDER = {...}``): name and value."""
    return [
        (node.targets[0].id, node.value)
        for node in module.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    ]


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def render_function(node: ast.FunctionDef) -> str:
    """JavaScript of one generated Python function."""
    args = ", ".join(_identifier(a.arg) for a in node.args.args)
    doc = ast.get_docstring(node) or ""
    body = _Translator().expr(node.body[-1].value)  # type: ignore[attr-defined]
    comment = doc.replace("*/", "* /")
    return f"\n/** {comment} */\nfunction {node.name}({args}) {{\n  return {body};\n}}\n"


def render() -> str:
    """Source of the whole generated JavaScript module."""
    module = ast.parse(codegen.render())
    functions = _functions(module)
    parts = [_HEADER.format(version=sp.__version__), RUNTIME]
    parts += [render_function(node) for node in functions]
    table = ",\n".join(
        f"    {n.name}: [{n.name}, {json.dumps([a.arg for a in n.args.args])}]" for n in functions
    )
    tables = ",\n".join(
        f"    {_identifier(name)}: {_Translator().expr(value)}" for name, value in _tables(module)
    )
    runtime = ", ".join(f'"{name}": {name}' for name in _RUNTIME_EXPORTS)
    parts.append(
        "\nreturn {\n"
        f'  sympy: "{sp.__version__}",\n'
        "  /** name: [function, names of its arguments] */\n"
        f"  formulas: {{\n{table},\n  }},\n"
        "  /** The tables printed with the formulas (evaluation order, phases, components). */\n"
        f"  tables: {{\n{tables},\n  }},\n"
        f"  runtime: {{ {runtime} }},\n"
        "};\n});\n"
    )
    return "".join(parts)


def main() -> int:
    """Rewrite the generated module; with ``--check``, exit 1 if it is out of date."""
    return codegen.write_or_check(TARGET, render(), "python -m gpumem.jsgen")


if __name__ == "__main__":
    raise SystemExit(main())

"""The expression language: parsed from Python syntax into a small whitelisted tree."""
from __future__ import annotations

import ast
import difflib
import math
from fractions import Fraction
from typing import NamedTuple

from .errors import ExprError
from .i18n import _

MAX_SOURCE = 2000
MAX_NODES = 400


class Operator(NamedTuple):
    """A binary operator of the language: Python's syntax for it, how it is written back, and
    how tightly it binds (higher binds tighter; a unary minus is 3)."""

    syntax: type
    symbol: str
    precedence: int


OPERATORS = {
    "add": Operator(ast.Add, "+", 1),
    "sub": Operator(ast.Sub, "-", 1),
    "mul": Operator(ast.Mult, "*", 2),
    "div": Operator(ast.Div, "/", 2),
    "matmul": Operator(ast.MatMult, "@", 2),
    "pow": Operator(ast.Pow, "**", 4),
}
BINARY = {operator.syntax: name for name, operator in OPERATORS.items()}
# every other op is a call of one of these, with one argument
FUNCTIONS = ("sum", "mean", "exp", "log", "sqrt", "abs", "sin", "cos", "tanh",
             "sigmoid", "relu", "T")


class Expr(NamedTuple):
    """One node of an expression: an op over argument nodes, a name, or a constant."""

    op: str                      # "const", "name", "neg", an OPERATORS key or a FUNCTIONS name
    args: tuple["Expr", ...] = ()
    name: str | None = None      # for "name"
    value: Fraction | None = None  # for "const"

    def __str__(self) -> str:
        return render(self)


def _prec(e: Expr) -> int:
    if e.op in OPERATORS:
        return OPERATORS[e.op].precedence
    return 3 if e.op == "neg" else 5


def _number(v: Fraction) -> str:
    """A constant as written: an integer, a short decimal, or a parenthesised fraction."""
    if v.denominator == 1:
        return str(v.numerator)
    d = v.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d == 1:
        text = f"{float(v)!r}"
        if Fraction(text) == v and len(text) <= 12:
            return text
    return f"({v})"


def render(e: Expr) -> str:
    """Source text for a node, with only the parentheses it needs."""
    if e.op == "const":
        return _number(e.value)
    if e.op == "name":
        return e.name
    if e.op == "neg":
        inner = render(e.args[0])
        return f"-({inner})" if _prec(e.args[0]) < 4 else f"-{inner}"
    if e.op in OPERATORS:
        a, b = e.args
        p = _prec(e)
        left, right = render(a), render(b)
        # ** is right-associative; the others are left-associative
        if _prec(a) < p or (e.op == "pow" and _prec(a) <= p):
            left = f"({left})"
        if _prec(b) < p or (e.op != "pow" and _prec(b) == p and e.op in ("sub", "div", "matmul")):
            right = f"({right})"
        return f"{left} {OPERATORS[e.op].symbol} {right}" if e.op != "pow" else f"{left}**{right}"
    return f"{e.op}({', '.join(render(a) for a in e.args)})"


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return _(" (did you mean '{close}'?)").format(close=close[0]) if close else ""


def parse(source: str, names) -> Expr:
    """Parse `source`, allowing only the given names; raise ExprError on anything else."""
    if not isinstance(source, str) or not source.strip():
        raise ExprError(_("expected an expression, got nothing"))
    if len(source) > MAX_SOURCE:
        raise ExprError(_("expression is {n} characters long; the limit is {max}").format(
            n=len(source), max=MAX_SOURCE))
    names = set(names)
    if "^" in source:       # never part of the language: a power written as in maths
        meant = " ".join(source.split()).replace("^", "**")
        raise ExprError(_("use ** for powers ({example}), ^ is not a power").format(
            example=meant if len(meant) <= 40 else "x**2"))
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        said = (_("syntax error at column {column} in {source}") if exc.offset
                else _("syntax error in {source}"))
        raise ExprError(said.format(column=exc.offset, source=repr(source.strip()))) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError(_("expression is nested too deeply")) from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExprError(_("expression has {n} parts; the limit is {max}").format(
            n=count, max=MAX_NODES))
    try:
        return _convert(tree.body, names)
    except RecursionError:
        raise ExprError(_("expression is nested too deeply")) from None


def _convert(node: ast.AST, names: set[str]) -> Expr:
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ExprError(_("only numbers are allowed, not {type} {value}").format(
                type=type(v).__name__, value=repr(v)))
        if isinstance(v, float) and not math.isfinite(v):    # 1e999 reads as infinity
            raise ExprError(_("a number is too large: past about 1.8e308 it has no float value"))
        return Expr("const", value=Fraction(repr(v)) if isinstance(v, float) else Fraction(v))
    if isinstance(node, ast.Name):
        if node.id not in names:
            known = sorted(names)
            hint = _suggest(node.id, names)
            if hint or not known:
                raise ExprError(_("unknown name '{name}'{suggestion}").format(
                    name=node.id, suggestion=hint))
            raise ExprError(_("unknown name '{name}'; known names: {names}").format(
                name=node.id, names=", ".join(known)))
        return Expr("name", name=node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        return Expr(BINARY[type(node.op)], (_convert(node.left, names), _convert(node.right, names)))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _convert(node.operand, names)
        if isinstance(node.op, ast.UAdd):
            return inner
        if inner.op == "const":
            return Expr("const", value=-inner.value)
        return Expr("neg", (inner,))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExprError(_("only calls of the built-in functions are allowed "
                              "({functions})").format(functions=", ".join(FUNCTIONS)))
        fn = node.func.id
        if fn not in FUNCTIONS:
            raise ExprError(_("unknown function '{name}'{suggestion}; allowed: {functions}")
                            .format(name=fn, suggestion=_suggest(fn, FUNCTIONS),
                                    functions=", ".join(FUNCTIONS)))
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise ExprError(_("{name}() takes exactly one argument").format(name=fn))
        return Expr(fn, (_convert(node.args[0], names),))
    what = {ast.Attribute: _("attribute access"), ast.Subscript: _("subscripts"),
            ast.Lambda: _("lambdas"), ast.ListComp: _("comprehensions"),
            ast.GeneratorExp: _("comprehensions"), ast.SetComp: _("comprehensions"),
            ast.DictComp: _("comprehensions"), ast.Compare: _("comparisons"),
            ast.BoolOp: _("boolean operators"), ast.IfExp: _("conditional expressions"),
            ast.JoinedStr: _("strings"), ast.List: _("list literals"), ast.Tuple: _("tuples"),
            ast.Dict: _("dict literals"), ast.Set: _("set literals"),
            ast.NamedExpr: _("assignments"), ast.Await: _("await"),
            ast.Starred: _("starred arguments")}.get(type(node))
    if isinstance(node, ast.BinOp):
        what = _("the operator {name}").format(name=type(node.op).__name__)
    if isinstance(node, ast.UnaryOp):
        what = _("the operator {name}").format(name=type(node.op).__name__)
    raise ExprError(_("{what} not allowed in an expression").format(
        what=what or type(node).__name__))


def names_in(e: Expr) -> list[str]:
    """Names the expression uses, in first-use order."""
    seen: dict[str, None] = {}
    out: list[str] = []
    def walk(n: Expr) -> None:
        if n.op == "name" and n.name not in seen:
            seen[n.name] = None
            out.append(n.name)
        for a in n.args:
            walk(a)
    walk(e)
    return out

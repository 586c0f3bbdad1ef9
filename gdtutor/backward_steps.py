"""The backward pass edge by edge: at each node, what arrives from each node that reads it
(upstream gradient × local derivative), and how those shares add up to the node's gradient.

The shares are computed with the numpy backend's own gradient functions (gdtutor/numpy_ops.py)
on the graph's values, in the order the backend accumulates them, so that folding a node's
shares with `+` gives exactly the backend's gradient, bit for bit in float and equal in exact
arithmetic. Also here: the names a lesson gives its nodes, and the text of one backward step,
shared by the graph screen and the transcript.
"""
from __future__ import annotations

import re
from fractions import Fraction
from typing import Callable, Iterable, NamedTuple, Sequence

import numpy as np

from .i18n import _
from .numbers import quiet_arithmetic
from .numpy_ops import BACKWARD, ELEMENTWISE, gradient_args, ones_like, unbroadcast

# ops whose local derivative is a number per element (shown with its value); the others
# (matmul, sum, mean, T) are shown as a formula only
ELEMENTWISE_OPS = frozenset(ELEMENTWISE) | {"neg", "exp", "log", "sqrt", "abs", "sin", "cos",
                                            "tanh", "sigmoid", "relu"}
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_WORD = re.compile(r"[\w.]+")


class Contribution(NamedTuple):
    """One share of a node's gradient: what arrives along the edge from `parent`."""

    parent: str                 # id of the node that reads this one
    arg: int                    # which argument of the parent this node is
    upstream: np.ndarray        # ∂output/∂parent
    local: str                  # the local derivative ∂parent/∂node as a formula: 2x, y, Xᵀ
    local_value: np.ndarray | None   # its value, where it is a number per element
    formula: str                # where the upstream and the local go: "{g} · {l}", "{l} · {g}"
    product: np.ndarray         # upstream × local, in this node's shape


class Step(NamedTuple):
    """One node of the backward pass: its gradient and the shares it is the sum of (in the
    order the backend adds them); the output has no shares: its gradient is 1."""

    id: str
    grad: np.ndarray
    shares: tuple[Contribution, ...]


def _values(nodes) -> dict[str, np.ndarray]:
    out = {}
    for n in nodes:
        value = np.asarray(n.value)
        out[n.id] = value.reshape(tuple(n.shape)) if value.shape != tuple(n.shape) else value
    return out


def _exact(nodes) -> bool:
    return any(np.asarray(n.value).dtype == object for n in nodes)


def node_names(nodes, names: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """What to call each node: an input or datum by its name, a constant by its number, an
    operation by the name the lesson gives it (`names`: display name -> the sub-expression's
    source as the graph writes it), else by its source text."""
    given = {label: name for name, label in names}
    return {n.id: given.get(n.label, n.label) if n.inputs else (n.label or n.id) for n in nodes}


def _one_call(name: str) -> bool:
    """Whether `name` is one call, `sum(v)`, or one parenthesised whole, `(a + b)`."""
    start = name.find("(")
    if start < 0 or not name.endswith(")") or not _WORD.fullmatch(name[:start] or "x"):
        return False
    depth = 0
    for i, ch in enumerate(name[start:], start):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            return i == len(name) - 1
    return False


def wrap(name: str) -> str:
    """A name inside a formula: parenthesised unless it is one token (x, 2, x_1, sum(v))."""
    return name if _WORD.fullmatch(name) or _one_call(name) else f"({name})"


def derivative(of: str, by: str) -> str:
    """∂of/∂by, each side wrapped when it is more than one token."""
    return f"∂{wrap(of)}/∂{wrap(by)}"


def _power(base: str, exponent) -> str:
    if exponent == 1:
        return base
    e = Fraction(exponent)
    if e.denominator == 1:
        return wrap(base) + str(e.numerator).translate(SUPERSCRIPT)
    return f"{wrap(base)}^({e})"


def _constant(node) -> Fraction | None:
    """A node's value as a short fraction where it is one number the inputs do not change
    (an exponent such as 2, 3 or 1/2), else None."""
    if node.grad is not None or tuple(node.shape):
        return None
    value = np.asarray(node.value).reshape(())[()]
    if isinstance(value, Fraction):
        return value if len(str(value)) <= 8 else None
    near = Fraction(float(value)).limit_denominator(100)
    return near if float(near) == float(value) else None


def local_formula(op: str, k: int, args: Sequence[str], arg_nodes, shape) -> tuple[str, str]:
    """(∂node/∂argument k as a formula in the arguments' names, where the upstream gradient
    and the local derivative go: "{g} · {l}" or, for a matrix product, "{l} · {g}")."""
    a = args[0]
    b = args[1] if len(args) > 1 else ""
    both = "{g} · {l}"
    if op in ("add", "sum"):
        return "1", both
    if op == "sub":
        return ("1" if k == 0 else "-1"), both
    if op == "neg":
        return "-1", both
    if op == "mul":
        return wrap(b if k == 0 else a), both
    if op == "div":
        return (f"1/{wrap(b)}" if k == 0 else f"-{wrap(a)}/{_power(b, 2)}"), both
    if op == "pow":
        c = _constant(arg_nodes[1])
        if k == 0 and c is not None:
            if c == 0:
                return "0", both
            if c == 1:
                return "1", both
            head = str(c) if c.denominator == 1 else f"({c})"
            return (f"{head}{wrap(a)}" if c == 2 else f"{head}{_power(a, c - 1)}"), both
        if k == 0:
            return f"{wrap(b)}·{wrap(a)}^({b} - 1)", both
        return f"{wrap(a)}^{wrap(b)}·ln {wrap(a)}", both
    if op == "matmul":
        return (f"{wrap(b)}ᵀ", both) if k == 0 else (f"{wrap(a)}ᵀ", "{l} · {g}")
    if op == "mean":
        size = int(np.prod(shape)) if len(shape) else 1
        return f"1/{size}", both
    if op == "T":
        return "ᵀ", "{g}{l}"
    return {
        "exp": f"exp({a})", "log": f"1/{wrap(a)}", "sqrt": f"1/(2·sqrt({a}))",
        "abs": f"sign({a})", "sin": f"cos({a})", "cos": f"-sin({a})",
        "tanh": f"1 - tanh({a})²", "sigmoid": f"σ({a})·(1 - σ({a}))", "relu": f"[{a} > 0]",
    }[op], both


def backward_steps(nodes, names: Iterable[tuple[str, str]] = ()) -> list[Step]:
    """Every node with a gradient, in the order the backward pass reaches it (reverse forward
    order), with the shares that arrive along each edge. `nodes`: a graph in forward order
    (gdtutor.backend.Node or gdtutor.api.GraphNode: id, op, label, inputs, shape, value,
    grad), evaluated by any backend; the shares are the numpy backend's arithmetic on its
    values. `names`: the lesson's node names, for the local derivatives' formulas."""
    nodes = list(nodes)
    if not nodes or nodes[-1].grad is None:
        return []
    with quiet_arithmetic():        # a division by zero is an inf on screen, not a warning
        return _shares(nodes, names)


def _shares(nodes: list, names) -> list[Step]:
    exact = _exact(nodes)
    values = _values(nodes)
    index = {n.id: i for i, n in enumerate(nodes)}
    names = node_names(nodes, names)
    wants = {n.id for n in nodes if n.grad is not None}
    one = Fraction(1) if exact else np.asarray(1, dtype=values[nodes[-1].id].dtype)
    value_at = [values[n.id] for n in nodes]
    grads: dict[str, np.ndarray] = {nodes[-1].id: ones_like(values[nodes[-1].id])}
    shares: dict[str, list[Contribution]] = {n.id: [] for n in nodes}
    for i in range(len(nodes) - 1, -1, -1):
        parent = nodes[i]
        g = grads.get(parent.id)
        if g is None or not parent.inputs:
            continue
        args = [index[a] for a in parent.inputs]
        arg_names = [names[a] for a in parent.inputs]
        for k, (a, fn) in enumerate(zip(args, BACKWARD[parent.op])):
            child = nodes[a]
            if child.id not in wants:
                continue
            sources, shaped = gradient_args(fn, tuple(args), i)
            operands = [value_at[j] for j in sources]
            extra = {"a_shape": np.shape(value_at[args[0]])} if shaped else {}
            product = fn(g, *operands, **extra)
            if exact:
                product = np.asarray(product, dtype=object)
            product = unbroadcast(product, np.shape(value_at[a]))
            local_value = None
            if parent.op in ELEMENTWISE_OPS:
                local_value = np.asarray(fn(one, *operands, **extra),
                                         dtype=object if exact else None)
            local, formula = local_formula(parent.op, k, arg_names,
                                           [nodes[j] for j in args], value_at[args[0]].shape)
            shares[child.id].append(Contribution(parent.id, k, g, local, local_value, formula,
                                                 product))
            grads[child.id] = product if child.id not in grads else grads[child.id] + product
    return [Step(n.id, grads[n.id], tuple(shares[n.id]))
            for n in reversed(nodes) if n.id in grads and n.id in wants]


# -- one step as text ----------------------------------------------------------------------


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def share_text(c: Contribution, output: str, names: dict[str, str],
               fmt: Callable[[object], str]) -> str:
    """`∂f/∂(x**3) · 3x² = 1 · 12 = 12`: the share as a formula, in numbers, and its value."""
    symbolic = c.formula.format(g=derivative(output, names[c.parent]), l=c.local)
    local = c.local if c.local_value is None else _paren(fmt(c.local_value))
    numeric = c.formula.format(g=_paren(fmt(c.upstream)), l=local)
    return f"{symbolic} = {numeric} = {fmt(c.product)}"


def step_lines(step: Step, nodes, names: dict[str, str],
               fmt: Callable[[object], str]) -> list[str]:
    """A backward step as lines: `∂y/∂x = ∂y/∂y · 2x = 1 · 2 = 2`; a node used more than once
    gets a line for each share (in the expression's order) and their sum: `∂f/∂x = 12 + 6 = 18`.
    `fmt` writes a value of any shape on one line."""
    output = names[nodes[-1].id]
    here = derivative(output, names[step.id])
    if not step.shares:
        return [f"{here} = {fmt(step.grad)}"]
    order = {n.id: i for i, n in enumerate(nodes)}
    shares = sorted(step.shares, key=lambda c: (order[c.parent], c.arg))
    if len(shares) == 1:
        return [f"{here} = {share_text(shares[0], output, names, fmt)}"]
    lines = [_("from {name}: {share}").format(name=names[c.parent],
                                               share=share_text(c, output, names, fmt))
             for c in shares]
    total = " + ".join(_paren(fmt(c.product)) if i else fmt(c.product)
                       for i, c in enumerate(shares))
    lines.append(f"{here} = {total} = {fmt(step.grad)}")
    return lines

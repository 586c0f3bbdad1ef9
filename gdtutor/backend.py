"""What every backend shares: the plan of an expression, the graph node record, the base class."""
from __future__ import annotations

from abc import ABC, abstractmethod
from fractions import Fraction
from typing import Callable, NamedTuple

import numpy as np

from .expr import Expr, render
from .i18n import _
from .model import Lesson


def checked_matmul(a, b):
    """`a @ b` for vectors and matrices, with the language's own words when shapes are wrong."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(_("@ needs arrays on both sides, not a scalar"))
    if a.ndim > 2 or b.ndim > 2:
        raise ValueError(_("@ works on vectors and matrices only"))
    return a @ b


def shape_error(op: str, label: str, shapes, exc: Exception) -> str:
    """The message for an op its operands' shapes do not fit: the operator and both shapes
    (`'@' cannot multiply shapes (3, 2) and (3,)`), then where in the expression."""
    both = len(shapes) == 2 and all(len(shape) >= 1 for shape in shapes)
    if op == "matmul" and both and len(shapes[0]) <= 2 and len(shapes[1]) <= 2:
        return _("'@' cannot multiply shapes {a} and {b} (in '{label}')").format(
            a=shapes[0], b=shapes[1], label=label)
    if op in ELEMENTWISE and both:
        return (_("'{op}' cannot combine shapes {a} and {b} (in '{label}')").format(
            op=ELEMENTWISE[op], a=shapes[0], b=shapes[1], label=label))
    return _("cannot compute '{label}' on shapes {shapes}: {error}").format(
        label=label, shapes=_(" and ").join(map(str, shapes)), error=exc)


ELEMENTWISE = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


# The operators mean the same on numpy arrays, torch tensors and plain numbers.
ARITHMETIC = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "matmul": checked_matmul,
    "neg": lambda a: -a,
    "T": lambda a: a.T,
}


class Node(NamedTuple):
    """One node of the computation graph, as evaluated at some weights."""

    id: str                    # a name ("x", "w", "X") or "v<i>"
    op: str                    # "param", "data", "const", or the op of the expression
    label: str                 # source text of the sub-expression
    inputs: tuple[str, ...]    # ids of the argument nodes
    shape: tuple[int, ...]
    value: np.ndarray          # 0-d for scalars; object array of Fraction in exact mode
    grad: np.ndarray | None    # ∂output/∂node; None where no parameter flows into the node
    grad_fn: str | None = None  # torch's name for the backward function


class PlanNode(NamedTuple):
    """One node of a plan: the op, its argument positions, and its leaf payload."""

    id: str
    op: str
    label: str
    args: tuple[int, ...]
    name: str | None = None
    value: Fraction | None = None
    needs_grad: bool = False   # a parameter flows into it


def build_plan(expression: Expr, params) -> list[PlanNode]:
    """The expression's nodes in forward order; each name becomes one shared leaf."""
    params = set(params)
    steps: list[PlanNode] = []
    by_name: dict[str, int] = {}

    def visit(e: Expr) -> int:
        if e.op == "name":
            if e.name not in by_name:
                by_name[e.name] = len(steps)
                op = "param" if e.name in params else "data"
                steps.append(PlanNode(e.name, op, e.name, (), name=e.name, needs_grad=op == "param"))
            return by_name[e.name]
        args = tuple(visit(a) for a in e.args)
        idx = len(steps)
        needs = any(steps[a].needs_grad for a in args)
        steps.append(PlanNode(f"v{idx}", e.op, render(e), args, value=e.value, needs_grad=needs))
        return idx

    visit(expression)
    return steps


def param_layout(lesson: Lesson):
    """(name, shape, offset, size) for each parameter in the flat weight vector."""
    out, offset = [], 0
    for name, value in lesson.params:
        shape = np.shape(np.array(value, dtype=object)) if isinstance(value, tuple) else ()
        size = int(np.prod(shape)) if shape else 1
        out.append((name, tuple(shape), offset, size))
        offset += size
    return out


def weight_names(lesson: Lesson) -> list[str]:
    """A label for each flat weight, in the document's terms (w, or w1..wd and b)."""
    if lesson.linear is not None:
        d = len(lesson.linear.X[0])
        if lesson.linear.bias:
            feats = ["w"] if d == 2 else [f"w{i + 1}" for i in range(d - 1)]
            return feats + ["b"]
        return ["w"] if d == 1 else [f"w{i + 1}" for i in range(d)]
    names = []
    for name, shape, _, size in param_layout(lesson):
        if not shape:
            names.append(name)
        else:
            names.extend(f"{name}[{','.join(map(str, ix))}]" for ix in np.ndindex(*shape))
    return names


def initial_weights(lesson: Lesson) -> list[Fraction]:
    """The flat initial weights, exact."""
    flat: list[Fraction] = []
    for _, value in lesson.params:
        flat.extend(np.array(value, dtype=object).reshape(-1).tolist())
    return flat


class Backend(ABC):
    """Evaluates one lesson's expression and its gradient with respect to the flat weights."""

    name: str

    def __init__(self, lesson: Lesson, dtype: str, data: Callable, literal: Callable) -> None:
        """The plan, where each parameter goes in it and in the flat weights, and every node
        with no parameter under it computed once (`data` converts a lesson constant such as
        X, y or m, `literal` a number written in the expression; both to this backend's
        numbers). A subclass sets what its `_apply` needs before calling this."""
        self.lesson = lesson
        self.dtype = dtype
        self.plan = build_plan(lesson.expression, [n for n, _ in lesson.params])
        self.layout = param_layout(lesson)
        self.size = sum(size for *_, size in self.layout)
        index = {s.name: i for i, s in enumerate(self.plan) if s.op == "param"}
        # (node, offset, size, shape) of each parameter; a parameter the expression never
        # uses has no node (-1), and a zero gradient
        self._param_slots = [(index.get(name, -1), off, size, shape)
                             for name, shape, off, size in self.layout]
        # the nodes a parameter flows into, in forward order: all that changes with w
        self.order = [i for i, s in enumerate(self.plan) if s.needs_grad and s.op != "param"]
        with np.errstate(all="ignore"):   # an overflow here is an inf, not a warning on stderr
            self.fixed: dict = self._fold(data, literal)
        # every node's value, with the changing ones still to fill in
        self._template = [self.fixed.get(i) for i in range(len(self.plan))]

    @abstractmethod
    def weights(self, values) -> object:
        """The flat weight vector in this backend's number type, from exact values."""

    @abstractmethod
    def loss_and_grad(self, w):
        """The output at flat weights w, and ∂output/∂w flat: the hot path of stepping."""

    @abstractmethod
    def _apply(self, node: PlanNode, args):
        """The node's op on its arguments' values, with the language's own error messages."""

    def _fold(self, data, const) -> dict:
        """Every node with no parameter under it, computed once: it is the same at every step."""
        constants = dict(self.lesson.constants)
        fixed: dict = {}
        for i, s in enumerate(self.plan):
            if s.needs_grad:
                continue
            if s.op == "data":
                fixed[i] = data(constants[s.name])
            elif s.op == "const":
                fixed[i] = const(s.value)
            else:
                fixed[i] = self._apply(s, [fixed[a] for a in s.args])
        return fixed

    def hot(self):
        """The fastest loss-and-gradient function, for stepping; the caller sets errstate."""
        return self.loss_and_grad

    @abstractmethod
    def nodes(self, w) -> list[Node]:
        """Every node of the graph at w, with values and gradients, in forward order."""

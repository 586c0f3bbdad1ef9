"""What every backend shares: the plan of an expression, the graph node record, the base class."""
from __future__ import annotations

from abc import ABC, abstractmethod
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from .errors import GdtutorError
from .expr import Expr, render
from .model import Lesson


def checked_matmul(a, b):
    """`a @ b` for vectors and matrices, with the language's own words when shapes are wrong."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("@ needs arrays on both sides, not a scalar")
    if a.ndim > 2 or b.ndim > 2:
        raise ValueError("@ works on vectors and matrices only")
    return a @ b


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


class Step(NamedTuple):
    """One node of a plan: the op, its argument positions, and its leaf payload."""

    id: str
    op: str
    label: str
    args: tuple[int, ...]
    name: str | None = None
    value: Fraction | None = None
    needs_grad: bool = False   # a parameter flows into it


def build_plan(expression: Expr, params) -> list[Step]:
    """The expression's nodes in forward order; each name becomes one shared leaf."""
    params = set(params)
    steps: list[Step] = []
    by_name: dict[str, int] = {}

    def visit(e: Expr) -> int:
        if e.op == "name":
            if e.name not in by_name:
                by_name[e.name] = len(steps)
                op = "param" if e.name in params else "data"
                steps.append(Step(e.name, op, e.name, (), name=e.name, needs_grad=op == "param"))
            return by_name[e.name]
        args = tuple(visit(a) for a in e.args)
        idx = len(steps)
        needs = any(steps[a].needs_grad for a in args)
        steps.append(Step(f"v{idx}", e.op, render(e), args, value=e.value, needs_grad=needs))
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

    def __init__(self, lesson: Lesson, dtype: str) -> None:
        self.lesson = lesson
        self.dtype = dtype
        self.plan = build_plan(lesson.expression, [n for n, _ in lesson.params])
        self.layout = param_layout(lesson)

    @abstractmethod
    def weights(self, values) -> object:
        """The flat weight vector in this backend's number type, from exact values."""

    @abstractmethod
    def loss_and_grad(self, w):
        """The output at flat weights w, and ∂output/∂w flat: the hot path of stepping."""

    def _fold(self, data, const) -> dict:
        """Every node with no parameter under it, computed once: it is the same at every step.
        `data` converts a lesson constant (X, y, m), `const` a literal of the expression."""
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


def make_backend(lesson: Lesson, name: str, dtype: str) -> Backend:
    """The backend called `name`; torch is imported here and nowhere else."""
    if name == "numpy":
        from .numpy_backend import NumpyBackend
        return NumpyBackend(lesson, dtype)
    if name == "torch":
        if dtype == "exact":
            raise GdtutorError("exact arithmetic runs on the numpy backend only", field="backend")
        try:
            from .torch_backend import TorchBackend
        except ImportError:
            raise GdtutorError("the torch backend needs torch, which is not installed; "
                               "install it with: pip install torch==2.13.0", field="backend") from None
        return TorchBackend(lesson, dtype)
    raise GdtutorError(f"unknown backend '{name}' (numpy or torch)", field="backend")

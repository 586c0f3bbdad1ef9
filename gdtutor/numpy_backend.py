"""A small reverse-mode engine over numpy arrays and exact fractions, in the spirit of micrograd."""
from __future__ import annotations

import operator
from fractions import Fraction
from functools import partial

import numpy as np

from .backend import ARITHMETIC, Backend, Node
from .errors import ExprError
from .model import Lesson
from .numbers import as_array

MAX_EXACT_EXPONENT = 4096
MAX_EXACT_BITS = 1 << 20      # refuse exact powers whose result would pass a million bits
NOT_EXACT = ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid")


def _ones_like(a):
    return np.ones_like(a) if a.dtype != object else np.full(a.shape, Fraction(1), dtype=object)


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


FORWARD = {
    **ARITHMETIC,
    "sum": lambda a: np.sum(a),
    "mean": lambda a: np.sum(a) / a.size,
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs,
    "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda a: np.where(a > 0, a, a * 0),
}


# The hot path skips the checks above: shapes were verified when the lesson was probed.
# The operators are the same ufuncs for arrays, and plain IEEE arithmetic (no ufunc call)
# where both sides are scalars, such as a sum divided by 2m.
FAST_FORWARD = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "pow": np.power, "matmul": operator.matmul, "neg": np.negative,
    "sum": partial(np.add.reduce, axis=None), "mean": lambda a: a.mean(), "T": np.transpose,
}
ELEMENTWISE = ("add", "sub", "mul", "div", "pow")


def _pow_base(g, a, b, out):
    if np.ndim(b) == 0:
        return g * 0 if b == 0 else (g * b * a if b == 2 else g * (b * a ** (b - 1)))
    return np.where(b == 0, g * 0, g * b * a ** (b - 1))


# For each op, one function per argument: its gradient, given g = ∂output/∂node and the
# node's own value `out`. Only the arguments a parameter flows into are ever asked for.
BACKWARD = {
    "add": (lambda g, a, b, out: g, lambda g, a, b, out: g),
    "sub": (lambda g, a, b, out: g, lambda g, a, b, out: -g),
    "mul": (lambda g, a, b, out: g * b, lambda g, a, b, out: g * a),
    "div": (lambda g, a, b, out: g / b, lambda g, a, b, out: -g * a / (b * b)),
    "pow": (_pow_base, lambda g, a, b, out: g * out * np.log(a)),
    "matmul": (lambda g, a, b, out: g * b if a.ndim == 1 and b.ndim == 1
               else np.outer(g, b) if b.ndim == 1 else (b @ g if a.ndim == 1 else g @ b.T),
               lambda g, a, b, out: g * a if a.ndim == 1 and b.ndim == 1
               else np.outer(a, g) if a.ndim == 1 else a.T @ g),
    "neg": (lambda g, a, out: -g,),
    "sum": (lambda g, a, out: np.broadcast_to(g, a.shape),),
    "mean": (lambda g, a, out: np.broadcast_to(g / a.size, a.shape),),
    "exp": (lambda g, a, out: g * out,),
    "log": (lambda g, a, out: g / a,),
    "sqrt": (lambda g, a, out: g / (2 * out),),
    "abs": (lambda g, a, out: g * np.sign(a),),
    "sin": (lambda g, a, out: g * np.cos(a),),
    "cos": (lambda g, a, out: -g * np.sin(a),),
    "tanh": (lambda g, a, out: g * (1 - out * out),),
    "sigmoid": (lambda g, a, out: g * out * (1 - out),),
    "relu": (lambda g, a, out: g * (a > 0),),
    "T": (lambda g, a, out: g.T,),
}


# What each argument's gradient reads besides g: the operands a and b, and the output o.
READS = {
    "add": ("", ""), "sub": ("", ""), "mul": ("b", "a"), "div": ("b", "ab"),
    "pow": ("ab", "abo"), "matmul": ("b", "a"),
    "neg": ("",), "sum": ("",), "mean": ("",), "T": ("",),
    "exp": ("o",), "sqrt": ("o",), "tanh": ("o",), "sigmoid": ("o",),
    "log": ("a",), "abs": ("a",), "sin": ("a",), "cos": ("a",), "relu": ("a",),
}


def unbroadcast(g, shape):
    """Sum a gradient back down to the shape its operand had before broadcasting."""
    if np.shape(g) == shape:
        return g
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


class NotFinite(ArithmeticError):
    """An exact computation divided by zero: the lesson diverges there."""


class NumpyBackend(Backend):
    """Forward in plan order, then gradients in reverse, accumulating into the arguments.

    Two ways through the same plan: a checked one (exact arithmetic, the graph view, the
    first evaluation of a lesson) and, for floats, a compiled hot path for stepping in which
    everything that does not change from step to step was computed once, here.
    """

    name = "numpy"

    def __init__(self, lesson: Lesson, dtype: str) -> None:
        super().__init__(lesson, dtype)
        self.exact = dtype == "exact"
        self.np_dtype = None if self.exact else np.dtype(dtype)
        with np.errstate(all="ignore"):   # an overflow here is an inf, not a warning on stderr
            self.fixed: dict[int, np.ndarray] = self._fold(self.convert, self.convert)
        self.order = [i for i, s in enumerate(self.plan) if s.needs_grad and s.op != "param"]
        self._template = [self.fixed.get(i) for i in range(len(self.plan))]
        index = {s.name: i for i, s in enumerate(self.plan) if s.op == "param"}
        # a parameter the expression never uses has no node (-1), and a zero gradient
        self._param_slots = [(index.get(name, -1), off, size, shape)
                             for name, shape, off, size in self.layout]
        self.size = sum(size for *_, size in self.layout)
        self._whole = len(self.layout) == 1 and len(self.layout[0][1]) == 1
        self._bwd_ops = [(i, k, a, BACKWARD[self.plan[i].op][k])
                         for i in reversed(self.order)
                         for k, a in enumerate(self.plan[i].args) if self.plan[a].needs_grad]
        self._compiled = False

    def convert(self, value) -> np.ndarray:
        """An exact lesson value (Fraction or nested tuple) as an array of this dtype."""
        return as_array(value, self.dtype)

    def weights(self, values) -> np.ndarray:
        return self.convert(tuple(values)).reshape(-1)

    # -- the checked path -----------------------------------------------------------------

    def _apply(self, s, args):
        if self.exact:
            if s.op in NOT_EXACT:
                raise ExprError(f"{s.op}() has no exact value; use dtype float64 (in '{s.label}')")
            if s.op == "pow":
                self._check_exact_pow(s, *args)
        try:
            out = FORWARD[s.op](*args)
        except ZeroDivisionError:
            raise NotFinite(s.label) from None
        except (ValueError, TypeError, IndexError) as exc:
            shapes = " and ".join(str(np.shape(a)) for a in args)
            raise ExprError(f"cannot compute '{s.label}' on shapes {shapes}: {exc}") from None
        return np.asarray(out, dtype=object) if self.exact else np.asarray(out, dtype=self.np_dtype)

    def _check_exact_pow(self, s, base, exponent) -> None:
        bases = np.asarray(base, dtype=object).reshape(-1)
        bits = max((max(Fraction(b).numerator.bit_length(), Fraction(b).denominator.bit_length())
                    for b in bases), default=0)
        for e in np.asarray(exponent, dtype=object).reshape(-1):
            if Fraction(e).denominator != 1:
                raise ExprError(f"'{s.label}': a non-integer power has no exact value; "
                                "use dtype float64")
            if abs(e) > MAX_EXACT_EXPONENT:
                raise ExprError(f"'{s.label}': the exact power {e} is too large "
                                f"(the limit is {MAX_EXACT_EXPONENT})")
            if bits * abs(e) > MAX_EXACT_BITS:
                raise ExprError(f"'{s.label}': the exact result would have over "
                                f"{MAX_EXACT_BITS} bits; use dtype float64")

    def _forward(self, w) -> list:
        values = self._template.copy()
        for i, off, size, shape in self._param_slots:
            if i >= 0:
                values[i] = w[off:off + size].reshape(shape)
        for i in self.order:
            s = self.plan[i]
            values[i] = self._apply(s, [values[a] for a in s.args])
        return values

    def _backward(self, values) -> list:
        grads: list = [None] * len(self.plan)
        if self.plan[-1].needs_grad:
            grads[-1] = _ones_like(np.asarray(values[-1]))
        for i, k, a, fn in self._bwd_ops:
            g = grads[i]
            if g is None:
                continue
            try:
                ga = fn(g, *[values[j] for j in self.plan[i].args], values[i])
            except ZeroDivisionError:
                raise NotFinite(self.plan[i].label) from None
            if self.exact:      # object arithmetic on 0-d arrays yields bare Fractions
                ga = np.asarray(ga, dtype=object)
            ga = unbroadcast(ga, np.shape(values[a]))
            grads[a] = ga if grads[a] is None else grads[a] + ga
        return grads

    def _flat_grad(self, grads) -> np.ndarray:
        parts = []
        for i, off, size, shape in self._param_slots:
            g = grads[i] if i >= 0 else None
            parts.append(self.zeros(size) if g is None else np.reshape(g, -1))
        out = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return out if self.exact else out.astype(self.np_dtype, copy=False)

    def zeros(self, size: int) -> np.ndarray:
        return np.full(size, Fraction(0), dtype=object) if self.exact \
            else np.zeros(size, dtype=self.np_dtype)

    def loss_and_grad(self, w, checked: bool = False):
        with np.errstate(all="ignore"):
            if checked or self.exact:
                values = self._forward(w)
                return values[-1][()], self._flat_grad(self._backward(values))
            return self.hot()(w)

    def nodes(self, w) -> list[Node]:
        with np.errstate(all="ignore"):
            values = self._forward(w)
            grads = self._backward(values)
        return [Node(s.id, s.op, s.label, tuple(self.plan[a].id for a in s.args),
                     tuple(np.shape(v)), np.asarray(v, dtype=object if self.exact else self.np_dtype),
                     None if g is None else np.array(g))
                for s, v, g in zip(self.plan, values, grads)]

    # -- the compiled float path ----------------------------------------------------------

    def hot(self):
        """The fastest loss-and-gradient function; the caller sets numpy's errstate."""
        if self.exact:
            return self.loss_and_grad
        if not self._compiled:
            self._compile()
        return self._hot

    def _compile(self) -> None:
        from .backend import initial_weights
        with np.errstate(all="ignore"):
            shapes = [np.shape(v) for v in self._forward(self.weights(initial_weights(self.lesson)))]
        self._fwd_ops = [self._fast_forward(i) for i in self.order]
        # Fold into constants every share of gradient that does not change from step to step:
        # the output's gradient is 1, and a share is fixed when the gradient it comes from is
        # fixed and the op reads nothing that varies (a sum passes 1 to every element, a
        # division by 2m passes 1/2m). Only what varies is left for the hot path.
        static: list = [None] * len(self.plan)
        varies = [False] * len(self.plan)
        if self.plan[-1].needs_grad:
            static[-1] = np.ones(shapes[-1], dtype=self.np_dtype)
        hot = []
        for i, k, a, fn in self._bwd_ops:
            s = self.plan[i]
            operands = dict(zip("ab", s.args))
            reads_varying = any(ch == "o" or self.plan[operands[ch]].needs_grad
                                for ch in READS[s.op][k])
            if not varies[i] and not reads_varying:
                with np.errstate(all="ignore"):
                    # operands that vary are not read here, only their shapes
                    ga = fn(static[i], *[self.fixed[j] if j in self.fixed
                                         else np.zeros(shapes[j], self.np_dtype) for j in s.args], None)
                ga = unbroadcast(np.asarray(ga, dtype=self.np_dtype), shapes[a])
                static[a] = ga if static[a] is None else static[a] + ga
                continue
            varies[a] = True
            again = s.op in ELEMENTWISE and shapes[i] != shapes[a]
            hot.append((i, a, self._fast_backward(i, k, fn, shapes, static, varies[i]),
                        shapes[a] if again else None))
        self._static_grads = static
        self._hot_bwd = hot
        # fixed 0-d operands as numpy scalars, so that scalar arithmetic stays scalar
        last = len(self._template) - 1
        self._hot_template = [v[()] if isinstance(v, np.ndarray) and v.ndim == 0 and i < last
                              else v for i, v in enumerate(self._template)]
        self._compiled = True

    def _fast_forward(self, i: int):
        """(node, fn, first argument, second argument or -1) for the hot path."""
        s = self.plan[i]
        a0, a1 = (s.args + (-1,))[:2]
        fn = FAST_FORWARD.get(s.op, FORWARD[s.op])
        if s.op == "pow" and a1 in self.fixed and np.ndim(self.fixed[a1]) == 0:
            e = self.fixed[a1][()]
            fn, a1 = (np.square if e == 2 else (lambda a: a ** e)), -1
        return i, fn, a0, a1

    def _fast_backward(self, i, k, fn, shapes, static, g_varies):
        """fn(g, values) -> node i's share of gradient for its k-th argument."""
        args = self.plan[i].args
        op = self.plan[i].op
        fixed = self.fixed
        if op == "pow" and k == 0 and args[1] in fixed and np.ndim(fixed[args[1]]) == 0:
            e, a0 = fixed[args[1]][()], args[0]
            if not g_varies:       # a fixed gradient times the fixed exponent: one constant
                coef = static[i] * e
                return (lambda g, v: coef * v[a0]) if e == 2 else (lambda g, v: coef * v[a0] ** (e - 1))
            return (lambda g, v: g * e * v[a0]) if e == 2 else (lambda g, v: g * e * v[a0] ** (e - 1))
        if op == "matmul" and k == 1 and args[0] in fixed and fixed[args[0]].ndim == 2 \
                and len(shapes[args[1]]) == 1:
            xt = np.ascontiguousarray(fixed[args[0]].T)
            return lambda g, v: xt @ g
        if op in ("add", "sub") and k == 0:
            return lambda g, v: g
        return lambda g, v: fn(g, *[v[j] for j in args], v[i])

    def _hot(self, w):
        values = self._hot_template.copy()
        for i, off, size, shape in self._param_slots:
            if i >= 0:
                values[i] = w if self._whole else w[off:off + size].reshape(shape)
        for i, fn, a0, a1 in self._fwd_ops:
            values[i] = fn(values[a0]) if a1 < 0 else fn(values[a0], values[a1])
        grads = self._static_grads.copy()
        for i, a, f, shape in self._hot_bwd:
            ga = f(grads[i], values)
            if shape is not None:
                ga = unbroadcast(ga, shape)
            grads[a] = ga if grads[a] is None else grads[a] + ga
        if self._whole and grads[self._param_slots[0][0]] is not None:
            return values[-1], grads[self._param_slots[0][0]]
        return values[-1], self._flat_grad(grads)


def probe(lesson: Lesson, dtype: str | None = None) -> None:
    """Evaluate a lesson once at its initial values; raise ExprError if it cannot be computed."""
    from .backend import initial_weights
    backend = NumpyBackend(lesson, dtype or lesson.dtype)
    w = backend.weights(initial_weights(lesson))
    try:
        out, _ = backend.loss_and_grad(w, checked=True)
        if not backend.exact:
            backend.hot()   # compiles the float path, checking it once too
    except NotFinite:
        return
    if np.ndim(out) != 0:
        raise ExprError(f"the expression must give one number, but gives shape {np.shape(out)}; "
                        "wrap it in sum() or mean()")

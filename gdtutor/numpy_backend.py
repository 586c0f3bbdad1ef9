"""A small reverse-mode engine over numpy arrays and exact fractions, in the spirit of micrograd."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .backend import Backend, Node, shape_error
from .errors import ExprError, NotFinite, TooLarge
from .i18n import _
from .model import Lesson
from .numbers import as_array
from .numpy_compiled import CompiledPlan
from .numpy_ops import BACKWARD, FORWARD, NOT_EXACT, gradient_args, ones_like, unbroadcast

MAX_EXACT_EXPONENT = 4096
# The largest numerator or denominator an exact value may have, for every operation's result:
# past it each operation costs milliseconds and grows the next (w*w*w*w triples the bits every
# step). 65,536 bits keep the worked example's 20,000 exact steps (w_n = 2 - 1/2^(n-1)).
MAX_EXACT_BITS = 1 << 16


def exact_bits(values) -> int:
    """The most bits of any numerator or denominator among exact values."""
    return max((max(v.numerator.bit_length(), v.denominator.bit_length())
                for v in np.asarray(values, dtype=object).reshape(-1)), default=0)


def check_exact_size(values, label: str):
    """The values, or TooLarge where one has passed MAX_EXACT_BITS."""
    bits = exact_bits(values)
    if bits > MAX_EXACT_BITS:
        raise TooLarge(label, bits, MAX_EXACT_BITS)
    return values


class NumpyBackend(Backend):
    """Forward in plan order, then gradients in reverse, accumulating into the arguments.

    Two ways through the same plan: this readable one (exact arithmetic, the graph view, the
    first evaluation of a lesson) and, for floats, the compiled hot path of
    gdtutor/numpy_compiled.py for stepping, which gives the same numbers bit for bit.
    """

    name = "numpy"

    def __init__(self, lesson: Lesson, dtype: str) -> None:
        self.exact = dtype == "exact"
        self.np_dtype = None if self.exact else np.dtype(dtype)
        super().__init__(lesson, dtype, self.convert, self.convert)
        self._whole = len(self.layout) == 1 and len(self.layout[0][1]) == 1
        # (node, argument index, argument node, gradient fn, where fn's values come from,
        # whether fn takes the argument's shape), in reverse plan order
        self._bwd_ops = [(i, k, a, fn, *gradient_args(fn, self.plan[i].args, i))
                         for i in reversed(self.order)
                         for k, (a, fn) in enumerate(zip(self.plan[i].args,
                                                         BACKWARD[self.plan[i].op]))
                         if self.plan[a].needs_grad]
        self._compiled = None

    def convert(self, value) -> np.ndarray:
        """An exact lesson value (Fraction or nested tuple) as an array of this dtype."""
        return as_array(value, self.dtype)

    def weights(self, values) -> np.ndarray:
        return self.convert(tuple(values)).reshape(-1)

    def _apply(self, s, args):
        if self.exact:
            if s.op in NOT_EXACT:
                raise ExprError(_("{name}() has no exact value; use dtype float64 (in '{label}')")
                                .format(name=s.op, label=s.label))
            if s.op == "pow":
                self._check_exact_pow(s, *args)
        try:
            out = FORWARD[s.op](*args)
        except ZeroDivisionError:
            raise NotFinite(s.label) from None
        except (ValueError, TypeError, IndexError) as exc:
            raise ExprError(shape_error(s.op, s.label, [np.shape(a) for a in args], exc)) from None
        if self.exact:
            return check_exact_size(np.asarray(out, dtype=object), s.label)
        return np.asarray(out, dtype=self.np_dtype)

    def _check_exact_pow(self, s, base, exponent) -> None:
        bases = np.asarray(base, dtype=object).reshape(-1)
        bits = max((max(Fraction(b).numerator.bit_length(), Fraction(b).denominator.bit_length())
                    for b in bases), default=0)
        for e in np.asarray(exponent, dtype=object).reshape(-1):
            if Fraction(e).denominator != 1:
                raise ExprError(_("'{label}': a non-integer power has no exact value; "
                                  "use dtype float64").format(label=s.label))
            if abs(e) > MAX_EXACT_EXPONENT:
                raise ExprError(_("'{label}': the exact power {e} is too large "
                                  "(the limit is {max})").format(label=s.label, e=e,
                                                                  max=MAX_EXACT_EXPONENT))
            if bits * abs(e) > MAX_EXACT_BITS:
                raise ExprError(_("'{label}': the exact result would have over "
                                  "{max} bits; use dtype float64").format(label=s.label,
                                                                          max=MAX_EXACT_BITS))

    def _forward(self, w, partial: bool = False) -> list:
        """Every node's value at w. partial: where an exact division by zero stops the pass,
        the nodes from there on are None instead of raising NotFinite."""
        values = self._template.copy()
        for i, off, size, shape in self._param_slots:
            if i >= 0:
                values[i] = w[off:off + size].reshape(shape)
        for n, i in enumerate(self.order):
            s = self.plan[i]
            try:
                values[i] = self._apply(s, [values[a] for a in s.args])
            except NotFinite:
                if not partial:
                    raise
                for j in self.order[n:]:
                    values[j] = None
                break
        return values

    def _backward(self, values) -> list:
        grads: list = [None] * len(self.plan)
        if self.plan[-1].needs_grad:
            grads[-1] = ones_like(np.asarray(values[-1]))
        for i, k, a, fn, sources, shaped in self._bwd_ops:
            g = grads[i]
            if g is None:
                continue
            operands = [values[j] for j in sources]
            try:
                if shaped:
                    ga = fn(g, *operands, a_shape=np.shape(values[self.plan[i].args[0]]))
                else:
                    ga = fn(g, *operands)
            except ZeroDivisionError:
                raise NotFinite(self.plan[i].label) from None
            if self.exact:      # object arithmetic on 0-d arrays yields bare Fractions
                ga = check_exact_size(np.asarray(ga, dtype=object), self.plan[i].label)
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
        """Every node at w. Past an exact division by zero a node has no value (None), and no
        node has a gradient: the output is not a number."""
        with np.errstate(all="ignore"):
            values = self._forward(w, partial=self.exact)
            grads: list = [None] * len(self.plan)
            if all(v is not None for v in values):
                try:
                    grads = self._backward(values)
                except NotFinite:
                    pass
        return [Node(s.id, s.op, s.label, tuple(self.plan[a].id for a in s.args),
                     tuple(np.shape(v)) if v is not None else (),
                     None if v is None else np.asarray(v, dtype=object if self.exact
                                                       else self.np_dtype),
                     None if g is None else np.array(g))
                for s, v, g in zip(self.plan, values, grads)]

    def node_sizes(self, w) -> list[int]:
        """How many numbers each node holds at w (what one step's work is made of)."""
        with np.errstate(all="ignore"):
            return [int(np.size(v)) if v is not None else 1
                    for v in self._forward(w, partial=self.exact)]

    def hot(self):
        """The fastest loss-and-gradient function; the caller sets numpy's errstate."""
        if self.exact:
            return self.loss_and_grad
        if self._compiled is None:
            self._compiled = CompiledPlan(self).loss_and_grad
        return self._compiled

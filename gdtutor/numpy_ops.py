"""Each function of the expression language on numpy arrays and exact fractions, defined once:
its forward, the gradient for each argument, and (from those gradients' parameters) what each
gradient reads."""
from __future__ import annotations

import operator
from fractions import Fraction
from functools import partial
from typing import Callable, NamedTuple

import numpy as np

from .backend import ARITHMETIC


class Op(NamedTuple):
    """One function of the language.

    Each gradient is fn(g, ...) -> the share of ∂output/∂argument, given g = ∂output/∂node. Its
    parameters after g name what it reads: `a` and `b` (the arguments' values), `out` (the
    node's value), and `a_shape` (the first argument's shape, fixed for a plan). Only the
    arguments a parameter flows into are ever asked for."""

    forward: Callable
    backward: tuple[Callable, ...]   # one for each argument
    exact: bool = True               # has an exact value on fractions


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _pow_base(g, a, b):
    if np.ndim(b) == 0:
        return g * 0 if b == 0 else (g * b * a if b == 2 else g * (b * a ** (b - 1)))
    return np.where(b == 0, g * 0, g * b * a ** (b - 1))


def _matmul_left(g, b):
    """∂(a @ b)/∂a · g; a's rank follows from g's and b's (a scalar g: two vectors)."""
    if g.ndim == 0:
        return g * b
    if b.ndim == 1:
        return np.outer(g, b)
    return b @ g if g.ndim == 1 else g @ b.T


def _matmul_right(g, a):
    """∂(a @ b)/∂b · g. Against a vector g, aᵀ is made contiguous first: BLAS adds up a
    transposed view in another order, and the compiled path keeps a fixed aᵀ contiguous."""
    if g.ndim == 0:
        return g * a
    if a.ndim == 1:
        return np.outer(a, g)
    return np.ascontiguousarray(a.T) @ g if g.ndim == 1 else a.T @ g


def _size(shape) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


OPS: dict[str, Op] = {
    "add": Op(ARITHMETIC["add"], (lambda g: g, lambda g: g)),
    "sub": Op(ARITHMETIC["sub"], (lambda g: g, lambda g: -g)),
    "mul": Op(ARITHMETIC["mul"], (lambda g, b: g * b, lambda g, a: g * a)),
    "div": Op(ARITHMETIC["div"], (lambda g, b: g / b, lambda g, a, b: -g * a / (b * b))),
    "pow": Op(ARITHMETIC["pow"], (_pow_base, lambda g, a, out: g * out * np.log(a))),
    "matmul": Op(ARITHMETIC["matmul"], (_matmul_left, _matmul_right)),
    "neg": Op(ARITHMETIC["neg"], (lambda g: -g,)),
    "T": Op(ARITHMETIC["T"], (lambda g: g.T,)),
    "sum": Op(lambda a: np.sum(a), (lambda g, a_shape: np.broadcast_to(g, a_shape),)),
    "mean": Op(lambda a: np.sum(a) / a.size,
               (lambda g, a_shape: np.broadcast_to(g / _size(a_shape), a_shape),)),
    "exp": Op(np.exp, (lambda g, out: g * out,), exact=False),
    "log": Op(np.log, (lambda g, a: g / a,), exact=False),
    "sqrt": Op(np.sqrt, (lambda g, out: g / (2 * out),), exact=False),
    "abs": Op(np.abs, (lambda g, a: g * np.sign(a),)),
    "sin": Op(np.sin, (lambda g, a: g * np.cos(a),), exact=False),
    "cos": Op(np.cos, (lambda g, a: -g * np.sin(a),), exact=False),
    "tanh": Op(np.tanh, (lambda g, out: g * (1 - out * out),), exact=False),
    "sigmoid": Op(_sigmoid, (lambda g, out: g * out * (1 - out),), exact=False),
    "relu": Op(lambda a: np.where(a > 0, a, a * 0), (lambda g, a: g * (a > 0),)),
}


def reads(fn: Callable) -> tuple[str, ...]:
    """What a gradient function reads besides g, from its parameters' names."""
    code = fn.__code__
    return code.co_varnames[1:code.co_argcount]


FORWARD = {name: op.forward for name, op in OPS.items()}
BACKWARD = {name: op.backward for name, op in OPS.items()}
READS = {name: tuple(reads(fn) for fn in op.backward) for name, op in OPS.items()}
NOT_EXACT = tuple(name for name, op in OPS.items() if not op.exact)

# The hot path skips the checks of FORWARD: shapes were verified when the lesson was probed.
# The operators are the same ufuncs for arrays, and plain IEEE arithmetic (no ufunc call)
# where both sides are scalars, such as a sum divided by 2m.
FAST_FORWARD = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "pow": np.power, "matmul": operator.matmul, "neg": np.negative,
    "sum": partial(np.add.reduce, axis=None), "mean": lambda a: a.mean(), "T": np.transpose,
}
ELEMENTWISE = ("add", "sub", "mul", "div", "pow")


def gradient_args(fn: Callable, args: tuple[int, ...], node: int) -> tuple[list[int], bool]:
    """Where fn's value parameters come from (indices into the node values: the arguments and
    the node itself), and whether it takes the first argument's shape (as a_shape=)."""
    where = {"a": args[0], "b": args[1] if len(args) > 1 else -1, "out": node}
    names = reads(fn)
    return [where[name] for name in names if name != "a_shape"], "a_shape" in names


def ones_like(a):
    return np.ones_like(a) if a.dtype != object else np.full(a.shape, Fraction(1), dtype=object)


def unbroadcast(g, shape):
    """Sum a gradient back down to the shape its operand had before broadcasting."""
    if np.shape(g) == shape:
        return g
    while np.ndim(g) > len(shape):
        # summing an object array of Fractions down to 0-d gives a bare Fraction: kept an array
        g = np.asarray(g.sum(axis=0), dtype=g.dtype)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g

"""The numpy backend on its own (no torch needed): gradients against finite differences, exact
fractions against float64, the document's backprop in fractions, and what probing refuses."""
from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from expressions import close, lesson_of, scalar_expr
from gdtutor.backend import initial_weights
from gdtutor.errors import ExprError
from gdtutor.backends import probe
from gdtutor.numpy_backend import NumpyBackend


@settings(max_examples=100, deadline=None, derandomize=True)
@given(scalar_expr)
def test_numpy_gradient_matches_finite_differences(source):
    lesson = lesson_of(source)
    nb = NumpyBackend(lesson, "float64")
    w = nb.weights(initial_weights(lesson))
    loss, grad = nb.loss_and_grad(w)
    assume(np.isfinite(loss) and np.all(np.isfinite(grad)) and np.all(np.abs(grad) < 1e6))
    h = 1e-6
    for i in range(w.size):
        e = np.zeros_like(w)
        e[i] = h
        numeric = (nb.loss_and_grad(w + e)[0] - nb.loss_and_grad(w - e)[0]) / (2 * h)
        assert abs(numeric - grad[i]) <= 1e-4 * max(1.0, abs(grad[i])), (source, i)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.recursive(st.sampled_from(["x", "sum(v)", "(1/3)", "2"]),
                    lambda c: st.one_of(
                        st.tuples(st.sampled_from(["({}) + ({})", "({}) - ({})", "({}) * ({})",
                                                   "({}) / (5 + ({})**2)"]), c, c)
                        .map(lambda t: t[0].format(t[1], t[2])),
                        c.map(lambda e: f"({e})**2"), c.map(lambda e: f"abs({e})")),
                    max_leaves=5))
def test_exact_agrees_with_float64_and_is_a_fraction(source):
    lesson = lesson_of(source, dtype="exact")
    exact = NumpyBackend(lesson, "exact")
    fl = NumpyBackend(lesson, "float64")
    values = initial_weights(lesson)
    eloss, egrad = exact.loss_and_grad(exact.weights(values))
    floss, fgrad = fl.loss_and_grad(fl.weights(values))
    assert isinstance(eloss, F) and all(isinstance(g, F) for g in egrad)
    assert close(float(eloss), floss, 1e-12)
    assert close(np.array(egrad, dtype=np.float64), fgrad, 1e-12)


def test_document_backprop_x_squared_on_numpy():
    """x = 1, y = x**2, y.backward(): x.grad is 2, in float64 and in exact fractions."""
    for dtype in ("float64", "exact"):
        lesson = lesson_of("x**2", params=(("x", F(1)),), dtype=dtype)
        b = NumpyBackend(lesson, dtype)
        nodes = b.nodes(b.weights(initial_weights(lesson)))
        assert [n.op for n in nodes] == ["param", "const", "pow"]
        assert nodes[-1].value == 1 and nodes[0].grad == 2


def test_exact_backprop_is_a_fraction():
    lesson = lesson_of("x**2 / 3", params=(("x", F(1, 2)),), dtype="exact")
    b = NumpyBackend(lesson, "exact")
    loss, grad = b.loss_and_grad(b.weights(initial_weights(lesson)))
    assert loss == F(1, 12) and list(grad) == [F(1, 3)]


@pytest.mark.parametrize("source, params, dtype, message", [
    ("x @ v", (("x", F(1)), ("v", (F(1), F(2)))), "float64", "@ needs arrays"),
    ("sum(M @ v)", (("M", ((F(1), F(2)),)), ("v", (F(1), F(2), F(3)))), "float64", "shapes"),
    ("v + u", (("v", (F(1), F(2))), ("u", (F(1), F(2), F(3)))), "float64", "shapes"),
    ("x**100000", (("x", F(2)),), "exact", "too large"),
    ("x**(1/2)", (("x", F(2)),), "exact", "non-integer power"),
    ("(x**4000)**4000", (("x", F(3)),), "exact", "bits"),
    ("exp(x)", (("x", F(2)),), "exact", "no exact value"),
    ("v", (("v", (F(1), F(2))),), "float64", "one number"),
])
def test_probe_refuses_what_cannot_be_computed(source, params, dtype, message):
    with pytest.raises(ExprError, match=message):
        probe(lesson_of(source, params, dtype))


def test_probe_on_huge_float_power_is_quick_and_not_an_error():
    # a float power overflows to inf: that is divergence for the stepper, not bad input
    probe(lesson_of("x**10**10", (("x", F(2)),), "float64"))


def test_what_each_gradient_reads_comes_from_its_parameters():
    from gdtutor.numpy_ops import BACKWARD, OPS, READS
    assert READS["mul"] == (("b",), ("a",))
    assert READS["div"] == (("b",), ("a", "b"))
    assert READS["sum"] == (("a_shape",),) and READS["exp"] == (("out",),)
    for name, op in OPS.items():
        assert len(READS[name]) == len(BACKWARD[name]) == (2 if name in (
            "add", "sub", "mul", "div", "pow", "matmul") else 1)
        for reads in READS[name]:
            assert set(reads) <= {"a", "b", "out", "a_shape"}, (name, reads)


def test_exact_gradient_of_a_scalar_broadcast_over_a_vector_sums_back_to_a_fraction():
    # sum(v * x) with x a number: ∂/∂x = Σv exactly, ∂/∂v = x in every place
    import gdtutor
    from fractions import Fraction as F
    from gdtutor.expr import parse
    from gdtutor.model import Lesson, Text
    lesson = Lesson(id="b", title=Text("b"), kind="graph", dtype="exact",
                    expression=parse("sum(v * x)", ["v", "x"]),
                    params=(("v", (F(1), F(2), F(3))), ("x", F(2))))
    run = gdtutor.replay(lesson)
    assert run.value == 12
    assert list(run.grads["v"]) == [2, 2, 2] and run.grads["x"] == F(6)

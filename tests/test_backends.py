"""The numpy engine against torch's autograd, against finite differences, and exact against float."""
from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gdtutor.backend import initial_weights
from gdtutor.errors import ExprError
from gdtutor.expr import parse
from gdtutor.model import Lesson
from gdtutor.numpy_backend import NumpyBackend, probe

torch = pytest.importorskip("torch")
from gdtutor.torch_backend import TorchBackend  # noqa: E402

PARAMS = (("x", F(3, 4)), ("v", (F(1, 2), F(-1), F(2))), ("u", (F(-3, 2), F(1, 3), F(1))),
          ("M", ((F(1), F(-1, 2), F(2)), (F(1, 4), F(3), F(-1)))))


def lesson_of(source: str, params=PARAMS, dtype: str = "float64") -> Lesson:
    expression = parse(source, [n for n, _ in params])
    return Lesson(id="t", title=None, kind="graph", expression=expression, params=params,
                  dtype=dtype)


def close(a, b, rel: float) -> bool:
    """Equal within `rel` of the array's largest magnitude (at least 1): the norm-wise error
    that two correct evaluations in different summation orders can differ by."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(a), initial=0)), float(np.max(np.abs(b), initial=0)))
    return bool(np.all(np.abs(a - b) <= rel * scale))


def both(source: str, dtype: str = "float64", params=PARAMS):
    lesson = lesson_of(source, params, dtype)
    nb, tb = NumpyBackend(lesson, dtype), TorchBackend(lesson, dtype)
    w = nb.weights(initial_weights(lesson))
    return nb, tb, w


# Expressions over a scalar x, vectors v and u and a 2x3 matrix M; every one ends in a scalar.
scalar_leaf = st.sampled_from(["x", "1.5", "2", "(1/3)", "sum(v)", "mean(u)"])
vector_leaf = st.sampled_from(["v", "u", "T(M) @ (M @ v)", "v * x", "(1/2) * u"])


def grow(children):
    unary = st.sampled_from(["exp(tanh({}))", "tanh({})", "sin({})", "cos({})", "sigmoid({})",
                             "relu({})", "abs({})", "-({})", "log(1 + abs({}))",
                             "sqrt(1 + ({})**2)", "({})**2", "({})**3"])
    binary = st.sampled_from(["({}) + ({})", "({}) - ({})", "({}) * ({})",
                              "({}) / (2 + sin({}))"])
    return st.one_of(
        st.tuples(unary, children).map(lambda t: t[0].format(t[1])),
        st.tuples(binary, children, children).map(lambda t: t[0].format(t[1], t[2])),
    )


vector_expr = st.recursive(vector_leaf, grow, max_leaves=6)
scalar_expr = st.recursive(scalar_leaf, grow, max_leaves=6)
expressions = st.one_of(scalar_expr, vector_expr.map(lambda e: f"sum({e})"),
                        st.tuples(vector_expr, vector_expr).map(lambda t: f"({t[0]}) @ ({t[1]})"),
                        scalar_expr.map(lambda e: f"({e}) * sum(v * u)"))


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(expressions, st.sampled_from(["float64", "float32"]))
def test_numpy_and_torch_agree_on_nodes_and_numbers(source, dtype):
    nb, tb, w = both(source, dtype)
    na, ta = nb.nodes(w), tb.nodes(w)
    assume(all(np.all(np.isfinite(n.value)) and (n.grad is None or np.all(np.isfinite(n.grad)))
               for n in ta))
    rel = 1e-12 if dtype == "float64" else 1e-5
    assert [(n.id, n.op, n.label, n.inputs, n.shape) for n in na] == \
           [(n.id, n.op, n.label, n.inputs, n.shape) for n in ta]
    for a, b in zip(na, ta):
        assert a.value.dtype == b.value.dtype == np.dtype(dtype), a.label
        assert close(a.value, b.value, rel), (a.label, a.value, b.value)
        assert (a.grad is None) == (b.grad is None), a.label
        if a.grad is not None:
            assert close(a.grad, b.grad, rel), (a.label, a.grad, b.grad)
    # the hot path gives the same numbers as the full graph
    loss, grad = nb.loss_and_grad(w)
    tloss, tgrad = tb.loss_and_grad(w)
    assert close(loss, tloss, rel) and close(grad, tgrad, rel)


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


def test_document_backprop_x_squared():
    """x = 1, y = x**2, y.backward(): x.grad is 2, on both backends, with torch's PowBackward0."""
    params = (("x", F(1)),)
    nb, tb, w = both("x**2", params=params)
    for nodes in (nb.nodes(w), tb.nodes(w)):
        assert [n.op for n in nodes] == ["param", "const", "pow"]
        assert float(nodes[-1].value) == 1.0
        assert float(nodes[0].grad) == 2.0
    assert tb.nodes(w)[-1].grad_fn == "PowBackward0"


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

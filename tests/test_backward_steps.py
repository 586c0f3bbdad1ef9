"""The backward pass edge by edge (gdtutor/backward_steps.py): each node's shares, folded with
`+`, are exactly the backend's gradient; each share is what torch's autograd gives for that
edge; and the text of a step reads as the lessons write it."""
from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from expressions import PARAMS, close, expressions, lesson_of
from gdtutor.backend import build_plan, initial_weights
from gdtutor.backward_steps import backward_steps, node_names, step_lines
from gdtutor.catalog import builtin, resolve
from gdtutor.errors import ExprError, NotFinite
from gdtutor.numbers import fmt_vec
from gdtutor.numpy_backend import NumpyBackend


def graph_at_start(lesson, dtype=None):
    backend = NumpyBackend(lesson, dtype or lesson.dtype)
    return backend.nodes(backend.weights(initial_weights(lesson)))


def assert_shares_sum_to_the_grads(nodes, names=()) -> None:
    """Folding each node's shares in the order given equals the backend's gradient exactly,
    and every node with a gradient has its step."""
    steps = backward_steps(nodes, names)
    by_id = {n.id: n for n in nodes}
    assert [s.id for s in steps] == [n.id for n in reversed(nodes) if n.grad is not None]
    for step in steps:
        expected = by_id[step.id].grad
        if not step.shares:
            assert step.id == nodes[-1].id
            total = np.ones_like(expected)
        else:
            total = step.shares[0].product
            for share in step.shares[1:]:
                total = total + share.product
        assert np.shape(total) == np.shape(expected), step.id
        if expected.dtype == object:
            assert np.all(np.asarray(total, dtype=object) == expected), (step.id, total, expected)
        else:
            assert np.asarray(total).dtype == expected.dtype, step.id
            assert np.array_equal(total, expected, equal_nan=True), (step.id, total, expected)
        assert np.array_equal(np.asarray(step.grad), expected,
                              equal_nan=expected.dtype != object)


@pytest.mark.parametrize("lesson", builtin(), ids=lambda lesson: lesson.id)
@pytest.mark.parametrize("dtype", ["exact", "float64", "float32"])
def test_shares_of_every_builtin_graph_sum_to_the_backends_grads(lesson, dtype):
    """Graph lessons at their inputs, descent lessons' losses at w0 (matmul, sum, broadcast)."""
    try:
        nodes = graph_at_start(lesson, dtype)
    except ExprError:
        pytest.skip("no exact value for this lesson")
    assert_shares_sum_to_the_grads(nodes, lesson.names)


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(expressions, st.sampled_from(["float64", "float32", "exact"]))
def test_shares_of_random_expressions_sum_to_the_backends_grads(source, dtype):
    try:
        nodes = graph_at_start(lesson_of(source, PARAMS, dtype))
    except (ExprError, NotFinite):
        assume(False)       # exp, sin ... have no exact value
    except AttributeError:
        # the exact backend itself fails to sum a broadcast scalar's gradient (numpy_ops
        # unbroadcast on Fractions, e.g. sum(v * x)): not this module's arithmetic
        assume(dtype != "exact")
        raise
    assert_shares_sum_to_the_grads(nodes)


# -- each share against torch ---------------------------------------------------------------

def torch_values(lesson):
    """Every node of the lesson's plan as a torch float64 tensor (parameters are leaves)."""
    torch = pytest.importorskip("torch")
    from gdtutor.torch_backend import FORWARD
    plan = build_plan(lesson.expression, [n for n, _ in lesson.params])
    given = dict(lesson.params)
    values = []
    for s in plan:
        if s.op == "param":
            arr = np.array(given[s.name], dtype=object).astype(np.float64)
            values.append(torch.tensor(arr, dtype=torch.float64, requires_grad=True))
        elif s.op == "const":
            values.append(int(s.value) if s.value.denominator == 1 else float(s.value))
        else:
            args = [values[a] for a in s.args]
            if s.op not in ("add", "sub", "mul", "div", "pow"):
                args = [a if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=torch.float64)
                        for a in args]
            values.append(FORWARD[s.op](*args))
    return plan, values


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_each_share_is_torchs_gradient_along_that_edge(source):
    """Each share is torch's vector-Jacobian product of the parent's op alone (its arguments
    detached: this one edge, not every path) with the share's upstream gradient."""
    torch = pytest.importorskip("torch")
    from gdtutor.torch_backend import FORWARD
    lesson = lesson_of(source, PARAMS, "float64")
    nodes = graph_at_start(lesson)
    assume(all(np.all(np.isfinite(n.value)) and (n.grad is None or np.all(np.isfinite(n.grad)))
               for n in nodes))
    plan, values = torch_values(lesson)
    index = {s.id: i for i, s in enumerate(plan)}
    count = 0
    for step in backward_steps(nodes):
        for share in step.shares:
            parent = plan[index[share.parent]]
            args = [values[a] for a in parent.args]
            args = [a.detach().requires_grad_() if isinstance(a, torch.Tensor)
                    else torch.tensor(a, dtype=torch.float64) for a in args]
            out = FORWARD[parent.op](*args)
            upstream = torch.tensor(np.array(share.upstream, dtype=np.float64))
            (expected,) = torch.autograd.grad(out, args[share.arg], grad_outputs=upstream)
            assert close(share.product, expected.numpy(), 1e-12), (share, expected)
            count += 1
    assert count >= sum(1 for n in nodes if n.grad is not None) - 1


# -- the lessons' own numbers ---------------------------------------------------------------

def lines_of(lesson_id: str) -> dict[str, list[str]]:
    lesson = resolve(lesson_id)
    nodes = graph_at_start(lesson)
    names = node_names(nodes, lesson.names)
    return {names[s.id]: step_lines(s, nodes, names, lambda v: fmt_vec(v, lesson.dtype))
            for s in backward_steps(nodes, lesson.names)}


def test_backprop_reads_as_the_tutorial():
    # y = x**2 at x = 1: ∂y/∂x = 2x = 2, the tutorial's tensor(2.)
    lines = lines_of("backprop")
    assert lines["y"] == ["∂y/∂y = 1"]
    assert lines["x"] == [f"∂y/∂x = ∂y/∂y · 2x = 1 · {2 * 1} = 2"]


def test_chain_rule_sums_the_two_shares_of_x():
    # f = x**3 + 2*x*y at x = 2, y = 3: 3x² = 12 along x**3, 2·y = 6 along 2*x
    x, y = 2, 3
    lines = lines_of("chain-rule")
    assert lines["x"] == [
        f"from x**3: ∂f/∂(x**3) · 3x² = 1 · {3 * x**2} = {3 * x**2}",
        f"from 2*x: ∂f/∂(2*x) · 2 = {y} · 2 = {2 * y}",
        f"∂f/∂x = {3 * x**2} + {2 * y} = {3 * x**2 + 2 * y}"]
    assert lines["y"] == [f"∂f/∂y = ∂f/∂(2*x*y) · (2*x) = 1 · {2 * x} = {2 * x}"]
    nodes = graph_at_start(resolve("chain-rule"))
    step = next(s for s in backward_steps(nodes) if s.id == "x")
    assert sorted(F(str(s.product[()])) for s in step.shares) == [2 * y, 3 * x**2]
    assert sorted(F(str(s.local_value[()])) for s in step.shares) == [2, 3 * x**2]


def test_a_matrix_product_shows_its_local_derivative_as_a_transpose():
    # worked example at w0 = 0: SSE = Σ(Xw − y)², ∂SSE/∂w = Xᵀ · 2(Xw − y) = −2·Σ x·y = −56
    lesson = resolve("worked-example")
    nodes = graph_at_start(lesson)
    step = next(s for s in backward_steps(nodes) if s.id == "w")
    (share,) = step.shares
    assert share.local == "Xᵀ" and share.local_value is None
    assert share.formula.format(g="g", l=share.local) == "Xᵀ · g"
    xs, ys = [1, 2, 3], [2, 4, 6]
    assert list(share.upstream) == [2 * (0 * x - t) for x, t in zip(xs, ys)]
    assert share.product[0] == -2 * sum(x * t for x, t in zip(xs, ys)) == -56


@pytest.mark.parametrize("source, local", [
    ("x**2", "2x"), ("x**3", "3x²"), ("x**(1/2)", "(1/2)x^(-1/2)"), ("x * 5", "5"),
    ("1 / x", "-1/x²"), ("x / 4", "1/4"), ("x - 1", "1"), ("1 - x", "-1"), ("-x", "-1"),
    ("exp(x)", "exp(x)"), ("sum(v * x)", "v"), ("mean(v) * x", "mean(v)"),
])
def test_local_derivatives_are_written_as_formulas(source, local):
    nodes = graph_at_start(lesson_of(source, PARAMS, "float64"))
    step = next(s for s in backward_steps(nodes) if s.id == "x")
    assert [s.local for s in step.shares] == [local]

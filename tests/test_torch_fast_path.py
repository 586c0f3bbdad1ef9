"""The torch backend's stepping path walks a chain-shaped autograd graph node by node instead of
calling the autograd engine (gdtutor.torch_backend._Chain): the same nodes, so the same numbers,
bit for bit; anything that is not such a chain goes to the engine."""
from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdtutor.backend import initial_weights
from gdtutor.expr import parse
from gdtutor.catalog import builtin, resolve, with_overrides
from gdtutor.model import Lesson
from gdtutor.stepper import Stepper

torch = pytest.importorskip("torch")
from gdtutor.torch_backend import TorchBackend, _Chain, _grad  # noqa: E402


def same(a, b) -> bool:
    """Equal bit for bit, NaN where NaN."""
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True) and \
        np.asarray(a).dtype == np.asarray(b).dtype


def stepped(lesson, walk: bool, steps: int, dtype: str):
    TorchBackend.walk_chains = walk
    try:
        s = Stepper(with_overrides(lesson, backend="torch", dtype=dtype, steps=steps))
        s.run()
    finally:
        TorchBackend.walk_chains = True
    return s, s._setting(0).backend


DESCENT = [lesson.id for lesson in builtin() if lesson.kind == "descent"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lesson_id", DESCENT)
def test_stepping_by_the_chain_equals_the_engine(lesson_id, dtype):
    lesson = resolve(lesson_id)
    steps = min(lesson.iterations, 600)
    a, backend = stepped(lesson, True, steps, dtype)
    b, _ = stepped(lesson, False, steps, dtype)
    assert a.computed == b.computed and a.diverged_at == b.diverged_at
    n, known = a.computed, a._known_loss
    assert same(a._w[:n + 1], b._w[:n + 1])
    assert same(a._loss[:known], b._loss[:known]) and same(a._grad[:known], b._grad[:known])
    assert backend._chain and backend._chain[0] is not None, "the lesson's graph is a chain"


def test_grad_descent_checkpoints_on_the_chain():
    s, backend = stepped(resolve("grad-descent"), True, 10000, "float32")
    assert backend._chain[0] is not None
    assert np.all(np.abs(s.weights_at(1000) - [1.0372, 0.9102]) <= 1e-4)
    w = s.weights_at(10000).astype(np.float32)
    X = np.array([[1, 1], [3, 1]], np.float32)
    r = X @ w - np.array([2, 4], np.float32)
    assert abs(float(r @ r) - 2.8518343e-10) <= 1e-10


# One vector parameter v (one leaf, used whole) and constants of other shapes, so that both
# chains and graphs the engine must take (v used twice, broadcasting) come up.
V = (F(1, 2), F(-1), F(2))
CONSTANTS = (("M", ((F(1), F(-1, 2), F(2)), (F(1, 4), F(3), F(-1)))),
             ("u", (F(-3, 2), F(1, 3), F(1))), ("c", F(3, 2)))


def lesson_of(source: str, dtype: str) -> Lesson:
    expression = parse(source, ["v", "M", "u", "c"])
    return Lesson(id="t", title=None, kind="graph", expression=expression, params=(("v", V),),
                  constants=CONSTANTS, dtype=dtype)


vector = st.recursive(
    st.sampled_from(["v", "v * c", "u * v", "v - u", "2 * v", "T(M) @ (M @ v)", "(M @ v) @ M"]),
    lambda c: st.one_of(
        st.tuples(st.sampled_from(["tanh({})", "sin({})", "exp(-abs({}))", "relu({})",
                                   "sigmoid({})", "-({})", "({})**2", "({})**3", "({}) / 3",
                                   "sqrt(1 + ({})**2)", "log(1 + abs({}))", "({}) + u",
                                   "M @ ({})", "c * ({})"]), c)
        .map(lambda t: t[0].format(t[1]) if "M @" not in t[0] else f"T(M) @ (M @ ({t[1]}))"),
        st.tuples(st.sampled_from(["({}) + ({})", "({}) * ({})"]), c, c)
        .map(lambda t: t[0].format(t[1], t[2]))),
    max_leaves=4)
expressions = st.one_of(vector.map(lambda e: f"sum({e})"), vector.map(lambda e: f"mean({e})"),
                        vector.map(lambda e: f"({e}) @ u"), vector.map(lambda e: f"sum({e}) / 4"),
                        st.just("sum(M * v)"), st.just("sum(v * v)"), st.just("sum(v) * sum(v)"))


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(expressions, st.sampled_from(["float64", "float32"]))
def test_hot_path_equals_the_engine_bit_for_bit(source, dtype):
    lesson = lesson_of(source, dtype)
    walked, engine = TorchBackend(lesson, dtype), TorchBackend(lesson, dtype)
    engine.walk_chains = False
    w = walked.weights(initial_weights(lesson))
    hot_a, hot_b = walked.hot(), engine.hot()
    for k in range(4):
        la, ga = hot_a(w)
        lb, gb = hot_b(w)
        assert same(la, lb) and same(ga, gb), (source, k, la, lb, ga, gb)
        w = (w - np.asarray(0.1, w.dtype) * ga).astype(w.dtype)
    assert engine._chain == [None]


def chain_of(source: str):
    lesson = lesson_of(source, "float64")
    backend = TorchBackend(lesson, "float64")
    backend.hot()(backend.weights(initial_weights(lesson)))
    return backend._chain[0]


def test_what_is_a_chain():
    assert chain_of("sum((M @ v - 1)**2)") is not None
    assert chain_of("mean(tanh(v) * u)") is not None
    assert chain_of("sum(v * v)") is None           # two edges into v: the engine adds them
    assert chain_of("sum(M * v)") is None           # broadcast: the engine reduces the gradient
    assert chain_of("sum(v * c)") is not None       # a 0-d constant broadcasts too, but not v


def graph(source: str, w):
    """out, leaf of one forward pass of source, as the backend would record it."""
    leaf = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    M = torch.tensor([[1, -0.5, 2], [0.25, 3, -1]], dtype=torch.float64)
    u = torch.tensor([-1.5, 1 / 3, 1], dtype=torch.float64)
    return eval(source, {"torch": torch, "M": M, "u": u, "v": leaf}), leaf


def test_a_graph_that_is_not_the_probed_chain_goes_to_the_engine():
    w = [0.5, -1.0, 2.0]
    seed = torch.ones((), dtype=torch.float64)
    out, leaf = graph("torch.sum(torch.tanh(M @ v))", w)
    chain, g = _Chain.probe(out, leaf, seed)
    assert chain is not None
    out, leaf = graph("torch.sum(torch.tanh(M @ v))", w)
    assert torch.equal(chain(out, leaf, seed), g)
    for other in ("torch.sum(torch.sin(M @ v))", "torch.sum(torch.tanh(v @ M.T))",
                  "torch.sum(torch.tanh(M @ v) * u[:2])"):
        out, leaf = graph(other, w)
        assert chain(out, leaf, seed) is None, other
        assert _grad(out, leaf, seed) is not None     # the graph is still there for the engine
    out, _ = graph("torch.sum(torch.tanh(M @ v))", w)
    assert chain(out, torch.tensor(w, dtype=torch.float64, requires_grad=True), seed) is None

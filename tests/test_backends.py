"""numpy and torch agree, node by node and number by number, on random expressions and on the
document's y = x**2 (needs torch; tests/test_numpy_backend.py checks numpy on its own)."""
from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from expressions import PARAMS, close, expressions, lesson_of
from gdtutor.backend import initial_weights
from gdtutor.numpy_backend import NumpyBackend

torch = pytest.importorskip("torch")
from gdtutor.torch_backend import TorchBackend  # noqa: E402


def both(source: str, dtype: str = "float64", params=PARAMS):
    lesson = lesson_of(source, params, dtype)
    nb, tb = NumpyBackend(lesson, dtype), TorchBackend(lesson, dtype)
    w = nb.weights(initial_weights(lesson))
    return nb, tb, w


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


def test_document_backprop_x_squared():
    """x = 1, y = x**2, y.backward(): x.grad is 2, on both backends, with torch's PowBackward0."""
    params = (("x", F(1)),)
    nb, tb, w = both("x**2", params=params)
    for nodes in (nb.nodes(w), tb.nodes(w)):
        assert [n.op for n in nodes] == ["param", "const", "pow"]
        assert float(nodes[-1].value) == 1.0
        assert float(nodes[0].grad) == 2.0
    assert tb.nodes(w)[-1].grad_fn == "PowBackward0"


def test_both_backends_define_every_op_of_the_language_and_nothing_else():
    from gdtutor import torch_backend
    from gdtutor.expr import FUNCTIONS, OPERATORS
    from gdtutor.numpy_ops import FORWARD
    language = set(OPERATORS) | {"neg"} | set(FUNCTIONS)
    assert set(FORWARD) == language
    assert set(torch_backend.FORWARD) == language

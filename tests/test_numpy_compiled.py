"""The numpy backend's compiled float path gives the readable engine's numbers bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expressions import expressions, lesson_of
from gdtutor.backend import initial_weights
from gdtutor.catalog import builtin, with_overrides
from gdtutor.numpy_backend import NumpyBackend

DESCENT = [item for item in builtin() if item.kind == "descent"]


def same_bits(backend: NumpyBackend, w) -> None:
    with np.errstate(all="ignore"):
        loss, grad = backend.loss_and_grad(w, checked=True)    # the readable engine
        fast_loss, fast_grad = backend.hot()(w)
    assert np.asarray(fast_loss).dtype == np.asarray(loss).dtype == backend.np_dtype
    assert np.asarray(fast_grad).dtype == grad.dtype == backend.np_dtype
    assert np.array_equal(fast_loss, loss, equal_nan=True), (fast_loss, loss)
    assert np.array_equal(fast_grad, grad, equal_nan=True), (fast_grad, grad)


def along_the_descent(backend: NumpyBackend, steps: int) -> list:
    """The weights of the lesson's first steps (by the readable engine), then some far off."""
    lesson = backend.lesson
    w = backend.weights(initial_weights(lesson))
    lr, scale = backend.np_dtype.type(float(lesson.lr)), backend.np_dtype.type(
        float(lesson.grad_scale))
    out = [w]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            w = w - lr * (scale * backend.loss_and_grad(w, checked=True)[1])
            out.append(w)
    rng = np.random.default_rng(7)
    out += [(rng.standard_normal(w.shape) * 10 ** e).astype(backend.np_dtype) for e in (-3, 0, 3)]
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("item", DESCENT, ids=lambda item: item.id)
def test_every_builtin_descent_lesson(item, dtype):
    backend = NumpyBackend(with_overrides(item, dtype=dtype), dtype)
    for w in along_the_descent(backend, 40):
        same_bits(backend, w)


# what the random expressions do not reach: other powers, a matrix parameter, constants only
SOURCES = ["x**0", "sum(v**0)", "x**(-1)", "sum(abs(v)**0.5)", "sum(v**3)", "x**2.5 + x**(1/3)",
           "sum(M @ v)", "sum(T(M) @ (M @ u))", "mean((M @ v)**2)",
           "v @ u", "sum(M * M) / 2", "2**x", "x**x",
           "sum(relu(v - 1) / (1 + exp(-u)))", "x * 0 + 3", "sqrt(x) + log(x)", "sum(T(M))"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("source", SOURCES)
def test_chosen_expressions(source, dtype):
    lesson = lesson_of(source, dtype=dtype)
    backend = NumpyBackend(lesson, dtype)
    w = backend.weights(initial_weights(lesson))
    for at in (w, w * backend.np_dtype.type(-1.5), w * 0):
        same_bits(backend, at)


@settings(max_examples=150, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(source=expressions, dtype=st.sampled_from(["float64", "float32"]),
       shift=st.floats(-2, 2, allow_nan=False))
def test_expressions(source, dtype, shift):
    lesson = lesson_of(source, dtype=dtype)
    backend = NumpyBackend(lesson, dtype)
    w = backend.weights(initial_weights(lesson))
    for at in (w, w + backend.np_dtype.type(shift)):
        same_bits(backend, at)
